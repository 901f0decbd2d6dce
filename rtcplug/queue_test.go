package rtcplug

import (
	"sync/atomic"
	"testing"
)

// A callback that blocks never blocks put: what does not fit is dropped and
// counted in both counters, and what was queued is delivered in order.
func TestQueueDropsWhenFull(t *testing.T) {
	release := make(chan struct{})
	var got []int
	var peerDrops, pluginDrops atomic.Uint64
	q := newQueue(func(f Frame) {
		if len(got) == 0 {
			<-release
		}
		got = append(got, int(f.RTPTime))
	}, func(f *Frame, b []byte) { f.Data = b }, &peerDrops, &pluginDrops)
	const n = 2 * queueItems
	for i := range n {
		q.put(Frame{RTPTime: uint32(i)}, []byte{byte(i)})
	}
	close(release)
	q.close()
	q.wait()
	dropped := int(peerDrops.Load())
	if dropped == 0 || uint64(dropped) != pluginDrops.Load() || len(got)+dropped != n || len(got) < queueItems {
		t.Fatalf("%d delivered, %d/%d dropped", len(got), dropped, pluginDrops.Load())
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("delivered out of order: %v", got[:i+1])
		}
	}
}

// The byte bound holds too: one huge frame more than fits is dropped.
func TestQueueByteBound(t *testing.T) {
	release := make(chan struct{})
	var peerDrops, pluginDrops atomic.Uint64
	q := newQueue(func(f Frame) { <-release }, func(f *Frame, b []byte) { f.Data = b }, &peerDrops, &pluginDrops)
	big := make([]byte, queueBytes/2+1)
	for range 4 {
		q.put(Frame{}, big)
	}
	close(release)
	q.close()
	q.wait()
	if peerDrops.Load() == 0 {
		t.Fatal("16 MiB bound not enforced")
	}
}
