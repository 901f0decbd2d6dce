package udpmux

import (
	"net/netip"
	"time"
)

// Output is what a sans-IO core's Poll yields: a datagram to send (Datagram
// reports ok) or an event for the caller.
type Output interface {
	Datagram() (to netip.AddrPort, b []byte, ok bool)
}

// Core is the one shape in which every sans-IO core is driven: bytes and the
// current time in; datagrams, events and the next deadline out. peer.Peer
// and discover.Client have it.
type Core[O Output] interface {
	// Handle takes one datagram from a remote address.
	Handle(now time.Time, from netip.AddrPort, datagram []byte)
	// HandleTimeout does what is due at now.
	HandleTimeout(now time.Time)
	// Poll returns the next datagram or event; false when none is queued.
	Poll() (O, bool)
	// Deadline is when HandleTimeout has work next, zero for never.
	Deadline() time.Time
}

// Driver runs a Core over the mux's socket on the caller's goroutine: what
// Poll yields is sent through the mux or handed to the event function, and
// the core's deadline is kept on a timer. The caller's select loop feeds it
// datagrams (Handle), fires the timer (Timeout), and after anything else it
// did to the core calls Flush.
type Driver[O Output] struct {
	mux   *Mux
	core  Core[O]
	event func(O)
	timer *time.Timer
	// armed is the deadline the timer is set for, zero when it is stopped
	// or has fired.
	armed time.Time
}

// NewDriver returns a driver for c; event receives every output that is not
// a datagram (it runs on the driving goroutine and must not block).
func NewDriver[O Output](m *Mux, c Core[O], event func(O)) *Driver[O] {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Driver[O]{mux: m, core: c, event: event, timer: t}
}

// Handle passes a datagram to the core and flushes.
func (d *Driver[O]) Handle(now time.Time, from netip.AddrPort, b []byte) {
	d.core.Handle(now, from, b)
	d.Flush()
}

// Timeout runs the core's timers and flushes; the caller calls it once C
// fired.
func (d *Driver[O]) Timeout(now time.Time) {
	d.armed = time.Time{}
	d.core.HandleTimeout(now)
	d.Flush()
}

// Flush sends the core's datagrams and hands over its events.
func (d *Driver[O]) Flush() {
	for o, ok := d.core.Poll(); ok; o, ok = d.core.Poll() {
		if to, b, ok := o.Datagram(); ok {
			if err := d.mux.WriteTo(b, to); err != nil {
				d.mux.log.Debug("udp write", "to", to, "err", err)
			}
			continue
		}
		if d.event != nil {
			d.event(o)
		}
	}
}

// C fires when the core's deadline has come (see Rearm).
func (d *Driver[O]) C() <-chan time.Time { return d.timer.C }

// Rearm sets the timer to the core's deadline, or stops it when there is
// none. Most datagrams leave the deadline as it was: then the timer is left
// alone.
func (d *Driver[O]) Rearm(now time.Time) {
	dl := d.core.Deadline()
	if dl.Equal(d.armed) {
		return
	}
	d.armed = dl
	if !dl.IsZero() {
		d.timer.Reset(max(dl.Sub(now), 0))
	} else {
		d.timer.Stop()
	}
}

// Stop stops the timer.
func (d *Driver[O]) Stop() {
	d.armed = time.Time{}
	d.timer.Stop()
}
