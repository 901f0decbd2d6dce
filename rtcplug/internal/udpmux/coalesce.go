package udpmux

import "time"

// Read coalescing. Under load each datagram costs a wake-up of the process,
// a recvmmsg(2) that returns it alone and one that finds the socket empty,
// and switches to its peer's goroutine and back: far more than the
// datagram's own work. When the socket delivers many datagrams per second,
// the read loop instead reads at a steady spacing, so that one call returns
// many datagrams, and pauses in between without waiting on the socket; the
// kernel buffer (SocketBuffer) holds what comes meanwhile. At a low rate
// reads wait on the socket as before: a lone peer's datagrams are read as
// soon as they come.
const (
	// coalesceMinRate is the datagram rate (per second) from which reads are
	// spaced: at coalesceMax apart, about four datagrams wait per read
	// (some 30 streams of 1 Mbit/s video).
	coalesceMinRate = 4 * float64(time.Second/coalesceMax)
	// coalesceMax bounds the spacing, and so the latency it adds: a small
	// part of a video frame's interval. Each pause costs the process a
	// sleep and a wake-up, so the longer the spacing the less CPU a
	// datagram takes.
	coalesceMax = time.Millisecond
	// coalesceWindow is how often the rate is measured.
	coalesceWindow = 50 * time.Millisecond
)

// coalescer decides when the read loop reads next.
type coalescer struct {
	now func() time.Time
	// yield lets the goroutines the last read made runnable (the peers) run;
	// sleep pauses the read loop without waiting on the socket.
	yield func()
	sleep func(time.Duration)

	// The datagrams of the current window, and when it began.
	count int
	start time.Time
	// interval is the spacing of reads that fills about a batch at the
	// measured rate, at most coalesceMax; 0 means reads wait on the socket.
	interval time.Duration
	// last is when the latest read returned; zero when the next read is due
	// at once (the latest one filled its batch).
	last time.Time
}

// spacing reports whether reads are spaced: then a read must not wait on the
// socket but return at once, empty if need be.
func (c *coalescer) spacing() bool { return c.interval > 0 }

// read notes a read that returned n datagrams (of at most max).
func (c *coalescer) read(n, max int) {
	now := c.now()
	c.last = now
	c.count += n
	if c.start.IsZero() {
		c.start = now
	}
	if el := now.Sub(c.start); el >= coalesceWindow {
		rate := float64(c.count) / el.Seconds()
		c.interval = 0
		if rate >= coalesceMinRate {
			c.interval = min(time.Duration(float64(max)/rate*float64(time.Second)), coalesceMax)
		}
		c.count, c.start = 0, now
	}
	if n >= max {
		c.last = time.Time{} // the socket may hold more
	}
}

// wait lets the peers run, then pauses until the next read is due: the
// spacing after the previous read, less the time its datagrams took.
func (c *coalescer) wait() {
	if c.interval == 0 {
		return
	}
	c.yield()
	if c.last.IsZero() {
		return
	}
	if d := c.interval - c.now().Sub(c.last); d > 0 {
		c.sleep(d)
	}
}
