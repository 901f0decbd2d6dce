package testpeer

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

var (
	t0   = time.Unix(1_000_000, 0)
	addA = netip.MustParseAddrPort("127.0.0.1:1")
	addB = netip.MustParseAddrPort("127.0.0.1:2")
)

// deliveries sends n one-byte datagrams 1 ms apart and returns what came
// out, in delivery order.
func deliveries(p *Pipe, n int) []byte {
	var got []byte
	now := t0
	for i := range n {
		p.Send(now, addA, addB, []byte{byte(i)})
		now = now.Add(time.Millisecond)
	}
	for end := now.Add(time.Second); !p.Next().IsZero() && !p.Next().After(end); {
		d, _ := p.Pop(p.Next())
		got = append(got, d.Data[0])
	}
	return got
}

func TestPipePerfect(t *testing.T) {
	p := &Pipe{Delay: 5 * time.Millisecond}
	got := deliveries(p, 50)
	if len(got) != 50 || !slices.IsSorted(got) {
		t.Fatalf("%v", got)
	}
	p.Send(t0, addA, addB, []byte{1})
	if _, ok := p.Pop(t0.Add(4 * time.Millisecond)); ok {
		t.Fatal("delivered before its delay")
	}
}

// TestPipeImpaired: drops, duplicates and reordering happen, each about as
// often as asked, and the same seed gives the same run.
func TestPipeImpaired(t *testing.T) {
	mk := func(seed uint64) *Pipe {
		p := &Pipe{Drop: 0.1, Dup: 0.1, Reorder: 0.1}
		p.Seed(seed)
		return p
	}
	const n = 2000
	a, b := deliveries(mk(7), n), deliveries(mk(7), n)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different runs")
	}
	if c := deliveries(mk(8), n); slices.Equal(a, c) {
		t.Fatal("another seed, the same run")
	}
	seen := map[byte]int{}
	late := 0
	for i, x := range a {
		if i > 0 && x < a[i-1] {
			late++
		}
		seen[x]++
	}
	p := mk(7)
	deliveries(p, n)
	if p.Dropped < n/20 || p.Dropped > n/5 || len(a)-(n-p.Dropped) < n/20 || late < n/20 {
		t.Fatalf("%d dropped, %d delivered of %d, %d out of order", p.Dropped, len(a), n, late)
	}
}

func TestPipeFilter(t *testing.T) {
	p := &Pipe{Filter: func(d *Datagram) bool {
		d.Data[0]++
		return d.Data[0]%2 == 0
	}}
	if got := deliveries(p, 6); !slices.Equal(got, []byte{2, 4, 6}) {
		t.Fatalf("%v", got)
	}
}

// echo is a Party that answers every datagram after a fixed think time.
type echo struct {
	addr, to netip.AddrPort
	pending  [][]byte
	due      time.Time
	queued   []Datagram
	got      int
}

func (e *echo) HandleDatagram(now time.Time, from, _ netip.AddrPort, b []byte) {
	e.got++
	e.pending = append(e.pending, append([]byte(nil), b...))
	e.due = now.Add(10 * time.Millisecond)
}
func (e *echo) HandleTimeout(now time.Time) {
	for _, b := range e.pending {
		e.queued = append(e.queued, Datagram{From: e.addr, To: e.to, Data: b})
	}
	e.pending, e.due = nil, time.Time{}
}
func (e *echo) Deadline() time.Time        { return e.due }
func (e *echo) Owns(a netip.AddrPort) bool { return a == e.addr }
func (e *echo) Drain(send func(from, to netip.AddrPort, b []byte)) {
	for _, d := range e.queued {
		send(d.From, d.To, d.Data)
	}
	e.queued = nil
}

// TestPairVirtualTime: the pair jumps straight to the next delivery or
// deadline; a round trip is exactly two delays and the think time.
func TestPairVirtualTime(t *testing.T) {
	a, b := &echo{addr: addA, to: addB}, &echo{addr: addB, to: addA}
	pr := NewPair(a, b, t0)
	pr.Pipe.Delay = 20 * time.Millisecond
	b.queued = append(b.queued, Datagram{From: addB, To: addA, Data: []byte{1}})
	if err := pr.RunUntil(time.Second, func() bool { return b.got == 1 }); err != nil {
		t.Fatal(err)
	}
	// b→a (20 ms), a thinks (10 ms), a→b (20 ms)
	if d := pr.Now.Sub(t0); d != 50*time.Millisecond {
		t.Fatalf("round trip took %v", d)
	}
	if err := pr.RunUntil(time.Millisecond, func() bool { return false }); err == nil {
		t.Fatal("an unmet condition passed")
	}
}
