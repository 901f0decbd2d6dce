// Package testpeer is a test harness: two parties that talk in virtual time
// through an in-memory datagram pipe that can drop, duplicate, reorder and
// rewrite packets (seeded, so a failing run repeats), and a WebRTC client
// stack built from our own protocol packages (STUN checks, a DTLS client or
// server, SRTP keys from the DTLS exporter) to stand opposite the server's
// peer. Nothing here reads the clock or starts a goroutine: a Pair steps to
// whichever comes first, a datagram in flight or a party's deadline.
package testpeer

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"sort"
	"time"
)

// Datagram is one datagram in flight.
type Datagram struct {
	From, To netip.AddrPort
	Data     []byte
	At       time.Time // delivery time
	seq      uint64    // send order, to keep delivery stable
}

// Pipe carries datagrams between the parties of a Pair. The zero value
// delivers everything, in order, after Delay (zero: at once).
type Pipe struct {
	// Delay is every datagram's one-way latency.
	Delay time.Duration
	// Drop, Dup and Reorder are probabilities in [0, 1]: a datagram is
	// lost, delivered twice, or held back by ReorderBy so that the ones
	// sent after it overtake it.
	Drop, Dup, Reorder float64
	// ReorderBy is how long a reordered datagram is held back; zero means
	// 10 ms.
	ReorderBy time.Duration
	// Filter, when set, sees every datagram as it is sent and may rewrite
	// d.Data or d.From; returning false drops it.
	Filter func(d *Datagram) bool

	rng      *rand.Rand
	queue    []Datagram
	seq      uint64
	Sent     int // datagrams handed to the pipe
	Dropped  int // lost to Drop or Filter
	Delivers int // datagrams delivered (duplicates counted)
}

// Seed makes the pipe's impairments repeatable.
func (p *Pipe) Seed(seed uint64) { p.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func (p *Pipe) chance(prob float64) bool {
	if prob <= 0 {
		return false
	}
	if p.rng == nil {
		p.Seed(1)
	}
	return p.rng.Float64() < prob
}

// Send puts a copy of b in flight at now.
func (p *Pipe) Send(now time.Time, from, to netip.AddrPort, b []byte) {
	p.Sent++
	d := Datagram{From: from, To: to, Data: bytes.Clone(b), At: now.Add(p.Delay)}
	if p.Filter != nil && !p.Filter(&d) {
		p.Dropped++
		return
	}
	if p.chance(p.Drop) {
		p.Dropped++
		return
	}
	if p.chance(p.Reorder) {
		by := p.ReorderBy
		if by == 0 {
			by = 10 * time.Millisecond
		}
		d.At = d.At.Add(by)
	}
	p.push(d)
	if p.chance(p.Dup) {
		d.Data = bytes.Clone(d.Data)
		p.push(d)
	}
}

func (p *Pipe) push(d Datagram) {
	p.seq++
	d.seq = p.seq
	i := sort.Search(len(p.queue), func(i int) bool {
		q := p.queue[i]
		return q.At.After(d.At) || (q.At.Equal(d.At) && q.seq > d.seq)
	})
	p.queue = append(p.queue, Datagram{})
	copy(p.queue[i+1:], p.queue[i:])
	p.queue[i] = d
}

// Next is the delivery time of the first datagram in flight; zero when none.
func (p *Pipe) Next() time.Time {
	if len(p.queue) == 0 {
		return time.Time{}
	}
	return p.queue[0].At
}

// Pop removes the first datagram due at or before now.
func (p *Pipe) Pop(now time.Time) (Datagram, bool) {
	if len(p.queue) == 0 || p.queue[0].At.After(now) {
		return Datagram{}, false
	}
	d := p.queue[0]
	p.queue = p.queue[1:]
	p.Delivers++
	return d, true
}

// InFlight is how many datagrams wait for delivery.
func (p *Pipe) InFlight() int { return len(p.queue) }
