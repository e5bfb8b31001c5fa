// Package gen generates the demo dataset: a small shop modelled container by
// container, with the requests and limits a team might have set by hand.
//
// The output is a pure function of this code: a fixed seed, a fixed start, a
// gzip header without a modification time. The demo package's tests check
// that the embedded file is exactly what Write produces, so the two cannot
// drift apart.
package gen
