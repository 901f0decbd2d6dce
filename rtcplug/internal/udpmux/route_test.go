package udpmux

import (
	"fmt"
	"net/netip"
	"testing"
)

// A STUN check from an address bound to one peer, naming another peer's
// ufrag, goes to that other peer: a NAT may hand an old mapping to a new
// client, and the new peer must be able to verify it (and, if it passes,
// take the address over). Everything else from the address still goes to
// the peer it is bound to.
func TestSTUNRoutesByUsernameFromBoundAddress(t *testing.T) {
	m := New(newMemConn(), netip.MustParseAddrPort("0.0.0.0:1"), nil)
	a, b := &fakeEndpoint{}, &fakeEndpoint{}
	src := netip.MustParseAddrPort("192.0.2.1:4000")
	r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{src: a}, ufrag: map[string]Endpoint{"aaaa": a, "bbbb": b}}
	m.route(r, src, binding(t, "bbbb:remote"))
	if a.n() != 0 || b.n() != 1 {
		t.Fatalf("check for b went to a=%d b=%d", a.n(), b.n())
	}
	m.route(r, src, binding(t, "aaaa:remote"))
	m.route(r, src, binding(t, "zzzz:remote")) // unknown: the bound peer answers it
	m.route(r, src, []byte{22, 0xfe, 0xfd, 0, 1})
	m.route(r, src, []byte{0x80, 96, 0, 1})
	if a.n() != 4 || b.n() != 1 {
		t.Fatalf("a=%d b=%d", a.n(), b.n())
	}
}

// A flood of checks with random USERNAMEs from random addresses allocates
// nothing: no state for sources that have not authenticated.
func TestUnknownSTUNFloodAllocatesNothing(t *testing.T) {
	m := New(newMemConn(), netip.MustParseAddrPort("0.0.0.0:1"), nil)
	r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{}, ufrag: map[string]Endpoint{"aaaa": &fakeEndpoint{}}}
	reqs := make([][]byte, 64)
	srcs := make([]netip.AddrPort, 64)
	for i := range reqs {
		reqs[i] = binding(t, fmt.Sprintf("%08x:remote", i*7919))
		srcs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), byte(i * 3)}), uint16(1000+i))
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		m.route(r, srcs[i%64], reqs[i%64])
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per unknown check", allocs)
	}
	if s := m.Stats(); s.Unrouted == 0 || s.Routed != 0 {
		t.Fatalf("stats %+v", s)
	}
}
