package conference

import (
	"crypto/rand"
	"net/netip"
	"testing"
)

// Unbind releases only what is still the member's: an address another peer
// took over stays routed to that peer.
func TestUnbind(t *testing.T) {
	r := New[int](Limits{}, rand.Reader)
	a, b := join(t, r, "one"), join(t, r, "one")
	x := netip.MustParseAddrPort("192.0.2.1:5000")
	y := netip.MustParseAddrPort("192.0.2.2:5000")
	r.Bind(a, x)
	r.Bind(a, y)
	r.Unbind(a, x)
	if _, ok := r.ByAddr(x); ok {
		t.Fatal("unbound address still routed")
	}
	r.Bind(b, y) // taken over
	r.Unbind(a, y)
	if m, ok := r.ByAddr(y); !ok || m != b {
		t.Fatal("Unbind released another member's address")
	}
	if s := r.Stats(); s.Addrs != 1 {
		t.Fatalf("addrs %d", s.Addrs)
	}
}

// An address carrying a member's authenticated media is not taken over by
// another member's check (which may be a replay); SRTP of the other member
// from it (Activate) does take it. The active address also survives the
// per-member cap.
func TestActiveAddressKept(t *testing.T) {
	r := New[int](Limits{}, rand.Reader)
	a, b := join(t, r, "one"), join(t, r, "one")
	x := netip.MustParseAddrPort("192.0.2.1:5000")
	r.Bind(a, x)
	r.Activate(a, x)
	r.Bind(b, x)
	if m, _ := r.ByAddr(x); m != a {
		t.Fatal("a check took over an active address")
	}
	for i := 0; i < 3*MaxAddrsPerPeer; i++ {
		r.Bind(a, netip.AddrPortFrom(netip.MustParseAddr("198.51.100.1"), uint16(1000+i)))
	}
	if m, ok := r.ByAddr(x); !ok || m != a {
		t.Fatal("the active address was evicted by the cap")
	}
	r.Activate(b, x)
	if m, _ := r.ByAddr(x); m != b {
		t.Fatal("authenticated media did not move the address")
	}
	r.Bind(a, x)
	if m, _ := r.ByAddr(x); m != b {
		t.Fatal("the address went back on a check")
	}
	r.Unbind(b, x)
	r.Bind(a, x)
	if m, _ := r.ByAddr(x); m != a {
		t.Fatal("a released address could not be bound")
	}
}
