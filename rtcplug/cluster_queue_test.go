package rtcplug

import (
	"context"
	"sync"
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
	cr := newTestRun(bc)
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
	cr = newTestRun(bc)
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
	close(cr.sq)
	cr.mu.Unlock()
	<-cr.done
}

func newTestRun(c Cluster) *clusterRun {
	return &clusterRun{c: c, quality: 75, q: make(chan clusterItem, clusterQueueItems),
		sq: make(chan clusterItem, clusterStateItems), done: make(chan struct{})}
}

// recordingCluster records what it is given, in order; Publish waits for
// release first.
type recordingCluster struct {
	Cluster
	release chan struct{}
	mu      sync.Mutex
	got     []string
}

func (r *recordingCluster) Publish(ctx context.Context, ev ClusterEvent) error {
	<-r.release
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Kind == ClusterState {
		r.got = append(r.got, string(ev.State))
	}
	return nil
}

func (r *recordingCluster) Leave(conf, peer string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, "leave")
}

// A full queue of frames drops frames, never a state event nor a leave;
// those go first, and Leave comes after the peer's closed event.
func TestClusterStateBeforeFrames(t *testing.T) {
	rc := &recordingCluster{release: make(chan struct{})}
	cr := newTestRun(rc)
	go cr.run()
	for i := 0; i < 2*clusterQueueItems; i++ {
		cr.put(clusterItem{ev: ClusterEvent{Kind: ClusterFrame, Data: make([]byte, 10)}})
	}
	dropped := cr.dropped.Load()
	cr.put(clusterItem{ev: ClusterEvent{Kind: ClusterState, State: StateClosed}})
	cr.leave("c", "p")
	if cr.dropped.Load() != dropped {
		t.Fatal("a state event was dropped behind frames")
	}
	close(rc.release)
	stop(cr)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 2 || rc.got[0] != string(StateClosed) || rc.got[1] != "leave" {
		t.Fatalf("got %v, want [closed leave]", rc.got)
	}
}
