package prometheus

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// shapeMatrix answers a shape query: for each pod, each level's series
// with the level (× 0.5 cores) at every hour asked for.
func shapeMatrix(f fakeRequest, pods []string) string {
	var parts []string
	for _, p := range pods {
		for _, l := range shapeLevelStrings(time.Minute) {
			x, _ := strconv.ParseFloat(l, 64)
			var vals []string
			for _, t := range f.steps() {
				vals = append(vals, fmt.Sprintf(`[%d,"%g"]`, t, x/2))
			}
			parts = append(parts, fmt.Sprintf(`{"metric":{"namespace":"shop","pod":%q,"container":"app","rightsize_quantile":%q},"values":[%s]}`,
				p, l, strings.Join(vals, ",")))
		}
	}
	return `{"status":"success","data":{"resultType":"matrix","result":[` + strings.Join(parts, ",") + `]}}`
}

// TestCollectShapes reads a window in several chunks: the shapes of its
// two whole hours (10:00–11:00, 11:00–12:00) are asked for with every
// chunk and kept once each; a server with no short-window rates is asked
// once.
func TestCollectShapes(t *testing.T) {
	for _, tc := range []struct {
		name          string
		rates         bool
		everyChunk    bool
		wantShapes    int
		summaryNeedle string
	}{
		{"rates", true, true, 2, "(CPU percentiles of 1m rates for 1)"},
		{"no rates", false, false, 0, "(no 1m CPU rates: scraped less often?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			queries, chunks := 0, 0
			var hours [][2]string
			srv := fakeProm(t, []string{"web-1"}, func(w http.ResponseWriter, f fakeRequest) bool {
				if f.cpu() {
					chunks++
				}
				if !f.shape() {
					return false
				}
				queries++
				hours = append(hours, [2]string{f.form.Get("start"), f.form.Get("end")})
				assert.Equal(t, "3600", f.form.Get("step"))
				if !tc.rates {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, shapeMatrix(f, []string{"web-1"}))
				return true
			})
			o := fakeOptions(srv.URL)
			o.MaxPoints = 6 // a few steps a chunk
			res, err := Collect(context.Background(), o, nil, nil)
			require.NoError(t, err)
			assert.Empty(t, res.Skipped)
			require.Greater(t, chunks, 2)
			if tc.everyChunk {
				assert.Equal(t, chunks, queries, "shape queries: %v", hours)
			} else {
				assert.Equal(t, 1, queries, "shape queries: %v", hours)
			}
			assert.Contains(t, res.Summary(), tc.summaryNeedle)
			k := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Pod, Name: "web-1"}, Container: "app"}
			series := res.Store.Series(k)
			require.Len(t, series, 1)
			require.Len(t, series[0].Shapes, tc.wantShapes)
			for i, sh := range series[0].Shapes {
				assert.Equal(t, fakeEnd.Add(time.Duration(i-1)*time.Hour).UnixMilli(), sh.End)
				assert.Equal(t, float32(0.5), sh.Q[history.ShapePoints-1])
			}
		})
	}
}
