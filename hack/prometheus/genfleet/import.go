package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// importer writes a fleet into VictoriaMetrics through /api/v1/import.
type importer struct {
	url   string
	jobs  int // requests at once
	chunk int // pod containers a request
	// progress, when set, gets a line per slice.
	progress io.Writer
}

// load writes the window slice by slice: the pod containers' samples up
// to a slice's end, chunk by chunk, jobs requests at once. A slice starts
// once the last one is written, so that every stream is drawn in time
// order. It returns the samples written.
func (im *importer) load(ctx context.Context, f *fleet, slice time.Duration) (int64, error) {
	var total int64
	for a := f.start; a.Before(f.end); a = a.Add(slice) {
		b := a.Add(slice)
		if b.After(f.end) {
			b = f.end
		}
		t := time.Now()
		n, err := im.slice(ctx, f, b.UnixMilli())
		if err != nil {
			return total, fmt.Errorf("slice %s to %s: %w", a.Format(time.RFC3339), b.Format(time.RFC3339), err)
		}
		total += n
		if im.progress != nil {
			d := time.Since(t)
			fmt.Fprintf(im.progress, "genfleet: %s to %s: %d samples in %s (%.0f/s)\n",
				a.Format(time.RFC3339), b.Format(time.RFC3339), n, d.Round(time.Second), float64(n)/d.Seconds())
		}
	}
	return total, nil
}

// slice writes every stream's samples up to until (Unix ms, inclusive).
func (im *importer) slice(ctx context.Context, f *fleet, until int64) (int64, error) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(im.jobs)
	var n atomic.Int64
	for i := 0; i < len(f.streams); i += im.chunk {
		streams := f.streams[i:min(i+im.chunk, len(f.streams))]
		g.Go(func() error {
			k, err := im.post(ctx, f, streams, until)
			n.Add(k)
			return err
		})
	}
	err := g.Wait()
	return n.Load(), err
}

// post streams one request: the streams' samples are drawn and encoded
// as the request body is sent, so a request holds a buffer's worth.
func (im *importer) post(ctx context.Context, f *fleet, streams []*stream, until int64) (int64, error) {
	pr, pw := io.Pipe()
	written := make(chan int64, 1)
	go func() {
		n, err := encodeStreams(pw, f, streams, until)
		written <- n
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, im.url+"/api/v1/import", pr)
	if err != nil {
		pr.Close()
		<-written
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	// VictoriaMetrics answers once it has read the whole body; an answer
	// before that is a failure, and closing the pipe stops the encoder.
	pr.CloseWithError(errors.New("import request ended"))
	n := <-written
	if err != nil {
		return n, fmt.Errorf("importing into victoria-metrics: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return n, fmt.Errorf("importing into victoria-metrics: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return n, nil
}

// encodeStreams writes the streams' samples up to until as JSON lines and
// returns how many it wrote.
func encodeStreams(w io.Writer, f *fleet, streams []*stream, until int64) (int64, error) {
	e := newEncoder(bufio.NewWriterSize(w, 256<<10), f)
	var smp samples
	for _, s := range streams {
		s.draw(f, until, &smp)
		e.stream(s, &smp)
	}
	return e.samples, e.w.Flush()
}
