package rtcplug_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

// logSignal passes records on to the test logger and tells found (without
// blocking) when one with message msg is logged: an event to wait for where
// the plugin has no callback.
type logSignal struct {
	slog.Handler
	msg   string
	found chan<- struct{}
}

func (h logSignal) Enabled(context.Context, slog.Level) bool { return true }

func (h logSignal) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.found <- struct{}{}:
		default:
		}
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h logSignal) WithAttrs(a []slog.Attr) slog.Handler {
	return logSignal{h.Handler.WithAttrs(a), h.msg, h.found}
}

func (h logSignal) WithGroup(name string) slog.Handler {
	return logSignal{h.Handler.WithGroup(name), h.msg, h.found}
}

// onDiscovered is a logger option whose channel is told each time the plugin
// stores a server-reflexive address (it logs after storing it).
func onDiscovered(t *testing.T) (rtcplug.Option, <-chan struct{}) {
	found := make(chan struct{}, 1)
	h := logSignal{testLogger(t).Handler(), "server-reflexive address discovered", found}
	return rtcplug.WithLogger(slog.New(h)), found
}

// await waits for an event; the timeout only keeps a broken run from hanging.
func await(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s", what)
	}
}

// gatedResponder answers Binding requests on 127.0.0.1 with a fixed mapped
// address, as a STUN server behind a NAT would. It reports each request it
// reads on seen (without blocking) and answers none before release is closed
// (nil: at once).
func gatedResponder(t *testing.T, mapped netip.AddrPort, seen chan<- struct{}, release <-chan struct{}) (addr string) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		var req, resp stun.Message
		for {
			n, src, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if req.Decode(buf[:n]) != nil || req.Type != stun.TypeBindingRequest {
				continue
			}
			select {
			case seen <- struct{}{}:
			default:
			}
			if release != nil {
				select {
				case <-release:
				case <-stop:
					return
				}
			}
			resp.Reset()
			resp.SetType(stun.TypeBindingSuccess)
			resp.SetTransactionID(req.TransactionID)
			resp.AddXORMappedAddress(mapped)
			resp.AddFingerprint()
			_, _ = conn.WriteToUDPAddrPort(resp.Raw, src)
		}
	}()
	t.Cleanup(func() {
		close(stop)
		conn.Close()
		<-done
	})
	return conn.LocalAddr().String()
}

func offerOf(t *testing.T, s *server) string {
	t.Helper()
	w := dial(t, s.wsURL())
	w.send("JoinConference", map[string]string{"conferenceName": "stun"})
	env := w.next("SdpOffer")
	var o struct{ SDP string }
	if err := json.Unmarshal(env.Data, &o); err != nil {
		t.Fatal(err)
	}
	w.send("LeaveConference", nil)
	return o.SDP
}

// TestSTUNDiscovery: the mapped address from a local STUN responder shows up
// as a srflx candidate in the next offer.
func TestSTUNDiscovery(t *testing.T) {
	mapped := netip.MustParseAddrPort("203.0.113.7:40000")
	seen := make(chan struct{}, 1)
	addr := gatedResponder(t, mapped, seen, nil)
	logOpt, discovered := onDiscovered(t)
	s := newServer(t, withSTUN(addr), logOpt)
	await(t, "STUN request", seen)
	await(t, "discovered address", discovered)
	offer := offerOf(t, s)
	if !strings.Contains(offer, "203.0.113.7 40000 typ srflx") || !strings.Contains(offer, "127.0.0.1 ") {
		t.Fatalf("srflx or host candidate missing:\n%s", offer)
	}
	t.Logf("offer with the srflx candidate:\n%s", offer)
}

// TestSTUNUnreachable: a STUN server that does not answer does not hold
// Mount up and leaves the offers without srflx; its late answer is still
// used. The server answers nothing until Mount has returned, so a Mount that
// waited for discovery would never return.
func TestSTUNUnreachable(t *testing.T) {
	mapped := netip.MustParseAddrPort("203.0.113.7:40000")
	seen := make(chan struct{}, 1)
	release := make(chan struct{})
	addr := gatedResponder(t, mapped, seen, release)
	logOpt, discovered := onDiscovered(t)
	s := newServer(t, withSTUN(addr), logOpt)
	await(t, "STUN request", seen) // discovery runs, unanswered
	if offer := offerOf(t, s); strings.Contains(offer, "srflx") || !strings.Contains(offer, "typ host") {
		t.Fatalf("offer:\n%s", offer)
	}
	close(release)
	await(t, "discovered address", discovered)
	if offer := offerOf(t, s); !strings.Contains(offer, "203.0.113.7 40000 typ srflx") {
		t.Fatalf("no srflx after the late answer:\n%s", offer)
	}
}
