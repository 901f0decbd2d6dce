package udpmux

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

type fakeEndpoint struct {
	mu   sync.Mutex
	got  [][]byte
	full bool
}

func (e *fakeEndpoint) Deliver(src netip.AddrPort, b *Buffer) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.full {
		return false
	}
	e.got = append(e.got, bytes.Clone(b.B))
	b.Release()
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

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRouting(t *testing.T) {
	m, err := Listen(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ep := &fakeEndpoint{}
	r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{}, ufrag: map[string]Endpoint{"abcd": ep}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx, r)
	}()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), m.Port()))
	send := func(b []byte) {
		if _, err := c.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
	}
	send([]byte{22, 0xfe, 0xfd, 0, 0}) // DTLS from an unbound address
	send([]byte{0x80, 96, 0, 0})       // RTP from an unbound address
	send(binding(t, "zzzz:remote"))    // unknown ufrag
	send(make([]byte, MaxDatagram+1))  // oversized
	eventually(t, "unrouted", func() bool { s := m.Stats(); return s.Unrouted == 3 && s.Oversized == 1 })
	send(binding(t, "abcd:remote"))
	eventually(t, "routed by ufrag", func() bool { return ep.n() == 1 })

	// Once bound (as a verified check would do), everything from it routes.
	src := c.LocalAddr().(*net.UDPAddr).AddrPort()
	r.mu.Lock()
	r.addrs[src] = ep
	r.mu.Unlock()
	send([]byte{0x80, 96, 0, 1})
	send([]byte{22, 0xfe, 0xfd, 0, 1})
	eventually(t, "routed by address", func() bool { return ep.n() == 3 })
	ep.mu.Lock()
	ep.full = true
	ep.mu.Unlock()
	send([]byte{0x80, 96, 0, 2})
	eventually(t, "dropped when full", func() bool { return m.Stats().Dropped == 1 })

	// The tap sees unbound traffic first.
	var tapped []byte
	var tmu sync.Mutex
	m.SetTap(func(src netip.AddrPort, b []byte) bool {
		tmu.Lock()
		defer tmu.Unlock()
		tapped = bytes.Clone(b)
		return true
	})
	c2, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer c2.Close()
	if _, err := c2.WriteToUDP([]byte{1, 1, 0, 0}, to); err != nil {
		t.Fatal(err)
	}
	eventually(t, "tap", func() bool { tmu.Lock(); defer tmu.Unlock(); return tapped != nil })

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
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
	ep := &fakeEndpoint{}
	r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{}, ufrag: map[string]Endpoint{"v6v6": ep}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = m.Run(ctx, r) }()
	to := &net.UDPAddr{IP: net.IPv6loopback, Port: int(m.Port())}
	if _, err := c.WriteToUDP(binding(t, "v6v6:x"), to); err != nil {
		t.Fatal(err)
	}
	eventually(t, "routed", func() bool { return ep.n() == 1 })
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
