package udpmux

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
)

// Bounds of a peer's queues.
const (
	// InboxSize is how many datagrams may wait for a peer; more are dropped
	// (a burst of a keyframe at high bitrate fits).
	InboxSize = 512
	// ctrlSize bounds pending control calls (answer, close, stats).
	ctrlSize = 8
)

// ErrLoopDone is returned by Do once the peer has ended.
var ErrLoopDone = errors.New("udpmux: peer ended")

// Handler receives a peer's events other than Transmit, on the peer's
// goroutine. It must not block.
type Handler func(ev peer.Event)

// Loop is the goroutine that owns one peer.Peer: datagrams, control calls and
// the peer's timer all run here, so the peer needs no lock.
type Loop struct {
	mux   *Mux
	p     *peer.Peer
	d     *Driver[peer.Event]
	h     Handler
	inbox inbox
	ctrl  chan ctrlReq
	done  chan struct{}
	now   func() time.Time

	// stats is a copy of the peer's counters, refreshed at most every
	// statsEvery so that readers never touch the peer itself.
	statsMu  sync.Mutex
	stats    peer.Stats
	statsPub time.Time
}

// statsEvery bounds how often a loop copies its peer's counters.
const statsEvery = 250 * time.Millisecond

// Stats returns the peer's counters as of at most statsEvery ago (final once
// Done is closed).
func (l *Loop) Stats() peer.Stats {
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	return l.stats
}

func (l *Loop) publish(now time.Time, force bool) {
	if !force && now.Sub(l.statsPub) < statsEvery {
		return
	}
	l.statsPub = now
	st := l.p.Stats()
	l.statsMu.Lock()
	l.stats = st
	l.statsMu.Unlock()
}

type inbound struct {
	src netip.AddrPort
	buf *Buffer
}

// inbox is a peer's queue of datagrams: the socket's reader appends, the
// peer's goroutine takes everything queued at once, so a peer that fell
// behind catches up with one wake-up. Its two slices grow with the largest
// burst seen (at most InboxSize), not up front: most peers never queue more
// than a few datagrams.
type inbox struct {
	mu    sync.Mutex
	q     []inbound
	spare []inbound // the slice the peer took last, handed back empty
	ended bool      // the peer's goroutine returned: drop
	wake  chan struct{}
}

// put queues in, false when the inbox is full or the peer ended.
func (b *inbox) put(in inbound) bool {
	b.mu.Lock()
	if b.ended || len(b.q) >= InboxSize {
		b.mu.Unlock()
		return false
	}
	b.q = append(b.q, in)
	first := len(b.q) == 1
	b.mu.Unlock()
	if first {
		// The queue was empty: the peer's goroutine may be waiting. One
		// token is enough, it takes the whole queue.
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// take returns what is queued; the caller gives it back with giveBack.
func (b *inbox) take() []inbound {
	b.mu.Lock()
	q := b.q
	b.q = b.spare[:0]
	b.spare = nil
	b.mu.Unlock()
	return q
}

// giveBack returns a slice take returned, its buffers released.
func (b *inbox) giveBack(q []inbound) {
	clear(q) // no references to released buffers
	b.mu.Lock()
	b.spare = q[:0]
	b.mu.Unlock()
}

// end drops what waits and refuses what comes.
func (b *inbox) end() {
	b.mu.Lock()
	b.ended = true
	q := b.q
	b.q = nil
	b.mu.Unlock()
	for _, in := range q {
		in.buf.Release()
	}
}

type ctrlReq struct {
	fn  func(now time.Time, p *peer.Peer) error
	res chan error
}

// NewLoop prepares the loop of p; Run starts it. Datagrams delivered before
// Run wait in the inbox.
func NewLoop(m *Mux, p *peer.Peer, h Handler) *Loop {
	l := &Loop{
		mux:   m,
		p:     p,
		h:     h,
		inbox: inbox{wake: make(chan struct{}, 1)},
		ctrl:  make(chan ctrlReq, ctrlSize),
		done:  make(chan struct{}),
		now:   time.Now,
	}
	l.d = NewDriver[peer.Event](m, p, l.event)
	return l
}

// Deliver queues a datagram without blocking; false when the inbox is full or
// the peer ended.
func (l *Loop) Deliver(src netip.AddrPort, b *Buffer) bool {
	return l.inbox.put(inbound{src, b})
}

// Register routes Binding requests for the peer's local ufrag to this loop;
// the addresses its ICE authenticates follow as the peer reports them. The
// routes go when Run returns, or with Unregister for a loop never run.
func (l *Loop) Register(ufrag string) error { return l.mux.routes.Add(ufrag, l) }

// Unregister drops the loop's routes.
func (l *Loop) Unregister() { l.mux.routes.Remove(l) }

// Done is closed when Run returned.
func (l *Loop) Done() <-chan struct{} { return l.done }

// Do runs fn on the loop's goroutine and returns its error; the peer's events
// are drained afterwards.
func (l *Loop) Do(ctx context.Context, fn func(now time.Time, p *peer.Peer) error) error {
	req := ctrlReq{fn: fn, res: make(chan error, 1)}
	select {
	case l.ctrl <- req:
	case <-l.done:
		return ErrLoopDone
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.res:
		return err
	case <-l.done:
		return ErrLoopDone
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close asks the peer to close (close_notify) and does not wait.
func (l *Loop) Close() {
	req := ctrlReq{fn: func(now time.Time, p *peer.Peer) error { p.Close(now); return nil }, res: make(chan error, 1)}
	select {
	case l.ctrl <- req:
	case <-l.done:
	default:
		// The control queue is full of pending work; the peer still ends at
		// its next deadline or when the host context ends.
	}
}

// Run drives the peer until it reaches a final state or ctx ends (then the
// peer is closed first, so the client hears close_notify).
func (l *Loop) Run(ctx context.Context) {
	defer close(l.done)
	defer l.Unregister()
	defer func() { l.publish(time.Time{}, true) }()
	defer l.inbox.end()
	defer l.d.Stop()
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			l.p.Close(l.now())
			l.d.Flush()
			return
		case <-l.inbox.wake:
			// One reading of the clock for all that waits: the datagrams
			// were all in the socket by now.
			now = l.now()
			l.handle(now, l.inbox.take())
		case req := <-l.ctrl:
			now = l.now()
			err := req.fn(now, l.p)
			l.d.Flush()
			req.res <- err
		case <-l.d.C():
			now = l.now()
			l.d.Timeout(now)
		}
		if l.p.State().Done() {
			return
		}
		l.publish(now, false)
		l.d.Rearm(now)
	}
}

// handle passes the queued datagrams to the peer, in order, and releases
// them.
func (l *Loop) handle(now time.Time, q []inbound) {
	for i, in := range q {
		if l.p.State().Done() {
			for _, rest := range q[i:] {
				rest.buf.Release()
			}
			break
		}
		if msg, ok := in.buf.Binding(); ok {
			l.p.HandleSTUN(now, in.src, msg)
			l.d.Flush()
		} else {
			l.d.Handle(now, in.src, in.buf.B)
		}
		in.buf.Release()
	}
	l.inbox.giveBack(q)
}

// event applies the peer's routing events to the mux's table and hands
// every event to the handler.
func (l *Loop) event(ev peer.Event) {
	switch ev.Kind {
	case peer.Bind:
		l.mux.routes.Bind(l, ev.Addr)
	case peer.Unbind:
		l.mux.routes.Unbind(l, ev.Addr)
	case peer.Active:
		l.mux.routes.Activate(l, ev.Addr)
	}
	if l.h != nil {
		l.h(ev)
	}
}
