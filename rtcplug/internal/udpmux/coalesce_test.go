package udpmux

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// simSocket is a socket in simulated time: datagrams arrive at given
// times; a read takes readCost and returns what has arrived (at most
// batchSize), and a read that waits moves the clock to the next arrival. The
// clock moves only there and in the read loop's pauses, so the test does not
// depend on the machine's speed.
type simSocket struct {
	now      time.Time
	arrivals []time.Time
	readCost time.Duration
	taken    int // datagrams read so far
	reads    int
	// reads and datagrams when the first pause began
	warmReads, warmTaken int
	pauses               []time.Duration
	pausedAt             []time.Time
	yields               int
	lastN                int // the latest read's datagrams
	// reads and datagrams before mark
	mark                     time.Time
	readsBefore, takenBefore int
	fullPaused               int // pauses right after a full read
	short                    int // reads that returned some datagrams, less than a batch
	pkt                      []byte
	src                      netip.AddrPort
}

// arrived is how many datagrams have arrived by now.
func (s *simSocket) arrived() int {
	n, _ := slices.BinarySearchFunc(s.arrivals, s.now, func(a, now time.Time) int {
		if a.After(now) {
			return 1
		}
		return -1
	})
	return n
}

func (s *simSocket) read(wait bool) (int, error) {
	if s.now.Before(s.mark) {
		s.readsBefore, s.takenBefore = s.reads+1, s.taken
	}
	s.reads++
	s.now = s.now.Add(s.readCost)
	n := s.arrived() - s.taken
	if n == 0 && wait {
		if s.taken == len(s.arrivals) {
			return 0, net.ErrClosed // the end of the test
		}
		s.now = s.arrivals[s.taken]
		n = 1
	}
	n = min(n, batchSize)
	s.taken += n
	s.lastN = n
	if n > 0 && n < batchSize {
		s.short++
	}
	return n, nil
}

func (s *simSocket) datagram(int) ([]byte, netip.AddrPort, error) { return s.pkt, s.src, nil }

// every returns the arrival times of datagrams every gap for d, from t.
func every(t time.Time, gap, d time.Duration) []time.Time {
	var a []time.Time
	for at := t; at.Before(t.Add(d)); at = at.Add(gap) {
		a = append(a, at)
	}
	return a
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// runSim runs the batched read loop over a simulated socket until every
// datagram is read.
func runSim(t *testing.T, arrivals []time.Time, readCost time.Duration) (*simSocket, *countEndpoint) {
	t.Helper()
	return runSimUntil(t, arrivals, readCost, time.Time{})
}

// runSimUntil is runSim that also counts the reads that began before mark.
func runSimUntil(t *testing.T, arrivals []time.Time, readCost time.Duration, mark time.Time) (*simSocket, *countEndpoint) {
	t.Helper()
	s := &simSocket{now: t0, arrivals: arrivals, readCost: readCost, mark: mark,
		pkt: []byte{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0}, src: netip.MustParseAddrPort("192.0.2.1:4000")}
	m := New(newMemConn(), netip.MustParseAddrPort("[::]:15000"), nil)
	m.co.now = func() time.Time { return s.now }
	m.co.yield = func() { s.yields++ }
	m.co.sleep = func(d time.Duration) {
		if len(s.pauses) == 0 {
			s.warmReads, s.warmTaken = s.reads, s.taken
		}
		if s.lastN == batchSize {
			s.fullPaused++
		}
		s.pauses = append(s.pauses, d)
		s.pausedAt = append(s.pausedAt, s.now)
		s.now = s.now.Add(d)
	}
	ep := &countEndpoint{}
	r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{s.src: ep}}
	if err := m.runBatch(context.Background(), r, s); err != nil {
		t.Fatal(err)
	}
	// The last read is the failing one.
	if st := m.Stats(); st.Reads != uint64(s.reads-1) || st.Received != uint64(s.taken) || st.Routed != uint64(s.taken) {
		t.Fatalf("stats %+v, socket: %d reads, %d datagrams", st, s.reads, s.taken)
	}
	if ep.n.Load() != int64(len(arrivals)) {
		t.Fatalf("routed %d of %d", ep.n.Load(), len(arrivals))
	}
	s.reads--
	return s, ep
}

// TestCoalesceLowRate: a lone peer's rate (here 100 datagrams a second)
// never pauses the read loop: each datagram is read the moment it arrives.
func TestCoalesceLowRate(t *testing.T) {
	s, _ := runSim(t, every(t0, 10*time.Millisecond, 2*time.Second), time.Microsecond)
	if len(s.pauses) != 0 || s.yields != 0 {
		t.Fatalf("%d pauses, %d yields at 100/s", len(s.pauses), s.yields)
	}
	if s.reads != s.taken {
		t.Fatalf("%d reads for %d datagrams", s.reads, s.taken)
	}
}

// TestCoalesceHighRate: at 40,000 datagrams a second, once the rate is
// measured, reads are spaced by at most coalesceMax, each returning several
// datagrams, and the peers get to run before every pause. When the load
// ends, a lone peer's datagrams are read at once again.
func TestCoalesceHighRate(t *testing.T) {
	const gap = 25 * time.Microsecond
	load := every(t0, gap, 2*time.Second)
	quiet := every(t0.Add(2*time.Second), 10*time.Millisecond, 2*time.Second)
	s, _ := runSimUntil(t, append(load, quiet...), time.Microsecond, t0.Add(2*time.Second))
	if len(s.pauses) == 0 {
		t.Fatal("no pauses at 40,000/s")
	}
	for _, d := range s.pauses {
		if d <= 0 || d > coalesceMax {
			t.Fatalf("pause of %v", d)
		}
	}
	if s.yields < len(s.pauses) {
		t.Fatalf("%d yields for %d pauses", s.yields, len(s.pauses))
	}
	// The first window reads one datagram per call; after it a read
	// returns coalesceMax/gap of them.
	if s.warmReads != s.warmTaken {
		t.Fatalf("before the first pause: %d reads for %d datagrams", s.warmReads, s.warmTaken)
	}
	perRead := float64(s.takenBefore-s.warmTaken) / float64(s.readsBefore-s.warmReads)
	if want := float64(coalesceMax / gap); perRead < want {
		t.Fatalf("%.1f datagrams per read, want at least %.1f", perRead, want)
	}
	// Quiet again: the pauses stop within a measuring window or two.
	if last := s.pausedAt[len(s.pausedAt)-1]; last.After(t0.Add(2*time.Second + 2*coalesceWindow)) {
		t.Fatalf("a pause at %v, after the load ended at 2s", last.Sub(t0))
	}
}

// TestCoalesceBacklog: while the socket holds more than a batch, reads
// follow each other at once (the peers run in between); only a short read
// is followed by a pause.
func TestCoalesceBacklog(t *testing.T) {
	// 100 datagrams arrive while a read takes place.
	s, _ := runSim(t, every(t0, time.Microsecond, 200*time.Millisecond), 100*time.Microsecond)
	if s.fullPaused != 0 {
		t.Fatalf("%d pauses after a full read", s.fullPaused)
	}
	if s.yields == 0 {
		t.Fatal("no yields")
	}
	if s.short > 1 {
		t.Fatalf("%d partly filled reads of %d", s.short, s.reads)
	}
}
