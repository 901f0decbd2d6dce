package rtcplug_test

import (
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

// stunResponder answers Binding requests on 127.0.0.1 with a fixed mapped
// address, as a STUN server behind a NAT would.
func stunResponder(t *testing.T, mapped netip.AddrPort) (addr string, requests *atomic.Int64) {
	t.Helper()
	return gatedResponder(t, mapped, nil, nil)
}

// gatedResponder is stunResponder that reports each request it reads on seen
// (if not nil, without blocking) and answers none before release is closed
// (nil: at once).
func gatedResponder(t *testing.T, mapped netip.AddrPort, seen chan<- struct{}, release <-chan struct{}) (addr string, requests *atomic.Int64) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	requests = new(atomic.Int64)
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
			requests.Add(1)
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
	return conn.LocalAddr().String(), requests
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
	addr, reqs := stunResponder(t, mapped)
	s := newServer(t, withSTUN(addr))
	waitFor(t, "a STUN request", 10*time.Second, func() bool { return reqs.Load() > 0 })
	var offer string
	waitFor(t, "srflx candidate", 10*time.Second, func() bool {
		offer = offerOf(t, s)
		return strings.Contains(offer, "203.0.113.7 40000 typ srflx")
	})
	if !strings.Contains(offer, "127.0.0.1 ") {
		t.Fatalf("host candidate missing:\n%s", offer)
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
	addr, _ := gatedResponder(t, mapped, seen, release)
	s := newServer(t, withSTUN(addr))
	<-seen // discovery runs, unanswered
	if offer := offerOf(t, s); strings.Contains(offer, "srflx") || !strings.Contains(offer, "typ host") {
		t.Fatalf("offer:\n%s", offer)
	}
	close(release)
	waitFor(t, "srflx candidate after the late answer", 30*time.Second, func() bool {
		return strings.Contains(offerOf(t, s), "203.0.113.7 40000 typ srflx")
	})
}
