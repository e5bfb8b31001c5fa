package usagecsv

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"testing"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// benchFile returns a usage file of about rows rows: containers sampled
// every 5 minutes, in time order, the way an export from a metrics store
// lists them.
func benchFile(tb testing.TB, rows, containers int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < rows; i++ {
		step, c := i/containers, i%containers
		h := float64(step%288) / 288
		row := Row{
			Key: workload.ContainerKey{
				Workload:  workload.Key{Namespace: fmt.Sprintf("team-%d", c%7), Kind: workload.Deployment, Name: fmt.Sprintf("svc-%d", c/3)},
				Container: []string{"app", "sidecar"}[c%2],
			},
			Sample: workload.Sample{
				Time:      start.Add(time.Duration(step) * 5 * time.Minute),
				Pod:       fmt.Sprintf("svc-%d-7d9f8c6b5-x%04d", c/3, c),
				CPU:       workload.Cores(math.Round((0.1+0.3*h+float64(c%13)/100)*1e4) / 1e4),
				HasCPU:    true,
				Memory:    workload.Bytes(200<<20 + (c%50)<<20 + step%97*4096),
				HasMemory: true,
				Settings: workload.Settings{
					Requests: workload.Resources{CPU: 500, Memory: 512 << 20},
					Limits:   workload.Resources{CPU: 1000, Memory: 1 << 30},
				},
				Throttled:    float64(step%10) / 100,
				HasThrottled: true,
			},
		}
		if err := w.Write(row); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkReader(b *testing.B) {
	const rows = 200_000
	plain := benchFile(b, rows, 1000)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(plain)
	zw.Close()
	for _, bc := range []struct {
		name string
		data []byte
	}{{"plain", plain}, {"gzip", zipped.Bytes()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(plain)))
			n := 0
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(bc.data), "bench.csv")
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := r.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(rows), "rows/op")
		})
	}
}

// BenchmarkSplitVersusEncodingCSV is why the reader splits records itself:
// encoding/csv, even reusing its record, allocates a string per field.
func BenchmarkSplitVersusEncodingCSV(b *testing.B) {
	plain := benchFile(b, 200_000, 1000)
	b.Run("splitter", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			sp := &splitter{br: bufio.NewReader(bytes.NewReader(plain))}
			for {
				if _, err := sp.next(); err != nil {
					if err == io.EOF {
						break
					}
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("encoding-csv", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(plain))
			r.ReuseRecord = true
			for {
				if _, err := r.Read(); err != nil {
					if err == io.EOF {
						break
					}
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkLoad reads a file into a store, rows in time order across
// 10,000 containers (as a fleet's export lists them): every row goes to
// another series than the row before it.
func BenchmarkLoad(b *testing.B) {
	const rows = 1_000_000
	plain := benchFile(b, rows, 10_000)
	b.ReportAllocs()
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		st, _, err := Load(bytes.NewReader(plain), "bench.csv")
		if err != nil {
			b.Fatal(err)
		}
		if st.Samples() != rows {
			b.Fatalf("%d samples, want %d", st.Samples(), rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
