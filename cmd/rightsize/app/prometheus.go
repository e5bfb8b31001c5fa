package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/pflag"
)

// promFlags will carry the Prometheus connection flags; until the collector
// exists no flag is registered and the source is never enabled.
type promFlags struct{}

func (p *promFlags) addFlags(*pflag.FlagSet) {}
func (p *promFlags) enabled() bool           { return false }
func (p *promFlags) validate() error         { return nil }
func (p *promFlags) load(context.Context, time.Time, time.Duration, IOStreams, *slog.Logger) (*usageData, error) {
	return nil, errors.New("prometheus source not available")
}
