package prometheus

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"rightsize.dev/rightsize/recommender/history"
)

// CPU shapes: each hour's quantiles of the CPU rates over
// Options.CPUResolution, computed by the server (history.CPUShape). The
// steps' means stay what the HPA loads and the windows read; the shapes
// give the CPU histogram the short windows' percentiles, in a few points
// an hour however often the server scraped.

// shapeHours are the hours whose shapes a collection may read: their ends,
// on multiples of history.ShapeSpan since the epoch, from first to last.
// An hour counts only where it lies within the window a collection reads,
// so that no shape holds usage from outside it.
type shapeHours struct {
	first, last int64 // Unix ms; first > last: none
}

// hoursWithin returns the hours that lie within window w's steps: each
// step covers the step before it.
func hoursWithin(w window) shapeHours {
	h := history.ShapeSpan.Milliseconds()
	from := w.at(0).Add(-w.step).UnixMilli()
	return shapeHours{first: ceilDiv(from, h)*h + h, last: floorDiv(w.last().UnixMilli(), h) * h}
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// of returns the hours that the samples of steps [start, end] lie in.
func (s shapeHours) of(start, end time.Time) (first, last int64, ok bool) {
	h := history.ShapeSpan.Milliseconds()
	first = max(ceilDiv(start.UnixMilli(), h)*h, s.first)
	last = min(ceilDiv(end.UnixMilli(), h)*h, s.last)
	return first, last, first <= last
}

// hours reports whether the chunk holds whole hours whose shapes it read.
func (ch chunk) hours(c *collector) bool {
	_, _, ok := c.shapeHours.of(c.w.at(ch.start), c.w.at(ch.end-1))
	return ok
}

// shapeLevels maps a level's label value to the shape's values at that
// level, a bit each (a small hour's levels repeat).
func shapeLevels(v model.LabelValue, levels [history.ShapePoints]float64) uint16 {
	l, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0
	}
	var bits uint16
	for i, x := range levels {
		// The server may print a level in fewer digits.
		if math.Abs(x-l) <= 1e-9 {
			bits |= 1 << i
		}
	}
	return bits
}

// shapeParts gathers a shape's levels as they come, one series per level.
type shapeParts struct {
	sh   history.CPUShape
	have uint16 // a bit per level
}

const allLevels = 1<<history.ShapePoints - 1

// readChunkShapes reads the CPU shapes of the hours the chunk's samples
// lie in. A shape query the server finds too large is read again an hour
// range at a time in halves; one it still refuses leaves those hours to the
// steps' means, and says so. Shapes of hours another chunk reads too are
// kept once (history.Store.Finalize).
func (c *collector) readChunkShapes(ctx context.Context, sc chunkScope, d *chunkData) error {
	first, last, ok := c.shapeHours.of(sc.start, sc.end)
	if !ok {
		return nil
	}
	return c.readShapes(ctx, sc, d, first, last)
}

func (c *collector) readShapes(ctx context.Context, sc chunkScope, d *chunkData, first, last int64) error {
	var m model.Matrix
	var err error
	for _, q := range c.p.cpuShape(sc.gm, c.o.CPUResolution) {
		var part model.Matrix
		part, err = c.q.queryRange(ctx, "reading cpu shapes", q, time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC(), history.ShapeSpan)
		if err != nil {
			break
		}
		m = append(m, part...)
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrUnreachable) || ctx.Err() != nil:
		return err
	case (errors.Is(err, ErrTooLarge) || errors.Is(err, ErrResponseTooLarge)) && last > first:
		h := history.ShapeSpan.Milliseconds()
		mid := first + (last-first)/h/2*h
		if err := c.readShapes(ctx, sc, d, first, mid); err != nil {
			return err
		}
		return c.readShapes(ctx, sc, d, mid+h, last)
	default:
		c.skip(skipShapes, int((last-first)/history.ShapeSpan.Milliseconds())+1)
		c.log.Debug("cpu shapes not read", "chunk", sc.ch.name(c.w), "error", err)
		return nil
	}
	parts := map[podSeries]map[int64]*shapeParts{}
	invalid := 0
	n := shapeWindows(c.o.CPUResolution)
	levels := history.ShapeLevels(n)
	for _, ss := range m {
		s := seriesOf(model.LabelSet(ss.Metric), sc.cl)
		bits := shapeLevels(ss.Metric[shapeLabel], levels)
		if !s.valid() || bits == 0 {
			invalid += len(ss.Values)
			continue
		}
		byHour := parts[s]
		if byHour == nil {
			byHour = map[int64]*shapeParts{}
			parts[s] = byHour
		}
		for _, sp := range ss.Values {
			t, v := int64(sp.Timestamp), float64(sp.Value)
			if t < first || t > last || t%history.ShapeSpan.Milliseconds() != 0 || !(v >= 0) || v > math.MaxFloat32 {
				invalid++
				continue
			}
			p := byHour[t]
			if p == nil {
				p = &shapeParts{sh: history.CPUShape{End: t, N: uint16(n)}}
				byHour[t] = p
			}
			for i := range history.ShapePoints {
				if bits&(1<<i) != 0 {
					p.sh.Q[i] = float32(v)
				}
			}
			p.have |= bits
		}
	}
	for s, byHour := range parts {
		for _, p := range byHour {
			// A shape lacks a level only in a hostile or broken answer;
			// quantiles out of order likewise.
			if p.have != allLevels || !p.sh.Valid() {
				invalid++
				continue
			}
			d.shapes[s] = append(d.shapes[s], p.sh)
		}
	}
	c.skip(skipInvalid, invalid)
	return nil
}
