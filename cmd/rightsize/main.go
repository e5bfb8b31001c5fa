// Command rightsize tells how big Kubernetes containers should be.
package main

import (
	"os"
	"path/filepath"

	"rightsize.dev/rightsize/cmd/rightsize/app"
)

func main() {
	os.Exit(app.Main(filepath.Base(os.Args[0]), os.Args[1:], app.StdStreams()))
}
