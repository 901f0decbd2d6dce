package udpmux

import (
	"errors"
	"net/netip"
	"sync"
)

// ErrUfragTaken is returned by Table.Add for a ufrag another peer holds.
var ErrUfragTaken = errors.New("udpmux: ICE ufrag already in use")

// Table is the mux's routing table: the local ICE ufrag of every peer (a
// Binding request names it in USERNAME, RFC 8445 §7.2.2) and the addresses
// each peer's ICE has authenticated. It is the only such table: the peer's
// loop updates it from the peer's Bind, Unbind and Active events, and the
// peer bounds how many addresses it binds (it releases the oldest with
// Unbind), so the table needs no cap of its own. A Table is a Router.
type Table struct {
	mu      sync.RWMutex
	byUfrag map[string]Endpoint
	byAddr  map[netip.AddrPort]Endpoint
	// active is the address carrying each endpoint's authenticated media,
	// for the endpoints that have one.
	active map[Endpoint]netip.AddrPort
	ufrags map[Endpoint]string
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{
		byUfrag: make(map[string]Endpoint),
		byAddr:  make(map[netip.AddrPort]Endpoint),
		active:  make(map[Endpoint]netip.AddrPort),
		ufrags:  make(map[Endpoint]string),
	}
}

// Add routes Binding requests for ufrag to ep.
func (t *Table) Add(ufrag string, ep Endpoint) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.byUfrag[ufrag]; dup {
		return ErrUfragTaken
	}
	if old, ok := t.ufrags[ep]; ok {
		delete(t.byUfrag, old)
	}
	t.byUfrag[ufrag] = ep
	t.ufrags[ep] = ufrag
	return nil
}

// Remove forgets ep: its ufrag and every address still routed to it.
func (t *Table) Remove(ep Endpoint) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if u, ok := t.ufrags[ep]; ok {
		delete(t.byUfrag, u)
		delete(t.ufrags, ep)
	}
	delete(t.active, ep)
	// A peer binds a handful of addresses; a scan at its end is cheaper than
	// a second per-peer list to keep in step.
	for a, cur := range t.byAddr {
		if cur == ep {
			delete(t.byAddr, a)
		}
	}
}

// Bind routes addr to ep from now on; the peer's ICE reports it once a check
// from addr passed MESSAGE-INTEGRITY. An address bound to another peer is
// taken over (a NAT may reuse a mapping), unless it carries that peer's
// authenticated media (Activate): a check can be replayed from anywhere, so
// it does not outweigh SRTP.
func (t *Table) Bind(ep Endpoint, addr netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bind(ep, addr, false)
}

// Activate marks addr as carrying ep's authenticated media (SRTP/SRTCP that
// passed authentication): it is routed to ep, taken from any other peer, and
// no Bind takes it away while ep keeps it active.
func (t *Table) Activate(ep Endpoint, addr netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bind(ep, addr, true) {
		t.active[ep] = addr
	}
}

// bind is Bind (force false) and Activate (force true); t.mu is held. It
// reports whether addr is ep's now.
func (t *Table) bind(ep Endpoint, addr netip.AddrPort, force bool) bool {
	if _, live := t.ufrags[ep]; !live {
		return false // removed: its loop has ended
	}
	if cur, ok := t.byAddr[addr]; ok {
		if cur == ep {
			return true
		}
		if a, ok := t.active[cur]; ok && a == addr {
			if !force {
				return false
			}
			delete(t.active, cur)
		}
	}
	t.byAddr[addr] = ep
	return true
}

// Unbind stops routing addr to ep (the peer let it go to make room for a
// newer address). An address another peer has taken over stays with it.
func (t *Table) Unbind(ep Endpoint, addr netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byAddr[addr] == ep {
		delete(t.byAddr, addr)
	}
	if a, ok := t.active[ep]; ok && a == addr {
		delete(t.active, ep)
	}
}

// ByAddr finds the peer an authenticated address is bound to.
func (t *Table) ByAddr(addr netip.AddrPort) (Endpoint, bool) {
	t.mu.RLock()
	ep, ok := t.byAddr[addr]
	t.mu.RUnlock()
	return ep, ok
}

// ByUfrag finds the peer whose local ICE ufrag is u, a ufrag still in a read
// buffer; it does not allocate.
func (t *Table) ByUfrag(u []byte) (Endpoint, bool) {
	t.mu.RLock()
	ep, ok := t.byUfrag[string(u)]
	t.mu.RUnlock()
	return ep, ok
}

// Addrs is the number of addresses routed.
func (t *Table) Addrs() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byAddr)
}
