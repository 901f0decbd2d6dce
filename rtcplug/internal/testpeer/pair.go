package testpeer

import (
	"fmt"
	"net/netip"
	"time"
)

// Party is one end of a Pair, driven sans-IO: it is handed datagrams and
// the time, and its datagrams are collected by Drain after every call.
type Party interface {
	HandleDatagram(now time.Time, from, to netip.AddrPort, b []byte)
	HandleTimeout(now time.Time)
	// Deadline is when HandleTimeout is next due; zero means never.
	Deadline() time.Time
	// Drain passes on what the last call transmitted; b is valid only
	// during the call of send.
	Drain(send func(from, to netip.AddrPort, b []byte))
	// Owns reports whether datagrams to a are for this party.
	Owns(a netip.AddrPort) bool
}

// Pair is two parties and the pipe between them, in virtual time.
type Pair struct {
	A, B Party
	Pipe *Pipe
	Now  time.Time
}

// NewPair starts a pair at now with a perfect pipe.
func NewPair(a, b Party, now time.Time) *Pair {
	return &Pair{A: a, B: b, Pipe: &Pipe{}, Now: now}
}

// Flush collects what both parties have to send (after work done on them
// outside the pair).
func (pr *Pair) Flush() {
	for _, x := range [2]Party{pr.A, pr.B} {
		x.Drain(func(from, to netip.AddrPort, b []byte) { pr.Pipe.Send(pr.Now, from, to, b) })
	}
}

// next is the earliest of the pipe's next delivery and both deadlines.
func (pr *Pair) next() time.Time {
	var t time.Time
	for _, c := range [3]time.Time{pr.Pipe.Next(), pr.A.Deadline(), pr.B.Deadline()} {
		if !c.IsZero() && (t.IsZero() || c.Before(t)) {
			t = c
		}
	}
	return t
}

// Step advances virtual time to the next thing that happens (never
// backwards) and does it: one delivery, or the due timers. It returns false
// when nothing is left to happen, or the next thing is after limit.
func (pr *Pair) Step(limit time.Time) bool {
	pr.Flush()
	t := pr.next()
	if t.IsZero() || (!limit.IsZero() && t.After(limit)) {
		return false
	}
	if t.After(pr.Now) {
		pr.Now = t
	}
	if d, ok := pr.Pipe.Pop(pr.Now); ok {
		dst := pr.B
		if pr.A.Owns(d.To) {
			dst = pr.A
		} else if !pr.B.Owns(d.To) {
			return true // nobody listens there: the datagram is lost
		}
		dst.HandleDatagram(pr.Now, d.From, d.To, d.Data)
	} else {
		for _, x := range [2]Party{pr.A, pr.B} {
			if d := x.Deadline(); !d.IsZero() && !d.After(pr.Now) {
				x.HandleTimeout(pr.Now)
			}
		}
	}
	pr.Flush()
	return true
}

// RunUntil steps until done returns true, for at most d of virtual time.
func (pr *Pair) RunUntil(d time.Duration, done func() bool) error {
	limit := pr.Now.Add(d)
	for !done() {
		if !pr.Step(limit) {
			return fmt.Errorf("testpeer: condition not met within %v of virtual time", d)
		}
	}
	return nil
}

// RunFor steps through d of virtual time whatever happens, and leaves Now
// at its end.
func (pr *Pair) RunFor(d time.Duration) {
	limit := pr.Now.Add(d)
	for pr.Step(limit) {
	}
	pr.Now = limit
}
