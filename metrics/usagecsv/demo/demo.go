package demo

import (
	"bytes"
	_ "embed" // for the dataset
	"io"

	"rightsize.dev/rightsize/recommender/workload"
)

//go:generate go run ./gen -out demo.csv.gz

//go:embed demo.csv.gz
var data []byte

// Name stands for the demo file in messages.
const Name = "demo"

// Description says what the demo data is, in one line.
const Description = "embedded demo data: shop namespace, 14 days at 5-minute steps"

// Open returns a reader over the gzipped demo file.
func Open() io.Reader { return bytes.NewReader(data) }

// Critical returns the workloads the demo marks critical: the database.
func Critical() []workload.Key {
	return []workload.Key{{Namespace: "shop", Kind: workload.StatefulSet, Name: "orders-db"}}
}
