package apply

import "time"

// Budget bounds the applies across the cluster: at most N within any Per,
// so that a bad plan cannot resize the whole cluster at once. N ≤ 0
// allows none.
type Budget struct {
	N   int
	Per time.Duration
	at  []time.Time // the applies within the last Per, oldest first
}

// Allow says whether one more apply fits at now.
func (b *Budget) Allow(now time.Time) bool {
	b.forget(now)
	return len(b.at) < b.N
}

// Take counts an apply at now.
func (b *Budget) Take(now time.Time) {
	b.forget(now)
	b.at = append(b.at, now)
}

// Next is when the next apply fits: now when it does already.
func (b *Budget) Next(now time.Time) time.Time {
	b.forget(now)
	if len(b.at) < b.N || len(b.at) == 0 {
		return now
	}
	return b.at[len(b.at)-b.N].Add(b.Per)
}

func (b *Budget) forget(now time.Time) {
	i := 0
	for i < len(b.at) && !b.at[i].After(now.Add(-b.Per)) {
		i++
	}
	b.at = append(b.at[:0], b.at[i:]...)
}
