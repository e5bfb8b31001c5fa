// Command etcd is the etcd server built from the Go module proxy: the etcd root module cannot be
// installed with `go install` because of its replace directives, so this wrapper calls its main.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
