//go:build race

package vp8

// raceEnabled: the race detector makes sync.Pool drop some of what is put
// back, so pooled buffers are allocated again now and then.
const raceEnabled = true
