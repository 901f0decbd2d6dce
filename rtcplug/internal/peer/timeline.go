package peer

import (
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtcp"
)

// The timeline puts the audio and the video of one sender on one clock, so a
// recording can play them in sync, and releases Opus packets in sequence
// order.
//
// Each source's RTP timestamps run on their own clock from a random start
// (RFC 3550 §5.1); only a sender report ties them to the sender's wall clock:
// its NTP timestamp and RTP timestamp name the same instant (RFC 3550
// §6.4.1). The sender's wall clock is not ours, so the first report fixes
// the offset between the two (our arrival time minus its NTP time); every
// report after that re-anchors its source at NTP time plus that offset. Both
// sources of a sender share its wall clock, so with one offset they land on
// one timeline. Before a source's first report, its first packet's arrival
// anchors it: the arrival time is taken as the capture time of that packet
// and the RTP clock spaces the rest, so jitter does not move frames.

// Bounds of the audio reorder buffer: Opus packets of 20 ms wait at most
// AudioReorderWait for a gap before them to fill.
const (
	AudioReorderSlots = 16
	AudioReorderWait  = 60 * time.Millisecond
)

// Timeline limits.
const (
	// reanchorAfter keeps the RTP difference from an anchor far from the
	// 32-bit wrap: past it the anchor moves to the current packet.
	reanchorAfter = 60 // seconds
	// srStep is a sender-report disagreement taken as the sender stepping
	// its wall clock rather than drift: the offset follows the step, so the
	// timeline stays continuous.
	srStep = 5 * time.Second
)

// ntpUnixOffset is the number of seconds from 1900-01-01, the origin of NTP
// timestamps (RFC 5905 §6), to the Unix epoch.
const ntpUnixOffset = 2208988800

// ntpTime converts a 64-bit NTP timestamp (32.32 fixed point seconds).
func ntpTime(ntp uint64) time.Time {
	sec := ntp >> 32
	frac := ntp & 0xffffffff
	return time.Unix(int64(sec)-ntpUnixOffset, int64((frac*1e9+1<<31)>>32)).UTC() // rounded to the ns
}

// sourceClock maps one source's RTP timestamps to the timeline.
type sourceClock struct {
	set      bool
	fromSR   bool
	ssrc     uint32
	rate     int
	anchorTS uint32
	anchorAt time.Time
}

// at maps ts of ssrc; arrival anchors a source not seen before.
func (c *sourceClock) at(arrival time.Time, ssrc, ts uint32, rate int) time.Time {
	if !c.set || c.ssrc != ssrc {
		*c = sourceClock{set: true, ssrc: ssrc, rate: rate, anchorTS: ts, anchorAt: arrival}
		return arrival
	}
	d := int64(int32(ts - c.anchorTS))
	t := c.anchorAt.Add(time.Duration(d * int64(time.Second) / int64(c.rate)))
	if d > reanchorAfter*int64(c.rate) || d < -reanchorAfter*int64(c.rate) {
		c.anchorTS, c.anchorAt = ts, t
	}
	return t
}

// timeline is the peer's clock mapping and audio reorder state.
type timeline struct {
	video, audio sourceClock
	offset       time.Duration // our clock minus the sender's NTP clock
	haveOffset   bool
	reports      uint64 // sender reports applied

	ar audioReorder
}

// senderReport applies an SR of ssrc received at now (RFC 3550 §6.4.1).
func (p *Peer) senderReport(now time.Time, ssrc uint32, si rtcp.SenderInfo) {
	if si.NTPTime == 0 {
		return // a sender without a wall clock (RFC 3550 §6.4.1 allows zero)
	}
	tl := &p.tl
	var c *sourceClock
	var rate int
	switch {
	case p.video.active && p.video.ssrc == ssrc:
		c, rate = &tl.video, videoClock
	case p.audio.active && p.audio.ssrc == ssrc:
		c, rate = &tl.audio, audioClock
	default:
		return
	}
	wall := ntpTime(si.NTPTime)
	if !tl.haveOffset {
		tl.offset, tl.haveOffset = now.Sub(wall), true
	}
	at := wall.Add(tl.offset)
	if c.set && c.ssrc == ssrc {
		if step := c.at(now, ssrc, si.RTPTime, rate).Sub(at); step > srStep || step < -srStep {
			tl.offset += step
			at = at.Add(step)
		}
	}
	*c = sourceClock{set: true, fromSR: true, ssrc: ssrc, rate: rate, anchorTS: si.RTPTime, anchorAt: at}
	tl.reports++
}

// videoTime is the timeline time of a video frame with RTP timestamp ts.
func (p *Peer) videoTime(now time.Time, ssrc, ts uint32) time.Time {
	return p.tl.video.at(now, ssrc, ts, videoClock)
}

// audioReorder holds Opus packets that arrived ahead of a gap.
type audioReorder struct {
	slots   [AudioReorderSlots]audioSlot
	next    uint64 // extended sequence number expected next
	count   int
	started bool
}

type audioSlot struct {
	used bool
	ext  uint64
	ssrc uint32
	ts   uint32
	at   time.Time   // arrival
	pkt  *heldPacket // the payload, while used
}

// onAudio takes one Opus payload with its extended sequence number; restart
// is set when the source began a new sequence (RFC 3550 §A.1).
func (p *Peer) onAudio(now time.Time, ext uint64, restart bool, ssrc, ts uint32, payload []byte) {
	r := &p.tl.ar
	if restart || !r.started {
		p.flushAudio()
		r.started, r.next = true, ext
	}
	switch {
	case ext < r.next:
		// Late or duplicate: its place in the stream has gone out already.
	case ext == r.next:
		p.emitAudio(ssrc, ts, now, payload)
		r.next++
		p.releaseAudio()
	case ext-r.next >= AudioReorderSlots:
		p.flushAudio()
		r.next = ext + 1
		p.emitAudio(ssrc, ts, now, payload)
	default:
		s := &r.slots[ext%AudioReorderSlots]
		if s.used || len(payload) > MaxDatagram {
			return
		}
		*s = audioSlot{used: true, ext: ext, ssrc: ssrc, ts: ts, at: now, pkt: p.bufs.hold(payload)}
		r.count++
	}
}

// releaseAudio emits the waiting packets that are now in order.
func (p *Peer) releaseAudio() {
	r := &p.tl.ar
	for r.count > 0 {
		s := &r.slots[r.next%AudioReorderSlots]
		if !s.used || s.ext != r.next {
			return
		}
		pkt := s.pkt
		s.used, s.pkt = false, nil
		r.count--
		r.next++
		p.emitAudio(s.ssrc, s.ts, s.at, pkt.bytes())
		p.bufs.release(pkt)
	}
}

// skipAudio gives up on the gap before the oldest waiting packet.
func (p *Peer) skipAudio() {
	r := &p.tl.ar
	oldest, ok := uint64(0), false
	for i := range r.slots {
		if s := &r.slots[i]; s.used && (!ok || s.ext < oldest) {
			oldest, ok = s.ext, true
		}
	}
	if !ok {
		return
	}
	r.next = oldest
	p.releaseAudio()
}

// flushAudio emits everything waiting, in order, skipping the gaps.
func (p *Peer) flushAudio() {
	for p.tl.ar.count > 0 {
		p.skipAudio()
	}
}

func (p *Peer) emitAudio(ssrc, ts uint32, arrival time.Time, payload []byte) {
	at := p.tl.audio.at(arrival, ssrc, ts, audioClock)
	p.emit(Event{Kind: Audio, Data: p.keep(payload), RTPTimestamp: ts, Time: at})
}

// audioDeadline is when the oldest waiting Opus packet stops waiting.
func (p *Peer) audioDeadline() time.Time {
	r := &p.tl.ar
	if r.count == 0 {
		return time.Time{}
	}
	var d time.Time
	for i := range r.slots {
		if s := &r.slots[i]; s.used && (d.IsZero() || s.at.Before(d)) {
			d = s.at
		}
	}
	return d.Add(AudioReorderWait)
}

// audioTimeout releases the Opus packets whose wait is over.
func (p *Peer) audioTimeout(now time.Time) {
	for {
		d := p.audioDeadline()
		if d.IsZero() || now.Before(d) {
			return
		}
		p.skipAudio()
	}
}
