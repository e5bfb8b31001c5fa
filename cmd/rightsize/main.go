// Command rightsize tells how big Kubernetes containers should be.
package main

import (
	"os"

	"rightsize.dev/rightsize/cmd/rightsize/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], app.StdStreams()))
}
