package media

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// overload runs n peers, each sending a keyframe every gop (the first ones
// spread over the first gop, as peers join), for d of virtual time against
// one worker whose every keyframe costs cost and whose budget is budget per
// second. It returns the peers in the order their keyframes were taken, when
// each peer first sent one and when it was first taken.
type overload struct {
	n              int
	gop, cost, d   time.Duration
	budget         time.Duration
	pending        int64 // PendingBytes; 0 = default
	order          []int
	joined, first  []time.Duration
	maxBytes       int64
	stats          Stats
	frame          []byte
	requests       map[string]int
	requestsBefore map[string]int // before the first take of that peer
}

func (o *overload) run(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		t0 := time.Now()
		o.joined, o.first = make([]time.Duration, o.n), make([]time.Duration, o.n)
		for i := range o.first {
			o.first[i] = -1
		}
		o.requests, o.requestsBefore = map[string]int{}, map[string]int{}
		p := NewPool(context.Background(), Config{Workers: 1, PendingBytes: o.pending,
			RequestKeyframe: func(_, peer string) {
				mu.Lock()
				o.requests[peer]++
				mu.Unlock()
			}})
		defer p.Close()
		p.budget = o.budget
		p.handle = func(_ *worker, j Job) {
			var i int
			fmt.Sscan(j.Peer, &i)
			mu.Lock()
			o.order = append(o.order, i)
			if o.first[i] < 0 {
				o.first[i] = time.Since(t0)
			}
			mu.Unlock()
			time.Sleep(o.cost)
		}
		frame := o.frame
		if frame == nil {
			frame = smallKeyframe
		}
		const step = 10 * time.Millisecond
		for at := time.Duration(0); at < o.d; at += step {
			for i := range o.n {
				off := o.gop * time.Duration(i) / time.Duration(o.n) / step * step
				if at >= off && (at-off)%o.gop == 0 {
					if at == off {
						o.joined[i] = at
					}
					p.Submit(Job{Conference: "c", Peer: fmt.Sprint(i), Frame: frame})
				}
			}
			p.mu.Lock()
			o.maxBytes = max(o.maxBytes, p.q.bytes)
			p.mu.Unlock()
			time.Sleep(step)
		}
		synctest.Wait()
		o.stats = p.Stats()
	})
}

// TestFairUnderOverload: 40 peers send a keyframe every 2 s, twice what the
// budget can decode. Every peer gets its first image before any gets a
// second, within about n / (decodes per second) of joining, and over two
// minutes the peers' image counts differ by at most one.
func TestFairUnderOverload(t *testing.T) {
	o := &overload{n: 40, gop: 2 * time.Second, cost: 20 * time.Millisecond, budget: 200 * time.Millisecond, d: 2 * time.Minute}
	o.run(t)
	if len(o.order) < o.n {
		t.Fatalf("%d keyframes decoded", len(o.order))
	}
	seen := map[int]bool{}
	for k, i := range o.order[:o.n] {
		if seen[i] {
			t.Fatalf("peer %d served twice among the first %d (at %d): %v", i, o.n, k, o.order[:o.n])
		}
		seen[i] = true
	}
	// Budget 200 ms/s at 20 ms each: 10 decodes a second, so 40 peers
	// (joining over 2 s) all have their first within about 4 s.
	rate := float64(o.budget) / float64(o.cost)
	bound := time.Duration(float64(o.n)/rate*float64(time.Second)) + o.cost
	for i := range o.n {
		if w := o.first[i] - o.joined[i]; w < 0 || w > bound {
			t.Errorf("peer %d: first image %v after joining, want within %v", i, w, bound)
		}
	}
	counts := make([]int, o.n)
	for _, i := range o.order {
		counts[i]++
	}
	lo, hi := counts[0], counts[0]
	for _, c := range counts {
		lo, hi = min(lo, c), max(hi, c)
	}
	if hi-lo > 1 {
		t.Errorf("images per peer from %d to %d: %v", lo, hi, counts)
	}
	// Half of the keyframes could not be decoded: dropped, not queued.
	total := uint64(len(o.order))
	if s := o.stats; s.Dropped == 0 || s.RateLimited != 0 || s.Dropped+total > uint64(o.n)*uint64(o.d/o.gop) {
		t.Errorf("stats %+v, %d taken", s, total)
	}
	if hi < int(rate*o.d.Seconds())/o.n-2 {
		t.Errorf("only %d images per peer: the budget was not used", hi)
	}
	t.Logf("%d keyframes decoded (%d to %d per peer), %d dropped", total, lo, hi, o.stats.Dropped)
}

// TestPendingBytesBound: with room for only ten pending keyframes among 40
// peers, the pending bytes never pass the bound, the keyframes that do not
// fit are dropped and counted, their peers are asked for new ones, and the
// peers still take turns.
func TestPendingBytesBound(t *testing.T) {
	frame := firstFrame(t)
	limit := int64(10 * cap(frame))
	o := &overload{n: 40, gop: 2 * time.Second, cost: 20 * time.Millisecond, budget: 200 * time.Millisecond,
		d: time.Minute, pending: limit, frame: frame}
	o.run(t)
	if o.maxBytes > limit {
		t.Fatalf("%d bytes pending, bound %d", o.maxBytes, limit)
	}
	counts := make([]int, o.n)
	for _, i := range o.order {
		counts[i]++
	}
	lo, hi := counts[0], counts[0]
	for _, c := range counts {
		lo, hi = min(lo, c), max(hi, c)
	}
	if lo == 0 || hi-lo > 2 {
		t.Errorf("images per peer from %d to %d: %v", lo, hi, counts)
	}
	asked := 0
	for _, n := range o.requests {
		asked += n
	}
	// At most one request per peer per askEvery.
	if asked == 0 || asked > o.n*int(o.d/askEvery) {
		t.Errorf("%d keyframe requests", asked)
	}
	t.Logf("%d decoded (%d to %d per peer), %d dropped, %d requests", len(o.order), lo, hi, o.stats.Dropped, asked)
}

// job is a keyframe of peer with a frame of n bytes.
func job(peer string, n int) Job {
	return Job{Conference: "c", Peer: peer, Frame: make([]byte, n)}
}

func taken(t *testing.T, s *sched, now time.Time) string {
	t.Helper()
	j, ok, _, _ := s.take(now, nil)
	if !ok {
		return ""
	}
	s.done(peerKey{j.Conference, j.Peer})
	return j.Peer
}

// TestSchedRoomGoesToLongestWaiting: over the bound, a keyframe takes the
// place of the pending one served last if its peer has waited longer, and
// is dropped itself otherwise; one beyond the bound is dropped.
func TestSchedRoomGoesToLongestWaiting(t *testing.T) {
	now := time.Unix(100, 0)
	q := newSched(300, 0, 0)
	s := &q
	for _, p := range []string{"a", "b", "c"} {
		if ok, _ := s.put(job(p, 100), now); !ok {
			t.Fatalf("%s refused", p)
		}
	}
	// d never had an image either, but joined last: it waits its turn.
	if ok, _ := s.put(job("d", 100), now); ok || s.dropped != 1 || !s.peers[peerKey{"c", "d"}].lost {
		t.Fatalf("d admitted over the bound (dropped %d)", s.dropped)
	}
	if got := taken(t, s, now) + taken(t, s, now); got != "ab" {
		t.Fatalf("served %q, want ab", got)
	}
	// a and b served; their new keyframes wait behind c and d.
	s.put(job("a", 100), now)
	s.put(job("b", 100), now)
	// d, never served, takes the place of b, the last to be served.
	if ok, _ := s.put(job("d", 100), now); !ok {
		t.Fatal("d refused though it waited longest")
	}
	if s.bytes != 300 || s.peers[peerKey{"c", "b"}].pending || !s.peers[peerKey{"c", "b"}].lost || s.dropped != 2 {
		t.Fatalf("bytes %d, dropped %d", s.bytes, s.dropped)
	}
	// A larger keyframe that does not fit in place of one's own pending one
	// is dropped; the pending one stays.
	if ok, _ := s.put(job("a", 250), now); ok || !s.peers[peerKey{"c", "a"}].pending || s.peers[peerKey{"c", "a"}].lost ||
		s.dropped != 3 || s.bytes != 300 {
		t.Fatalf("oversized replacement: dropped %d, bytes %d", s.dropped, s.bytes)
	}
	if ok, _ := s.put(job("e", 301), now); ok || s.dropped != 4 {
		t.Fatal("a keyframe beyond the bound was admitted")
	}
	if got := taken(t, s, now) + taken(t, s, now) + taken(t, s, now) + taken(t, s, now); got != "cda" {
		t.Fatalf("served %q, want cda", got)
	}
	if s.bytes != 0 {
		t.Fatalf("%d bytes left", s.bytes)
	}
}

// TestSchedAsksOnceThereIsRoom: a peer whose keyframe was dropped is asked
// for a new one when its turn comes, at most once per askEvery; a peer whose
// keyframe was replaced is not asked (its newer one waits).
func TestSchedAsksOnceThereIsRoom(t *testing.T) {
	now := time.Unix(100, 0)
	q := newSched(100, 0, 0)
	s := &q
	s.put(job("a", 100), now)
	s.put(job("a", 100), now) // replaced: nothing to ask
	s.put(job("b", 100), now) // no room: dropped
	j, ok, asks, _ := s.take(now, nil)
	// b joined after a, so its turn comes after a's.
	if !ok || j.Peer != "a" || len(asks) != 0 {
		t.Fatalf("took %q, asked %v", j.Peer, asks)
	}
	s.done(peerKey{"c", "a"})
	_, ok, asks, _ = s.take(now, nil)
	if ok || len(asks) != 1 || asks[0].peer != "b" {
		t.Fatalf("asked %v, want b", asks)
	}
	// Asked once: not again for the same loss.
	if _, _, asks, _ = s.take(now, nil); len(asks) != 0 {
		t.Fatalf("asked again: %v", asks)
	}
	// b's answer is decoded; then it loses another, within askEvery.
	s.put(job("b", 100), now)
	if got := taken(t, s, now); got != "b" {
		t.Fatalf("took %q", got)
	}
	s.put(job("a", 100), now)
	s.put(job("b", 100), now.Add(time.Second)) // a has waited longer: b's is dropped
	j, ok, asks, _ = s.take(now.Add(time.Second), nil)
	if !ok || j.Peer != "a" || len(asks) != 0 {
		t.Fatalf("took %q, asked %v", j.Peer, asks)
	}
	s.done(peerKey{"c", "a"})
	_, _, asks, at := s.take(now.Add(time.Second), nil)
	if len(asks) != 0 || !at.Equal(now.Add(askEvery)) {
		t.Fatalf("asked %v, next at %v", asks, at)
	}
	if _, _, asks, _ = s.take(now.Add(askEvery), nil); len(asks) != 1 || asks[0].peer != "b" {
		t.Fatalf("not asked after askEvery: %v", asks)
	}
}

// TestSchedRateCharges: a keyframe replacing a pending one takes over its
// charge, and one dropped for room is refunded: dropping never uses up the
// peer's rate.
func TestSchedRateCharges(t *testing.T) {
	now := time.Unix(100, 0)
	q := newSched(200, 2, time.Second)
	s := &q
	var la, lb Limiter
	put := func(peer string, l *Limiter, n int) bool {
		j := job(peer, n)
		j.Limit = l
		ok, _ := s.put(j, now)
		return ok
	}
	put("a", &la, 100)
	taken(t, s, now) // a has had its image
	if !put("a", &la, 100) {
		t.Fatal("second keyframe refused")
	}
	// Two charged at 2/s: a third would be over the rate, but it replaces.
	for range 5 {
		if !put("a", &la, 100) {
			t.Fatal("a replacement was charged")
		}
	}
	// b has waited longer (never served): a's pending keyframe gives way and
	// is refunded, so a may send another at once.
	if !put("b", &lb, 150) || s.peers[peerKey{"c", "a"}].pending {
		t.Fatal("b did not get a's place")
	}
	if !la.allow(now, 2, time.Second) {
		t.Fatal("the dropped keyframe stayed charged")
	}
	// A keyframe that finds no room is not charged either.
	lb = Limiter{}
	taken(t, s, now)
	put("x", nil, 200)
	if put("b", &lb, 100) || !lb.allow(now, 2, time.Second) || !lb.allow(now, 2, time.Second) {
		t.Fatal("b charged for a keyframe dropped")
	}
}

// TestLeaveDropsPending: a peer that ends takes its pending keyframe with it
// (counted), and its place in the schedule; the others keep theirs.
func TestLeaveDropsPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var done []string
		p := NewPool(context.Background(), Config{Workers: 1})
		defer p.Close()
		p.handle = func(_ *worker, j Job) {
			<-release
			done = append(done, j.Peer)
		}
		p.Submit(Job{Conference: "c", Peer: "a", Frame: smallKeyframe})
		synctest.Wait() // a is being decoded
		p.Submit(Job{Conference: "c", Peer: "b", Frame: smallKeyframe})
		p.Submit(Job{Conference: "c", Peer: "c", Frame: smallKeyframe})
		p.Leave("c", "b")
		p.Leave("c", "a") // while its keyframe is being decoded
		p.Leave("c", "z") // never seen
		p.mu.Lock()
		n, all, bytes := len(p.q.peers), len(p.q.all), p.q.bytes
		p.mu.Unlock()
		if s := p.Stats(); n != 1 || all != 1 || bytes != int64(cap(smallKeyframe)) || s.Dropped != 1 {
			t.Fatalf("%d peers (%d), %d bytes left; stats %+v", n, all, bytes, s)
		}
		close(release)
		synctest.Wait()
		p.Leave("c", "c")
		p.mu.Lock()
		n, all = len(p.q.peers), len(p.q.all)
		p.mu.Unlock()
		if n != 0 || all != 0 || len(done) != 2 || done[1] != "c" {
			t.Fatalf("%d peers (%d) after the work; decoded %v", n, all, done)
		}
	})
}

// BenchmarkSchedule: one keyframe in and one out of the schedule of 1,000
// peers that all have one waiting (the worst case of the scans): the cost
// per keyframe beside a decode of milliseconds.
func BenchmarkSchedule(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			q := newSched(DefaultPendingBytes, DefaultRate, DefaultRatePer)
			now := time.Unix(100, 0)
			jobs := make([]Job, n)
			lims := make([]Limiter, n)
			for i := range jobs {
				jobs[i] = Job{Conference: "c", Peer: fmt.Sprint(i), Frame: make([]byte, 1000), Limit: &lims[i]}
				q.put(jobs[i], now)
			}
			var asks []peerKey
			b.ReportAllocs()
			c0 := schedCPU()
			b.ResetTimer()
			for i := range b.N {
				now = now.Add(time.Second)
				var j Job
				j, _, asks, _ = q.take(now, asks[:0])
				q.done(peerKey{j.Conference, j.Peer})
				q.put(jobs[i%n], now)
			}
			if c := schedCPU() - c0; c > 0 {
				b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// idle reports whether nothing is pending or being decoded.
func (s *sched) idle() bool {
	for _, sl := range s.all {
		if sl.pending || sl.busy {
			return false
		}
	}
	return true
}
