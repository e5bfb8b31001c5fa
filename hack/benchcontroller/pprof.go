package main

import (
	"errors"
	"flag"
	"net"
	"net/http"
	_ "net/http/pprof" // on http.DefaultServeMux, served on -pprof only
	"os"

	"rightsize.dev/rightsize/cmd/rightsize/app"
)

// controllerWithPprof runs `rightsize controller ARGS` in this process, with
// net/http/pprof on its own loopback address.
func controllerWithPprof(args []string) error {
	fs := flag.NewFlagSet("controller", flag.ExitOnError)
	addr := fs.String("pprof", "127.0.0.1:0", "address of /debug/pprof/")
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		return errors.New("controller: want -pprof ADDR -- <rightsize controller flags>")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	go http.Serve(ln, nil) //nolint:errcheck // lives as long as the process
	os.Exit(app.Main("rightsize", append([]string{"controller"}, fs.Args()...), app.StdStreams()))
	return nil
}
