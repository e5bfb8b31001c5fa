// Package hpafile is the offline HPA file as a usage source's companion:
// Source wraps any recommender.Source and replaces the HPAs it reports with
// those the file holds (metrics/hpaobject reads and checks them).
package hpafile

import (
	"context"
	"fmt"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/metrics/hpaobject"
	"rightsize.dev/rightsize/recommender"
)

// Source is a usage source whose HPAs come from a file: they replace what
// the source found (its HPAs and those among its cluster bounds), and the
// file makes them known even for a usage file or the demo. The file is
// read before the history, so that a missing one fails before a long load;
// objects it cannot read become warnings naming the file, the document and
// the field.
type Source struct {
	recommender.Source
	Path string
}

// Load implements recommender.Source.
func (s Source) Load(ctx context.Context, report progress.Func) (*recommender.Data, error) {
	hpas, skipped, err := hpaobject.ReadFile(s.Path)
	if err != nil {
		return nil, fmt.Errorf("--hpa: %w", err)
	}
	d, err := s.Source.Load(ctx, report)
	if err != nil {
		return nil, err
	}
	d.HPAs, d.HPAsKnown = hpas, true
	if d.Bounds != nil {
		b := *d.Bounds
		b.HPAs = hpas
		d.Bounds = &b
	}
	noun := "HPAs"
	if len(hpas) == 1 {
		noun = "HPA"
	}
	d.Summary += fmt.Sprintf("; %d %s from %s", len(hpas), noun, untrusted.Escape(s.Path))
	for _, e := range skipped {
		d.Warnings = append(d.Warnings, "skipped HPA: "+e.Error())
	}
	return d, nil
}
