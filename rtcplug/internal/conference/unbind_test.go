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
