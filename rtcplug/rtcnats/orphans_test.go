package rtcnats_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nutsbolts/webrtc/rtcplug"
	"github.com/nutsbolts/webrtc/rtcplug/rtcnats"
)

// bareNode is a Cluster attached to no plugin, on its own connection.
func bareNode(t *testing.T, url, name string) (*rtcnats.Cluster, *nats.Conn) {
	t.Helper()
	nc := connectNATS(t, url, name)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := rtcnats.New(ctx, js, rtcnats.Config{Node: name, TTL: time.Second, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Attach(rtcplug.ClusterNode{
		Command: func(rtcplug.ClusterCommand) error { return rtcplug.ErrNoPeer },
		Peers:   func() []rtcplug.PeerInfo { return nil }}); err != nil {
		t.Fatal(err)
	}
	return cl, nc
}

func admit(t *testing.T, cl *rtcnats.Cluster, peer string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Admit(ctx, rtcplug.ClusterMember{Conference: "c", Peer: peer, Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// closedEvents reads the closed events of peer stored in the stream, with
// the reporter of each ("" for the owner).
func closedEvents(t *testing.T, js jetstream.JetStream, peer string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, rtcnats.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{rtcnats.SubjectPrefix + ".c." + peer + ".state"}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if n := int(info.NumPending); n > 0 {
		msgs, err := cons.FetchNoWait(n)
		if err != nil {
			t.Fatal(err)
		}
		for m := range msgs.Messages() {
			var st rtcnats.StateBody
			if json.Unmarshal(m.Data(), &st) == nil && st.State == rtcplug.StateClosed {
				out = append(out, m.Headers().Get(rtcnats.HeaderReporter))
			}
		}
	}
	return out
}

// A peer that leaves without its closed event published (the plugin
// dropped it) is reported by Leave; one that had it is not reported again.
func TestLeaveReportsUnpublishedClosed(t *testing.T) {
	ns := startNATS(t)
	cl, nc := bareNode(t, ns.url(), "a")
	js, _ := jetstream.New(nc)
	admit(t, cl, "p1")
	admit(t, cl, "p2")
	cl.Leave("c", "p1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Publish(ctx, rtcplug.ClusterEvent{Kind: rtcplug.ClusterState, Conference: "c", Peer: "p2",
		Time: time.Now(), State: rtcplug.StateClosed}); err != nil {
		t.Fatal(err)
	}
	cl.Leave("c", "p2")
	cl.Detach() // the writer's queue is done first
	for _, p := range []string{"p1", "p2"} {
		if got := closedEvents(t, js, p); len(got) != 1 || got[0] != "" {
			t.Errorf("closed events of %s: %q, want one from its owner", p, got)
		}
	}
}

// A node restarted under the same name within the TTL: its previous
// incarnation's peers are reported closed once, by itself (alone) or by
// whichever of it and another node claims them first; its new peers are
// not reported.
func TestRestartReportsPreviousIncarnation(t *testing.T) {
	for _, other := range []bool{false, true} {
		ns := startNATS(t)
		var b *rtcnats.Cluster
		if other {
			b, _ = bareNode(t, ns.url(), "b")
		}
		a1, nc1 := bareNode(t, ns.url(), "a")
		admit(t, a1, "old")
		nc1.Close() // a crash: no goodbye
		a1.Detach()
		a2, nc := bareNode(t, ns.url(), "a")
		js, _ := jetstream.New(nc)
		admit(t, a2, "new")
		waitFor(t, "the old peer reported", 15*time.Second, func() bool { return len(closedEvents(t, js, "old")) > 0 })
		// Every live node has its chance to report it again (the restarted
		// one waits a TTL connected before it looks for orphans).
		time.Sleep(2 * time.Second)
		if got := closedEvents(t, js, "old"); len(got) != 1 || got[0] == "" || !other && got[0] != "a" {
			t.Fatalf("other node %v: closed events of the old peer: %q, want one by a reporter", other, got)
		}
		if got := closedEvents(t, js, "new"); len(got) != 0 {
			t.Fatalf("other node %v: a peer of the live incarnation reported closed by %q", other, got)
		}
		if b != nil {
			b.Detach()
		}
		a2.Detach()
	}
}
