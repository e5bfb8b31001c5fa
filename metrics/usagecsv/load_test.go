package usagecsv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	in := "timestamp,namespace,kind,workload,pod,container,cpu_cores\n" +
		"1700000300,ns,Deployment,web,web-1,app,0.2\n" +
		"1700000000,ns,Deployment,web,web-1,app,0.1\n" +
		"1700000300,ns,Deployment,web,web-1,app,0.9\n" + // duplicate: the first stays
		"1700000000,ns,Deployment,web,web-2,app,0.3\n"
	st, stats, err := Load(strings.NewReader(in), "usage.csv")
	require.NoError(t, err)
	assert.Equal(t, 3, st.Samples())
	assert.Equal(t, 4, stats.Read)
	assert.Equal(t, 3, stats.Used)
	assert.Equal(t, map[string]int{SkipDuplicate: 1}, stats.Skipped)
	series := st.Series(st.Containers()[0])
	require.Len(t, series, 2)
	assert.Equal(t, []float64{0.1, 0.2}, series[0].CPU, "sorted by time, first duplicate kept")

	_, _, err = Load(strings.NewReader("timestamp,namespace\n"), "bad.csv")
	assert.ErrorContains(t, err, "bad.csv:1")
	_, _, err = Load(strings.NewReader(in+"oops,ns,Deployment,web,web-1,app,0.1\n"), "usage.csv")
	assert.ErrorContains(t, err, "usage.csv:6")
}
