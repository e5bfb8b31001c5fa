// Command gen writes the demo dataset:
//
//	go run ./metrics/usagecsv/demo/gen -out metrics/usagecsv/demo/demo.csv.gz
//
// The output is the same on every run.
package main
