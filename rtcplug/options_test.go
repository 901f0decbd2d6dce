package rtcplug

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestOptionsValidate(t *testing.T) {
	bad := []Option{
		WithContext(nil), //nolint:staticcheck // testing the refusal
		WithUDPPort(-1), WithUDPPort(65536),
		WithPublicIPs(netip.Addr{}), WithPublicIPs(netip.IPv4Unspecified()),
		WithSTUNServer("stun.example.org"),
		WithLogger(nil),
		WithOriginPatterns(""), WithOriginPatterns("*"),
		WithJPEGQuality(101),
		WithMaxConferences(0), WithMaxPeers(1, 0), WithMaxPending(0), WithDecodeWorkers(0),
	}
	for i, o := range bad {
		if err := o(defaults()); err == nil {
			t.Errorf("option %d accepted", i)
		}
	}
	for _, p := range []string{"ws", "/ws/{id}", "/a*"} {
		c := defaults()
		_ = WithSignalingPath(p)(c)
		if c.validate() == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	c := defaults()
	for _, o := range []Option{WithContext(context.TODO()), WithUDPPort(0), WithPublicIPs(netip.MustParseAddr("::ffff:192.0.2.7")),
		WithSTUNServer("stun.example.org:3478"), WithOriginPatterns("example.com", "*.example.org"), WithAudio(false)} {
		if err := o(c); err != nil {
			t.Fatal(err)
		}
	}
	if c.publicIPs[0] != netip.MustParseAddr("192.0.2.7") || c.audio || len(c.originPatterns) != 2 {
		t.Fatalf("%+v", c)
	}
}

func TestWithZerolog(t *testing.T) {
	var buf bytes.Buffer
	c := defaults()
	_ = WithZerolog(zerolog.New(&buf).Level(zerolog.DebugLevel))(c)
	c.log.Debug("narration", "peer", "p1")
	c.log.Info("joined", "conference", "c")
	out := buf.String()
	if !strings.Contains(out, `"message":"narration"`) || !strings.Contains(out, `"peer":"p1"`) || !strings.Contains(out, `"level":"info"`) {
		t.Fatalf("zerolog got %q", out)
	}
}

func TestWithRecordLimit(t *testing.T) {
	c := defaults()
	if c.recordLimit != 1<<30 || DefaultRecordLimit != 1<<30 {
		t.Fatalf("default record limit %d", c.recordLimit)
	}
	if err := WithRecordLimit(64<<10 - 1)(c); err == nil {
		t.Fatal("limit below 64 KiB accepted")
	}
	if err := WithRecordLimit(10 << 20)(c); err != nil || c.recordLimit != 10<<20 {
		t.Fatalf("%v %d", err, c.recordLimit)
	}
}
