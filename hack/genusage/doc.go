// Command genusage writes a large synthetic usage file for load tests:
//
//	go run ./hack/genusage -containers 1000 -days 7 -step 5m -out /tmp/usage-2m.csv.gz
//
// That is about 2,000,000 rows: containers of workloads in several
// namespaces, each with a daily cycle, noise and the odd spike, and the
// requests and limits recorded for it. Rows come in time order with all
// containers interleaved, as an export from a metrics store lists them. The
// same flags always give the same file.
package main
