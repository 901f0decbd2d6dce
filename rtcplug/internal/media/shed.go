package media

import (
	"time"
)

// Shedding: which keyframes are decoded when there is not budget for all.
//
// Each peer has at most one keyframe waiting (pending); a newer one takes the
// place of the older, which is dropped. Whenever the decoding budget has room
// a worker takes the pending keyframe of the peer that has gone longest
// without one taken: first every peer that never had one, in the order they
// first sent one, then the others, least recently served first. Under
// overload every peer is then served in turn at the same interval, about N
// divided by the keyframes decoded per second, and a new peer's first image
// comes within about (new peers) / (decodes per second); a burst of joins
// delays the others' next images as much, and joins are bounded by the peer
// limits. First come, first served, with keyframes shed at Submit while over
// budget, let the peers whose keyframes happened to arrive when the budget
// had room get images again and again while others waited many seconds for
// their first.
//
// Served is counted from when a worker takes the keyframe, not from when its
// JPEG is written: a peer being decoded is not taken again (its results stay
// in order) and a keyframe that fails to decode has still had its turn.
//
// Memory: pending frames hold at most PendingBytes together (frames being
// decoded, at most Workers of them, come on top). A keyframe that does not fit
// takes the place of the pending keyframe that would be served last, if that
// one's peer has waited less; otherwise it is dropped itself. Entries are
// one per peer, from its first keyframe until Leave (a peer that leaves while
// its keyframe is being decoded, and comes back under the same name before
// the worker is done, may have its next keyframe decoded alongside).
//
// A dropped keyframe may have been the sender's only one for a long while:
// senders such as browsers send keyframes at start and on request. So when a
// peer whose keyframe was dropped (with none pending in its place) would be
// served, there being room, it is asked for a fresh one
// (Config.RequestKeyframe) — at most once per askEvery, so that a swamped
// receiver does not flood its senders with requests. A replaced keyframe
// needs no request: its newer one is pending.
//
// Rate: a keyframe is charged to its peer's Limiter when it becomes pending;
// one that replaces a pending keyframe takes over that one's charge, and a
// pending keyframe dropped for room or for a newer one's failure to fit is
// refunded. So charges are keyframes decoded (or being decoded) plus those
// pending, and dropping never uses up a peer's rate.

// DefaultPendingBytes bounds the pending keyframes' bytes: a 640x480 keyframe
// is 20–60 KB and a 1280x720 one 50–150 KB, so hundreds of peers each have
// their place; and one MaxFrame keyframe always fits.
const DefaultPendingBytes = 32 << 20

// askEvery spaces the keyframe requests to one peer after dropped keyframes
// (a keyframe costs the sender bandwidth and its other receivers quality).
const askEvery = 2 * time.Second

// slot is one peer's place in the schedule.
type slot struct {
	key     peerKey
	index   int // in sched.all
	job     Job // valid when pending
	pending bool
	busy    bool // a worker has its keyframe
	served  bool // a keyframe was taken at least once
	// stamp orders the peers: the tick of the peer's first keyframe until it
	// is served, then of its latest keyframe taken.
	stamp uint64
	// lost: a keyframe was dropped since the last one taken and no newer one
	// is pending; asked is when the sender was last asked for one.
	lost  bool
	asked time.Time
}

// before reports whether a is served before b.
func (a *slot) before(b *slot) bool {
	if a.served != b.served {
		return !a.served
	}
	return a.stamp < b.stamp
}

// sched is the pending keyframes and the order in which they are served.
// The Pool's lock guards it; it does no I/O and reads no clock.
type sched struct {
	peers   map[peerKey]*slot
	all     []*slot // the same, for the scans (a slice is several times faster to walk)
	tick    uint64
	bytes   int64 // of pending frames
	limit   int64
	dropped uint64 // keyframes replaced or dropped here
	// Rate and RatePer of the peers' Limiters, for refunds.
	rate int
	per  time.Duration
}

func newSched(limit int64, rate int, per time.Duration) sched {
	return sched{peers: make(map[peerKey]*slot), limit: limit, rate: rate, per: per}
}

func frameBytes(j *Job) int64 { return int64(cap(j.Frame)) }

// put makes j its peer's pending keyframe, charging its Limiter at now unless
// it takes over a pending keyframe's charge. It reports whether j is pending
// and, if not, whether the Limiter refused it.
func (s *sched) put(j Job, now time.Time) (ok, limited bool) {
	k := peerKey{j.Conference, j.Peer}
	sl := s.peers[k]
	if sl == nil {
		s.tick++
		sl = &slot{key: k, stamp: s.tick, index: len(s.all)}
		s.peers[k] = sl
		s.all = append(s.all, sl)
	}
	size := frameBytes(&j)
	if sl.pending {
		// j replaces the pending keyframe, and takes over its charge, only
		// if it fits in the room that one leaves; otherwise the older one
		// stays, so the peer keeps a keyframe.
		if size > s.limit || !s.makeRoom(sl, size-frameBytes(&sl.job)) {
			s.dropped++
			return false, false
		}
		s.unpend(sl)
	} else if j.Limit != nil && !j.Limit.allow(now, s.rate, s.per) {
		return false, true
	}
	if size > s.limit || !s.makeRoom(sl, size) {
		s.refund(&j)
		s.dropped++
		sl.lost = true
		return false, false
	}
	sl.job, sl.pending, sl.lost = j, true, false
	s.bytes += size
	return true, false
}

// unpend drops sl's pending keyframe.
func (s *sched) unpend(sl *slot) {
	s.bytes -= frameBytes(&sl.job)
	sl.job, sl.pending = Job{}, false
	s.dropped++
}

func (s *sched) refund(j *Job) {
	if j.Limit != nil {
		j.Limit.refund(s.rate, s.per)
	}
}

// makeRoom drops the pending keyframes served after sl's until size more
// bytes fit, or reports false (dropping nothing) when they cannot.
func (s *sched) makeRoom(sl *slot, size int64) bool {
	need := s.bytes + size - s.limit
	if need <= 0 {
		return true
	}
	var free int64
	for _, o := range s.all {
		if o.pending && sl.before(o) {
			free += frameBytes(&o.job)
		}
	}
	if free < need {
		return false
	}
	for s.bytes+size > s.limit {
		var last *slot
		for _, o := range s.all {
			if o.pending && sl.before(o) && (last == nil || last.before(o)) {
				last = o
			}
		}
		s.refund(&last.job)
		s.unpend(last)
		last.lost = true
	}
	return true
}

// take hands out the pending keyframe of the peer that has waited longest
// and appends to asks the peers that have waited longer still, lost a
// keyframe and may be asked for one at now. ask is the earliest time a peer
// passed over only for askEvery may be asked (zero if none).
func (s *sched) take(now time.Time, asks []peerKey) (j Job, ok bool, _ []peerKey, ask time.Time) {
	var next *slot
	for _, sl := range s.all {
		if sl.pending && !sl.busy && (next == nil || sl.before(next)) {
			next = sl
		}
	}
	for _, sl := range s.all {
		if !sl.lost || sl.pending || sl.busy || next != nil && next.before(sl) {
			continue
		}
		if at := sl.asked.Add(askEvery); !sl.asked.IsZero() && now.Before(at) {
			if ask.IsZero() || at.Before(ask) {
				ask = at
			}
			continue
		}
		sl.lost, sl.asked = false, now
		asks = append(asks, sl.key)
	}
	if next == nil {
		return Job{}, false, asks, ask
	}
	j = next.job
	s.bytes -= frameBytes(&j)
	s.tick++
	next.job, next.pending, next.busy, next.served, next.stamp, next.lost = Job{}, false, true, true, s.tick, false
	return j, true, asks, ask
}

// done marks the peer's keyframe taken by take as finished.
func (s *sched) done(k peerKey) {
	if sl := s.peers[k]; sl != nil {
		sl.busy = false
	}
}

// leave forgets a peer, dropping its pending keyframe.
func (s *sched) leave(k peerKey) {
	sl := s.peers[k]
	if sl == nil {
		return
	}
	if sl.pending {
		s.unpend(sl)
	}
	delete(s.peers, k)
	last := s.all[len(s.all)-1]
	last.index = sl.index
	s.all[sl.index] = last
	s.all[len(s.all)-1] = nil
	s.all = s.all[:len(s.all)-1]
}
