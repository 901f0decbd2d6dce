package udpmux

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

type fakeEndpoint struct {
	mu   sync.Mutex
	got  [][]byte
	full bool
	note chan struct{} // if not nil, told of each delivery
}

func (e *fakeEndpoint) Deliver(src netip.AddrPort, b *Buffer) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.full {
		return false
	}
	e.got = append(e.got, bytes.Clone(b.B))
	b.Release()
	if e.note != nil {
		e.note <- struct{}{}
	}
	return true
}

func (e *fakeEndpoint) n() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.got)
}

type fakeRouter struct {
	mu    sync.Mutex
	addrs map[netip.AddrPort]Endpoint
	ufrag map[string]Endpoint
}

func (r *fakeRouter) ByAddr(a netip.AddrPort) (Endpoint, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.addrs[a]
	return e, ok
}

func (r *fakeRouter) ByUfrag(u []byte) (Endpoint, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.ufrag[string(u)]
	return e, ok
}

func binding(t *testing.T, user string) []byte {
	var m stun.Message
	m.Reset()
	m.SetType(stun.TypeBindingRequest)
	if err := m.NewTransactionID(rand.Reader); err != nil {
		t.Fatal(err)
	}
	m.AddUsername(user)
	m.AddFingerprint()
	return bytes.Clone(m.Raw)
}

// TestRouting drives the read loop over an in-memory socket in virtual
// time: synctest.Wait returns once the loop has handled every datagram sent,
// so each count is checked at the moment it must be final.
func TestRouting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := newMemConn()
		m := New(conn, netip.MustParseAddrPort("[::]:15000"), nil)
		ep := &fakeEndpoint{}
		r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{}, ufrag: map[string]Endpoint{"abcd": ep}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = m.Run(ctx, r)
		}()
		src := netip.MustParseAddrPort("192.0.2.1:4000")
		send := func(from netip.AddrPort, b []byte) {
			conn.in <- datagram{from, b}
			synctest.Wait()
		}
		send(src, []byte{22, 0xfe, 0xfd, 0, 0}) // DTLS from an unbound address
		send(src, []byte{0x80, 96, 0, 0})       // RTP from an unbound address
		send(src, binding(t, "zzzz:remote"))    // unknown ufrag
		send(src, make([]byte, MaxDatagram+1))  // oversized
		if s := m.Stats(); s.Unrouted != 3 || s.Oversized != 1 || ep.n() != 0 {
			t.Fatalf("unrouted: stats %+v, endpoint got %d", s, ep.n())
		}
		send(src, binding(t, "abcd:remote"))
		if n := ep.n(); n != 1 {
			t.Fatalf("routed by ufrag: %d", n)
		}

		// Once bound (as a verified check would do), everything from it routes.
		r.mu.Lock()
		r.addrs[src] = ep
		r.mu.Unlock()
		send(src, []byte{0x80, 96, 0, 1})
		send(src, []byte{22, 0xfe, 0xfd, 0, 1})
		if n := ep.n(); n != 3 {
			t.Fatalf("routed by address: %d", n)
		}
		ep.mu.Lock()
		ep.full = true
		ep.mu.Unlock()
		send(src, []byte{0x80, 96, 0, 2})
		if s := m.Stats(); s.Dropped != 1 {
			t.Fatalf("dropped when full: %+v", s)
		}

		// The tap sees unbound traffic first.
		var tapped []byte
		m.SetTap(func(src netip.AddrPort, b []byte) bool {
			tapped = bytes.Clone(b)
			return true
		})
		send(netip.MustParseAddrPort("192.0.2.2:4000"), []byte{1, 1, 0, 0})
		if !bytes.Equal(tapped, []byte{1, 1, 0, 0}) {
			t.Fatalf("tap got %v", tapped)
		}

		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("Run did not return")
		}
	})
}

// TestIPv6: the dual-stack socket routes an IPv6 source and answers it.
// (pion, the e2e peer, refuses ::1 as a candidate, so this is tested here.)
func TestIPv6(t *testing.T) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer c.Close()
	m, err := Listen(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m.LocalAddr().Addr().Is6() {
		t.Skip("the system gave an IPv4-only socket")
	}
	ep := &fakeEndpoint{note: make(chan struct{}, 1)}
	r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{}, ufrag: map[string]Endpoint{"v6v6": ep}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = m.Run(ctx, r) }()
	to := &net.UDPAddr{IP: net.IPv6loopback, Port: int(m.Port())}
	if _, err := c.WriteToUDP(binding(t, "v6v6:x"), to); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ep.note:
	case <-time.After(10 * time.Second): // only against a hang
		t.Fatal("not routed")
	}
	src := c.LocalAddr().(*net.UDPAddr).AddrPort()
	if err := m.WriteTo([]byte("pong"), src); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, _, err := c.ReadFromUDP(buf)
	if err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("reply: %q %v", buf[:n], err)
	}
}
