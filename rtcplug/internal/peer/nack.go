package peer

import (
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtcp"
)

// Loss recovery with generic NACKs (RFC 4585 §6.2.1). A packet missing
// behind a later one is not asked for at once: it may only be reordered, so
// it waits for a short reorder allowance first. Then it is NACKed, and NACKed
// again a few times, spaced by the measured round-trip time, as long as the
// reorder buffer holds what came after it: the NACK or the retransmission
// may be lost too (at 20% loss each way, one try in three fails). When the
// tries are spent, the packet is given up and a keyframe is asked for; the
// reorder buffer waits long enough for all tries, so a keyframe is still
// assembled from its retransmissions.
const (
	// nackAllowance is the least time a missing packet waits before its
	// first NACK: reordering on a path is mostly a few milliseconds.
	nackAllowance = 20 * time.Millisecond
	// maxNACKAllowance bounds the allowance that jitter may ask for.
	maxNACKAllowance = 100 * time.Millisecond
	// nackTries is how often one packet is asked for.
	nackTries = 5
	// defaultRTT spaces the retries until a retransmission has been timed.
	defaultRTT = 100 * time.Millisecond
	// minNACKSpacing and maxNACKSpacing bound the spacing of retries.
	minNACKSpacing = 10 * time.Millisecond
	maxNACKSpacing = 250 * time.Millisecond
	// maxReorderWait bounds how long packets wait for a gap to fill.
	maxReorderWait = time.Second
)

// maxNACK bounds the sequence numbers asked for in one NACK packet.
const maxNACK = 32

// nackEntry is one missing packet being asked for.
type nackEntry struct {
	used  bool
	ext   uint64
	due   time.Time // when the next NACK for it goes out
	sent  time.Time // when the latest one went out
	tries int
}

// nackState tracks missing packets by extended sequence number, in a table
// as large as the reorder window: what is further back has been given up.
type nackState struct {
	e   [ReorderSlots]nackEntry
	n   int
	rtt time.Duration // smoothed round-trip time, 0 before the first sample
}

// rttOrDefault is the smoothed RTT, or defaultRTT before any sample.
func (s *nackState) rttOrDefault() time.Duration {
	if s.rtt == 0 {
		return defaultRTT
	}
	return s.rtt
}

// spacing is the time between two NACKs of one packet: a little more than a
// round trip, so that the retransmission of the previous one had its chance.
func (s *nackState) spacing() time.Duration {
	d := s.rttOrDefault() + s.rttOrDefault()/4
	return min(max(d, minNACKSpacing), maxNACKSpacing)
}

// allowance is how long a missing packet may be late before it is NACKed:
// nackAllowance, or more when the stream's jitter (RFC 3550 §6.4.1) says
// packets are often that late.
func (p *Peer) allowance() time.Duration {
	j := time.Duration(p.video.jitter / videoClock * float64(time.Second))
	return min(max(nackAllowance, 3*j), maxNACKAllowance)
}

// reorderWait is how long packets wait for a gap to fill: with NACKs, long
// enough for every try; without, ReorderWait.
func (p *Peer) reorderWait() time.Duration {
	if !p.nack {
		return ReorderWait
	}
	w := p.allowance() + time.Duration(nackTries)*p.nk.spacing()
	return min(max(w, ReorderWait), maxReorderWait)
}

// nackGap notes the packets missing before ext, which just arrived ahead of
// them; each is first NACKed after the allowance (nackTimeout).
func (p *Peer) nackGap(now time.Time, ext uint64) {
	r := &p.reorder
	from := max(r.next, r.nackFrom)
	r.nackFrom = max(r.nackFrom, ext+1)
	if !p.nack || ext <= from {
		return
	}
	due := now.Add(p.allowance())
	for e := from; e < ext; e++ {
		if s := &r.slots[e%ReorderSlots]; s.used && s.ext == e {
			continue
		}
		ne := &p.nk.e[e%ReorderSlots]
		if !ne.used {
			p.nk.n++
		}
		*ne = nackEntry{used: true, ext: e, due: due}
	}
	r.wait = p.reorderWait()
}

// nackSeen notes the arrival of video packet ext: it is no longer missing.
// The first NACK's answer times a round trip (later ones are ambiguous, as
// in Karn's algorithm, RFC 6298 §5).
func (p *Peer) nackSeen(now time.Time, ext uint64) {
	ne := &p.nk.e[ext%ReorderSlots]
	if !ne.used || ne.ext != ext {
		return
	}
	if ne.tries == 1 {
		sample := now.Sub(ne.sent)
		if p.nk.rtt == 0 {
			p.nk.rtt = sample
		} else {
			p.nk.rtt += (sample - p.nk.rtt) / 8 // RFC 6298 §2.3, alpha 1/8
		}
		p.reorder.wait = p.reorderWait()
	}
	*ne = nackEntry{}
	p.nk.n--
}

// nackDeadline is when the next NACK is due; zero for none.
func (p *Peer) nackDeadline() time.Time {
	if p.nk.n == 0 {
		return time.Time{}
	}
	var d time.Time
	for i := range p.nk.e {
		if ne := &p.nk.e[i]; ne.used && (d.IsZero() || ne.due.Before(d)) {
			d = ne.due
		}
	}
	return d
}

// nackTimeout sends the NACKs that are due, drops the entries that no longer
// matter (delivered, given up, arrived) and asks for a keyframe for a packet
// whose tries are spent.
func (p *Peer) nackTimeout(now time.Time) {
	if p.nk.n == 0 {
		return
	}
	r := &p.reorder
	var lost [maxNACK]uint16
	n, gaveUp := 0, false
	for i := range p.nk.e {
		ne := &p.nk.e[i]
		if !ne.used || now.Before(ne.due) {
			continue
		}
		s := &r.slots[ne.ext%ReorderSlots]
		switch {
		case ne.ext < r.next, s.used && s.ext == ne.ext:
			// Skipped by the reorder buffer, or arrived after all.
		case ne.tries >= nackTries:
			gaveUp = true
		case n < maxNACK && p.video.ssrc != 0:
			lost[n] = uint16(ne.ext)
			n++
			ne.tries++
			ne.sent = now
			ne.due = now.Add(p.nk.spacing())
			continue
		default:
			ne.due = now.Add(minNACKSpacing) // the next NACK packet takes it
			continue
		}
		*ne = nackEntry{}
		p.nk.n--
	}
	if gaveUp {
		p.gap(now)
	}
	if n == 0 {
		return
	}
	buf := rtcp.AppendNACK(p.compound(now, false), p.ssrc, p.video.ssrc, lost[:n])
	p.stats.NACKs++
	p.sendRTCP(buf)
}
