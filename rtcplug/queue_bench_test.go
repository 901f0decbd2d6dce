package rtcplug

import (
	"sync/atomic"
	"testing"
)

// BenchmarkFrameQueue measures what OnFrame costs the peer's goroutine per
// frame: the copy into a pooled buffer and the hand-over (the callback runs
// on its own goroutine). Steady state allocates nothing.
func BenchmarkFrameQueue(b *testing.B) {
	var peerDrops, pluginDrops atomic.Uint64
	var n atomic.Int64
	q := newQueue(func(f Frame) { n.Add(int64(len(f.Data))) }, func(f *Frame, d []byte) { f.Data = d }, &peerDrops, &pluginDrops)
	frame := make([]byte, 1200)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		q.put(Frame{Conference: "c", Peer: "p", Codec: "VP8", RTPTime: 1}, frame)
	}
	q.close()
	q.wait()
}
