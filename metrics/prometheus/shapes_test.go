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

// TestQueriesFitVictoriaMetricsLimit collects a namespace of 600 pods
// with long names, read in lists of pods, whose one list would make a
// query of some 35 KB: every query stays within VictoriaMetrics' default
// -search.maxQueryLen (16 KB) on either engine's forms, and every pod is
// read.
func TestQueriesFitVictoriaMetricsLimit(t *testing.T) {
	var pods []string
	for i := range 600 {
		pods = append(pods, fmt.Sprintf("checkout-frontend-with-a-rather-long-name-5d8f9c7b6-%05d", i))
	}
	for _, victoria := range []bool{false, true} {
		longest, which := 0, ""
		srv := fakeProm(t, pods, func(w http.ResponseWriter, f fakeRequest) bool {
			if victoria {
				w.Header().Set("X-Server-Hostname", "vmselect-0")
			}
			if q := f.form.Get("query"); len(q) > longest {
				longest, which = len(q), q
			}
			return false
		})
		res, err := Collect(context.Background(), fakeOptions(srv.URL), nil, nil)
		require.NoError(t, err)
		assert.Equal(t, len(pods), res.Series)
		assert.LessOrEqual(t, longest, 16384, "victoria %v", victoria)
		t.Logf("victoria %v: longest query %d bytes, %d queries: %.120s", victoria, longest, res.Queries, which)
	}
}
