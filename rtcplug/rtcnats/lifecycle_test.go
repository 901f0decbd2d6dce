package rtcnats_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/nutsbolts/webrtc/rtcplug"
	"github.com/nutsbolts/webrtc/rtcplug/rtcnats"
)

// Every goroutine of the cluster ends with the plugin; the node's entry
// goes with it.
func TestLifecycle(t *testing.T) {
	before := goleak.IgnoreCurrent()
	ns := startNATS(t)
	nc := connectNATS(t, ns.url(), "lifecycle")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := rtcnats.New(ctx, js, rtcnats.Config{Node: "bad.name"}); err == nil {
		t.Fatal("a node name with a dot was accepted")
	}
	if _, err := rtcnats.New(ctx, js, rtcnats.Config{Node: "n", TTL: time.Millisecond}); err == nil {
		t.Fatal("a TTL below a second was accepted")
	}
	cl, err := rtcnats.New(ctx, js, rtcnats.Config{Node: "n", TTL: testTTL})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rtcplug.Mount(chi.NewRouter(), rtcplug.WithUDPPort(0), rtcplug.WithCluster(cl), rtcplug.WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, rtcnats.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "n.n"); err != nil {
		t.Fatalf("node entry: %v", err)
	}
	if err := cl.Attach(rtcplug.ClusterNode{}); err == nil {
		t.Fatal("attached twice")
	}
	_ = p.Close()
	if _, err := kv.Get(ctx, "n.n"); err == nil {
		t.Fatal("the node entry outlived Close")
	}
	nc.Close()
	ns.stop()
	goleak.VerifyNone(t, before)
}
