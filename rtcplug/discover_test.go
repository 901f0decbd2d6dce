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
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	requests = new(atomic.Int64)
	done := make(chan struct{})
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
			resp.Reset()
			resp.SetType(stun.TypeBindingSuccess)
			resp.SetTransactionID(req.TransactionID)
			resp.AddXORMappedAddress(mapped)
			resp.AddFingerprint()
			_, _ = conn.WriteToUDPAddrPort(resp.Raw, src)
		}
	}()
	t.Cleanup(func() {
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

// TestSTUNUnreachable: a STUN server that never answers does not delay Mount
// and leaves the offers without srflx.
func TestSTUNUnreachable(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	silent := c.LocalAddr().String() // bound but never answering
	defer c.Close()
	start := time.Now()
	s := newServer(t, withSTUN(silent))
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Mount took %v with an unreachable STUN server", d)
	}
	if offer := offerOf(t, s); strings.Contains(offer, "srflx") || !strings.Contains(offer, "typ host") {
		t.Fatalf("offer:\n%s", offer)
	}
}
