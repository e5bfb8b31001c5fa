// Command parseloop is the floor the usage-file reader is measured
// against (docs/benchmarks.md, "Fleet scale"): it decompresses a usage
// file, splits each line at its commas and parses every timestamp and
// number, and does nothing else — no names checked or kept, no history,
// no recommendation. It prints how many rows and values it read, so that
// the work cannot be optimised away.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: parseloop FILE.csv.gz")
		os.Exit(2)
	}
	rows, values, sum, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "parseloop:", err)
		os.Exit(1)
	}
	fmt.Printf("%d rows, %d values, sum %g\n", rows, values, sum)
}

func run(path string) (rows, values int, sum float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	if zr, err := gzip.NewReader(r); err == nil {
		defer zr.Close()
		r = zr
	} else if _, serr := f.Seek(0, io.SeekStart); serr != nil {
		return 0, 0, 0, serr
	} else {
		r = bufio.NewReaderSize(f, 1<<20)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	// Which columns hold numbers: every one but the names.
	names := map[string]bool{"namespace": true, "kind": true, "workload": true, "pod": true, "container": true, "cluster": true}
	var numeric []bool
	for sc.Scan() {
		line := sc.Bytes()
		if numeric == nil {
			for _, h := range bytes.Split(line, []byte{','}) {
				numeric = append(numeric, !names[string(h)])
			}
			continue
		}
		rows++
		for i := 0; len(line) > 0; i++ {
			field := line
			if j := bytes.IndexByte(line, ','); j >= 0 {
				field, line = line[:j], line[j+1:]
			} else {
				line = nil
			}
			if i >= len(numeric) || !numeric[i] || len(field) == 0 {
				continue
			}
			v, err := strconv.ParseFloat(string(field), 64)
			if err != nil {
				return rows, values, sum, fmt.Errorf("row %d field %d: %w", rows, i, err)
			}
			sum += v
			values++
		}
	}
	return rows, values, sum, sc.Err()
}
