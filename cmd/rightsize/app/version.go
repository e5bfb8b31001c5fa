package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"rightsize.dev/rightsize/internal/buildinfo"
	"rightsize.dev/rightsize/report"
)

// Version is the release, set at build time (make build does):
//
//	go build -ldflags "-X rightsize.dev/rightsize/cmd/rightsize/app.Version=v1.2.3"
//
// Left empty, the version is the main module's from the build information
// (go install rightsize.dev/rightsize/cmd/rightsize@v1.2.3 records it), else
// "dev".
var Version string

var versionOutput = report.Formats{Noun: "output", List: []report.Format{report.Table, report.JSON}}

func newVersionCommand(streams IOStreams) *cobra.Command {
	output := string(report.Table)
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Long: `version prints the release, the commit built and its time (with
"modified" when the tree held uncommitted changes), the Go version and
platform, and the version of the Kubernetes client library (client-go).`,
		Example: `  rightsize version
  rightsize version -o json`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			f, err := versionOutput.Parse(output)
			if err != nil {
				return usageError{err}
			}
			v := buildinfo.Current(Version)
			if f == report.JSON {
				return v.WriteJSON(streams.Out)
			}
			_, err = fmt.Fprintln(streams.Out, v)
			return err
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", output, "output format: "+joinFormats(versionOutput.List))
	return cmd
}
