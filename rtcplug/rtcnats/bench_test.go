package rtcnats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nutsbolts/webrtc/rtcplug"
	"github.com/nutsbolts/webrtc/rtcplug/rtcnats"
)

// attached is a cluster node on its own loopback JetStream server,
// attached to no plugin.
func attached(b *testing.B, maxPerConf int) *rtcnats.Cluster {
	ns := startNATS(b)
	nc := connectNATS(b, ns.url(), "bench")
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	cl, err := rtcnats.New(context.Background(), js, rtcnats.Config{Node: "bench", MaxPerConference: maxPerConf})
	if err != nil {
		b.Fatal(err)
	}
	if err := cl.Attach(rtcplug.ClusterNode{}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Detach)
	return cl
}

// BenchmarkAdmitLeave is one join's admission (a place and a member entry)
// against a loopback JetStream server: what a join waits for the cluster.
func BenchmarkAdmitLeave(b *testing.B) {
	cl := attached(b, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		peer := fmt.Sprintf("%016x", i)
		if err := cl.Admit(ctx, rtcplug.ClusterMember{Conference: "bench", Peer: peer, Since: time.Now()}); err != nil {
			b.Fatal(err)
		}
		cl.Leave("bench", peer)
	}
}

// BenchmarkPublishKeyframe publishes a 50 KB keyframe JPEG into the stream.
func BenchmarkPublishKeyframe(b *testing.B) {
	cl := attached(b, 0)
	ctx := context.Background()
	ev := rtcplug.ClusterEvent{Kind: rtcplug.ClusterKeyframe, Conference: "bench", Peer: "0123456789abcdef",
		Time: time.Now(), Codec: "VP8", Width: 640, Height: 480, JPEG: make([]byte, 50<<10)}
	b.SetBytes(int64(len(ev.JPEG)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := cl.Publish(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
