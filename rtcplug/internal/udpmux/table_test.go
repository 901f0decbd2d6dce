package udpmux

import (
	"errors"
	"net/netip"
	"testing"
)

func newTableWith(t *testing.T, eps map[string]Endpoint) *Table {
	t.Helper()
	tb := NewTable()
	for u, ep := range eps {
		if err := tb.Add(u, ep); err != nil {
			t.Fatal(err)
		}
	}
	return tb
}

func TestTable(t *testing.T) {
	a, b := &fakeEndpoint{}, &fakeEndpoint{}
	tb := newTableWith(t, map[string]Endpoint{"aaaa": a, "bbbb": b})
	if err := tb.Add("aaaa", b); !errors.Is(err, ErrUfragTaken) {
		t.Fatalf("duplicate ufrag: %v", err)
	}
	if ep, ok := tb.ByUfrag([]byte("bbbb")); !ok || ep != b {
		t.Fatal("ByUfrag")
	}
	addr := netip.MustParseAddrPort("127.0.0.1:5000")
	tb.Bind(a, addr)
	if ep, ok := tb.ByAddr(addr); !ok || ep != a {
		t.Fatal("ByAddr")
	}
	tb.Bind(b, addr) // taken over: a NAT may reuse a mapping
	if ep, _ := tb.ByAddr(addr); ep != b {
		t.Fatal("takeover")
	}
	tb.Remove(b)
	if _, ok := tb.ByAddr(addr); ok {
		t.Fatal("address kept after Remove")
	}
	if _, ok := tb.ByUfrag([]byte("bbbb")); ok {
		t.Fatal("ufrag kept after Remove")
	}
	tb.Bind(b, addr) // a late event of an ended loop
	if _, ok := tb.ByAddr(addr); ok || tb.Addrs() != 0 {
		t.Fatal("a removed endpoint bound an address")
	}
}

// Unbind releases only what is still the endpoint's: an address another peer
// took over stays routed to that peer.
func TestTableUnbind(t *testing.T) {
	a, b := &fakeEndpoint{}, &fakeEndpoint{}
	tb := newTableWith(t, map[string]Endpoint{"aaaa": a, "bbbb": b})
	x := netip.MustParseAddrPort("192.0.2.1:5000")
	y := netip.MustParseAddrPort("192.0.2.2:5000")
	tb.Bind(a, x)
	tb.Bind(a, y)
	tb.Unbind(a, x)
	if _, ok := tb.ByAddr(x); ok {
		t.Fatal("unbound address still routed")
	}
	tb.Bind(b, y) // taken over
	tb.Unbind(a, y)
	if ep, ok := tb.ByAddr(y); !ok || ep != b {
		t.Fatal("Unbind released another peer's address")
	}
	if n := tb.Addrs(); n != 1 {
		t.Fatalf("addrs %d", n)
	}
}

// An address carrying a peer's authenticated media is not taken over by
// another peer's check (which may be a replay); SRTP of the other peer from
// it (Activate) does take it.
func TestTableActiveAddressKept(t *testing.T) {
	a, b := &fakeEndpoint{}, &fakeEndpoint{}
	tb := newTableWith(t, map[string]Endpoint{"aaaa": a, "bbbb": b})
	x := netip.MustParseAddrPort("192.0.2.1:5000")
	tb.Bind(a, x)
	tb.Activate(a, x)
	tb.Bind(b, x)
	if ep, _ := tb.ByAddr(x); ep != a {
		t.Fatal("a check took over an active address")
	}
	tb.Activate(b, x)
	if ep, _ := tb.ByAddr(x); ep != b {
		t.Fatal("authenticated media did not move the address")
	}
	tb.Bind(a, x)
	if ep, _ := tb.ByAddr(x); ep != b {
		t.Fatal("the address went back on a check")
	}
	tb.Unbind(b, x)
	tb.Bind(a, x)
	if ep, _ := tb.ByAddr(x); ep != a {
		t.Fatal("a released address could not be bound")
	}
}

// The read loop looks a ufrag up straight from the datagram: no allocation,
// found or not.
func TestTableByUfragAllocatesNothing(t *testing.T) {
	a := &fakeEndpoint{}
	tb := newTableWith(t, map[string]Endpoint{"0123abcd": a})
	known, unknown := []byte("0123abcd"), []byte("0123456789abcdef")
	if ep, ok := tb.ByUfrag(known); !ok || ep != a {
		t.Fatal("not found")
	}
	if allocs := testing.AllocsPerRun(100, func() {
		tb.ByUfrag(known)
		tb.ByUfrag(unknown)
	}); allocs != 0 {
		t.Fatalf("%v allocs", allocs)
	}
}
