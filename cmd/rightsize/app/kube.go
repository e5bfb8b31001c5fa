package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"rightsize.dev/rightsize/metrics/cluster"
)

// The values of --source.
const (
	sourceAuto          = "auto"
	sourceFile          = "file"
	sourcePrometheus    = "prometheus"
	sourceMetricsServer = "metrics-server"
	sourceDemo          = "demo"
)

var sources = []string{sourceAuto, sourceFile, sourcePrometheus, sourceMetricsServer, sourceDemo}

// kubeFlags are the cluster flags and the choice of the usage source.
type kubeFlags struct {
	*cluster.Flags
	Source string
}

func newKubeFlags() *kubeFlags { return &kubeFlags{Flags: cluster.NewFlags(), Source: sourceAuto} }

// addFlags registers the cluster flags, --source and --state-dir.
func (k *kubeFlags) addFlags(fs *pflag.FlagSet) {
	k.AddFlags(fs)
	fs.StringVar(&k.Source, "source", k.Source, "usage source: "+strings.Join(sources, "|")+"; auto picks --input, then --prometheus-url, then a configured cluster (metrics-server), then the demo data")
}

// validate checks the flags against the other sources' flags.
func (k *kubeFlags) validate(hasInput, hasProm bool) error {
	_, err := k.choose(hasInput, hasProm)
	return err
}

// choose resolves --source against the other flags.
func (k *kubeFlags) choose(hasInput, hasProm bool) (string, error) {
	var errs []error
	if k.Duration < 0 {
		errs = append(errs, errors.New("--duration must not be negative"))
	}
	if k.Interval <= 0 {
		errs = append(errs, errors.New("--interval must be positive"))
	}
	src := k.Source
	switch src {
	case sourceAuto:
		switch {
		case hasInput:
			src = sourceFile
		case hasProm:
			src = sourcePrometheus
		case k.Configured():
			src = sourceMetricsServer
		default:
			src = sourceDemo
		}
	case sourceFile:
		if !hasInput {
			errs = append(errs, errors.New("--source file needs --input"))
		}
	case sourcePrometheus:
		if !hasProm {
			errs = append(errs, errors.New("--source prometheus needs --prometheus-url"))
		}
	case sourceMetricsServer, sourceDemo:
		if hasInput {
			errs = append(errs, fmt.Errorf("--source %s and --input exclude each other", src))
		}
	default:
		errs = append(errs, fmt.Errorf("--source %q: want one of %s", src, strings.Join(sources, ", ")))
	}
	return src, errors.Join(errs...)
}
