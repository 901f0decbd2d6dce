package rtcplug

import (
	"context"
	"testing"
)

// blockingCluster's Publish waits for release (or its context).
type blockingCluster struct {
	Cluster
	release chan struct{}
}

func (b blockingCluster) Publish(ctx context.Context, ev ClusterEvent) error {
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A cluster that does not take events never blocks put nor holds more than
// the queue's bound: the rest is dropped and counted.
func TestClusterQueueDropsWhenFull(t *testing.T) {
	bc := blockingCluster{release: make(chan struct{})}
	cr := &clusterRun{c: bc, quality: 75, q: make(chan clusterItem, clusterQueueItems), done: make(chan struct{})}
	go cr.run()
	const n = 3 * clusterQueueItems
	for i := 0; i < n; i++ {
		cr.put(clusterItem{ev: ClusterEvent{Kind: ClusterFrame, Data: make([]byte, 100)}})
	}
	if d := cr.dropped.Load(); d < n-clusterQueueItems-1 || d > n-clusterQueueItems {
		t.Fatalf("%d of %d dropped with a queue of %d", d, n, clusterQueueItems)
	}
	close(bc.release)
	stop(cr)
	if cr.bytes.Load() != 0 {
		t.Fatalf("%d bytes still counted", cr.bytes.Load())
	}

	// The bytes bound holds too: of eight events of a quarter of it each,
	// at most five are taken (one being published, four queued).
	bc = blockingCluster{release: make(chan struct{})}
	cr = &clusterRun{c: bc, quality: 75, q: make(chan clusterItem, clusterQueueItems), done: make(chan struct{})}
	go cr.run()
	big := make([]byte, clusterQueueBytes/4)
	for i := 0; i < 8; i++ {
		cr.put(clusterItem{ev: ClusterEvent{Kind: ClusterFrame, Data: big}})
	}
	if d := cr.dropped.Load(); d < 3 {
		t.Fatalf("%d of 8 large events dropped", d)
	}
	close(bc.release)
	stop(cr)
}

func stop(cr *clusterRun) {
	cr.mu.Lock()
	cr.closed = true
	close(cr.q)
	cr.mu.Unlock()
	<-cr.done
}
