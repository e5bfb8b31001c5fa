package cost

import (
	"io"
	"testing"

	"rightsize.dev/rightsize/report"
)

// BenchmarkBuild measures the report's figures on the demo data (two
// weeks, 8 containers, 53,912 samples), plans excluded.
func BenchmarkBuild(b *testing.B) {
	in := demoInput(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite measures each format, charts included for HTML.
func BenchmarkWrite(b *testing.B) {
	r, err := Build(demoInput(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range report.CostOutput.List {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, r, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
