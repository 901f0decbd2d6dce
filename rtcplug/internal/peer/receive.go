package peer

import (
	"bytes"
	"net/netip"
	"sync"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtcp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/vp8"
)

// Clock rates of the offered codecs (RFC 7741 §6.1 VP8, RFC 7587 §4.1 Opus).
const (
	videoClock = 90000
	audioClock = 48000
)

// handleSRTP authenticates and decrypts an SRTP or SRTCP packet from a bound
// address, then routes it by payload type.
func (p *Peer) handleSRTP(now time.Time, src netip.AddrPort, b []byte) {
	if !p.srtpUp || !p.isBound(src) || len(b) < 2 {
		p.stats.Dropped++
		return
	}
	// RFC 5761 §4: with rtcp-mux, packet types 192–223 in the second octet are RTCP.
	if b[1] >= 192 && b[1] <= 223 {
		p.handleSRTCP(now, src, b)
		return
	}
	var h rtp.Header
	if err := h.Unmarshal(b); err != nil {
		p.stats.Dropped++
		return
	}
	plain, err := p.srtpIn.DecryptRTP(p.plain[:0], b, &h)
	if err != nil {
		p.stats.Dropped++
		return
	}
	p.authenticated(now, src)
	// SRTP leaves the header in the clear (RFC 3711 §3.1): h, parsed from
	// b, describes plain as well; its slices point into b, which outlives
	// this call.
	p.selectVideo(h.PayloadType)
	switch h.PayloadType {
	case p.remote.VideoPT:
		p.stats.VideoPackets++
		p.stats.VideoBytes += uint64(len(plain))
		p.info.rate.add(now, p.created, len(plain))
		ext, v := p.video.update(now, p.created, &h, videoClock)
		switch v {
		case seqProbation:
			// Kept aside: if the next packet confirms the new source,
			// this one (its predecessor) is its first and not lost.
			p.stats.Probation++
			p.probe = append(p.probe[:0], plain...)
			return
		case seqRestart:
			p.restartVideo(now, h.SSRC)
			p.replayProbe(now, ext)
		}
		p.onVideo(now, ext, plain, &h)
	case p.remote.AudioPT:
		if p.remote.AudioPT == 0 {
			p.stats.Dropped++
			return
		}
		p.stats.AudioPackets++
		p.stats.AudioBytes += uint64(len(plain))
		p.info.rate.add(now, p.created, len(plain))
		ext, v := p.audio.update(now, p.created, &h, audioClock)
		if v == seqProbation {
			p.stats.Probation++
			return
		}
		restart := v == seqRestart
		if p.cfg.Record {
			if payload, err := rtp.Payload(plain, &h); err == nil && len(payload) > 0 {
				p.onAudio(now, ext, restart, h.SSRC, h.Timestamp, payload)
			}
		}
	default:
		p.stats.Dropped++
	}
}

func (p *Peer) handleSRTCP(now time.Time, src netip.AddrPort, b []byte) {
	plain, err := p.srtpIn.DecryptRTCP(p.plain[:0], b)
	if err != nil {
		p.stats.Dropped++
		return
	}
	p.authenticated(now, src)
	it := rtcp.NewIterator(plain)
	for it.Next() {
		pk := it.Packet()
		if pk.Type != rtcp.TypeSR {
			continue
		}
		si, ok := pk.SenderInfo()
		if !ok {
			continue
		}
		ssrc := pk.SenderSSRC()
		for _, s := range []*recvStats{&p.video, &p.audio} {
			if s.active && s.ssrc == ssrc {
				s.lsr = si.MiddleNTP()
				s.lsrAt = now
			}
		}
		p.senderReport(now, ssrc, si)
	}
}

// authenticated notes media that passed SRTP authentication from src, an
// address an ICE check has bound. After a NAT rebinding the client's media
// comes from its new address: our RTCP follows it there (never to an address
// that only sent unauthenticated bytes).
func (p *Peer) authenticated(now time.Time, src netip.AddrPort) {
	p.lastAuth = now
	if src != p.dest {
		p.logf("authenticated media from %s: RTCP goes there from now on", src)
		p.dest = src
	}
	if src != p.active {
		// The routing table keeps this address ours against a replayed
		// check of another peer.
		p.active = src
		p.emit(Event{Kind: Active, Addr: src})
	}
}

// restartVideo starts over after the video source changed its SSRC or
// jumped in its sequence space: what waits in the reorder buffer belongs to
// the old sequence and goes out first; the new sequence then starts like the
// first did.
func (p *Peer) restartVideo(now time.Time, ssrc uint32) {
	r := &p.reorder
	if !r.started {
		return
	}
	for r.count > 0 {
		p.skipToOldest(now)
	}
	p.logRestart(now, ssrc)
	*r = reorder{}
	p.nk = nackState{rtt: p.nk.rtt} // the old sequence's gaps are moot
}

// RFC 3550 §A.1: a packet this far ahead of the highest seen is not loss but
// a sender that restarted its sequence.
const maxDropout = 3000

// recvStats is the RFC 3550 §6.4.1 / §A.3 reception state of one source.
type recvStats struct {
	active      bool
	ssrc        uint32
	un          rtp.SeqUnwrapper
	base        uint64
	received    uint64
	expPrior    uint64
	recvPrior   uint64
	jitter      float64
	transit     uint32 // arrival − RTP timestamp, mod 2^32 (RFC 3550 §A.8)
	haveTransit bool
	lsr         uint32
	lsrAt       time.Time

	// A new SSRC on probation: its last sequence number and how many
	// packets in a row it sent (RFC 3550 §A.1).
	probeSSRC uint32
	probeSeq  uint16
	probeN    int
}

// seqVerdict says what update made of a packet.
type seqVerdict uint8

const (
	seqInOrder   seqVerdict = iota // the current sequence (in order or not)
	seqRestart                     // a new sequence starts with this packet
	seqProbation                   // a new SSRC not confirmed yet: drop it
)

// minSequential is how many packets in a row with consecutive sequence
// numbers a new SSRC must send before it replaces the current one (RFC 3550
// §A.1, MIN_SEQUENTIAL). Two sources interleaving on one payload type then
// leave the established one alone instead of restarting on every packet.
const minSequential = 2

// update counts a packet and returns its extended sequence number and
// whether it starts a new sequence: a new SSRC once it passed probation,
// or a jump of maxDropout or more (RFC 3550 §A.1; the statistics start
// over, a sender report's LSR of the same SSRC is kept). With seqRestart
// after probation, ext−1 is the packet the probation started with.
func (s *recvStats) update(now, epoch time.Time, h *rtp.Header, clock int) (ext uint64, v seqVerdict) {
	if !s.active {
		*s = recvStats{active: true, ssrc: h.SSRC}
		s.base = s.un.Unwrap(h.SequenceNumber)
		s.received = 1
		return s.base, seqRestart
	}
	if s.ssrc != h.SSRC {
		if s.probeN > 0 && h.SSRC == s.probeSSRC && h.SequenceNumber == s.probeSeq+1 {
			s.probeN++
		} else {
			s.probeSSRC, s.probeN = h.SSRC, 1
		}
		s.probeSeq = h.SequenceNumber
		if s.probeN < minSequential {
			return 0, seqProbation
		}
		*s = recvStats{active: true, ssrc: h.SSRC}
		s.base = s.un.Unwrap(h.SequenceNumber - (minSequential - 1))
		s.received = minSequential
		return s.un.Unwrap(h.SequenceNumber), seqRestart
	}
	s.probeN = 0 // the current source spoke: a probation must start over
	if highest, _ := s.un.Highest(); h.SequenceNumber-uint16(highest) >= maxDropout &&
		h.SequenceNumber-uint16(highest) < 1<<15 {
		lsr, lsrAt := s.lsr, s.lsrAt
		*s = recvStats{active: true, ssrc: h.SSRC, lsr: lsr, lsrAt: lsrAt}
		s.base = s.un.Unwrap(h.SequenceNumber)
		s.received = 1
		return s.base, seqRestart
	}
	ext = s.un.Unwrap(h.SequenceNumber)
	s.received++
	// Interarrival jitter, RFC 3550 §A.8, in timestamp units.
	// Modulo 2^32 like the RTP timestamp: the difference of two transits is
	// read as a signed 32-bit value, so a timestamp wrap is no jump.
	arrival := uint32(int64(now.Sub(epoch).Seconds() * float64(clock)))
	transit := arrival - h.Timestamp
	if s.haveTransit {
		d := int64(int32(transit - s.transit))
		if d < 0 {
			d = -d
		}
		s.jitter += (float64(d) - s.jitter) / 16
	}
	s.transit, s.haveTransit = transit, true
	return ext, seqInOrder
}

// report builds the reception report block (RFC 3550 §6.4.1, §A.3). commit
// starts a new interval for the fraction lost: only the periodic reports do.
func (s *recvStats) report(now time.Time, commit bool) rtcp.ReceptionReport {
	highest, _ := s.un.Highest()
	if highest < s.base {
		highest = s.base
	}
	expected := highest - s.base + 1
	var lost int64 = int64(expected) - int64(s.received)
	switch {
	case lost > 0x7fffff:
		lost = 0x7fffff
	case lost < -0x800000:
		lost = -0x800000
	}
	expInt := expected - s.expPrior
	recvInt := s.received - s.recvPrior
	if commit {
		s.expPrior, s.recvPrior = expected, s.received
	}
	var fraction uint8
	if lostInt := int64(expInt) - int64(recvInt); expInt > 0 && lostInt > 0 {
		fraction = uint8((lostInt << 8) / int64(expInt))
	}
	rr := rtcp.ReceptionReport{
		SSRC:         s.ssrc,
		FractionLost: fraction,
		TotalLost:    uint32(lost) & 0xffffff,
		HighestSeq:   uint32(highest),
		Jitter:       uint32(s.jitter),
		LastSR:       s.lsr,
	}
	if !s.lsrAt.IsZero() {
		rr.DelaySinceLastSR = uint32(now.Sub(s.lsrAt).Seconds() * 65536)
	}
	return rr
}

// reorder holds video packets that arrived ahead of a gap, bounded by
// ReorderSlots packets and ReorderWait time.
type reorder struct {
	slots [ReorderSlots]slot
	next  uint64 // extended sequence number expected next
	count int    // slots in use
	// nackFrom: sequence numbers below it were already asked for or seen.
	nackFrom uint64
	started  bool
	// warm is set once the start-up wait is over; until warmUntil, hi is the
	// highest sequence number buffered.
	warm      bool
	warmUntil time.Time
	hi        uint64
	// wait is how long a packet waits for the gap before it (nack.go's
	// reorderWait); 0 means ReorderWait.
	wait time.Duration
}

type slot struct {
	used bool
	ext  uint64
	at   time.Time
	pkt  *heldPacket // while used
}

// heldPacket is the copy of a packet that waits in a reorder buffer, lent
// by Buffers.
type heldPacket struct {
	n int
	b [MaxDatagram]byte
}

func (h *heldPacket) bytes() []byte { return h.b[:h.n] }

// Buffers lends peers the memory they need only now and then: copies of the
// packets that wait in their reorder buffers (around a gap) and VP8 frame
// buffers (while a frame's packets come). Shared by all the peers of a host
// (Config.Buffers), it holds what they use at a time, not a full reorder
// window and a keyframe-sized buffer for every peer (some 190 KiB each). It
// is safe for concurrent use.
type Buffers struct {
	held   sync.Pool
	frames vp8.FramePool
}

// NewBuffers returns an empty Buffers.
func NewBuffers() *Buffers { return new(Buffers) }

// hold copies b into a lent buffer.
func (bs *Buffers) hold(b []byte) *heldPacket {
	h, _ := bs.held.Get().(*heldPacket)
	if h == nil {
		h = new(heldPacket)
	}
	h.n = copy(h.b[:], b)
	return h
}

// release takes h back; h must not be used afterwards.
func (bs *Buffers) release(h *heldPacket) { bs.held.Put(h) }

func (r *reorder) deadline() time.Time {
	if r.count == 0 {
		return time.Time{}
	}
	var d time.Time
	for i := range r.slots {
		if s := &r.slots[i]; s.used && (d.IsZero() || s.at.Before(d)) {
			d = s.at
		}
	}
	if r.wait > 0 {
		return d.Add(r.wait)
	}
	return d.Add(ReorderWait)
}

// oldest returns the smallest buffered extended sequence number.
func (r *reorder) oldest() (uint64, bool) {
	var m uint64
	ok := false
	for i := range r.slots {
		if s := &r.slots[i]; s.used && (!ok || s.ext < m) {
			m, ok = s.ext, true
		}
	}
	return m, ok
}

// onVideo takes one plaintext video packet; h is its parsed header.
func (p *Peer) onVideo(now time.Time, ext uint64, pkt []byte, h *rtp.Header) {
	p.nackSeen(now, ext)
	r := &p.reorder
	if !r.started {
		// The first packets may themselves arrive out of order: for the first
		// ReorderWait everything waits and the stream starts at the lowest
		// sequence number seen.
		r.started, r.next, r.hi, r.warmUntil = true, ext, ext, now.Add(ReorderWait)
	}
	if !r.warm {
		if p.startsFrame(pkt) && ext <= r.hi+1 && r.hi < ext+ReorderSlots {
			p.startAt(now, ext, pkt, h) // no hold before a frame start (start.go)
			return
		}
		if now.Before(r.warmUntil) && p.warmStore(now, ext, pkt) {
			return
		}
		r.warm = true
		if r.count > 0 {
			p.skipToOldest(now)
		}
	}
	switch {
	case ext < r.next:
		p.stats.Dropped++ // late or duplicate
	case ext == r.next:
		p.deliver(now, pkt, h)
		r.next++
		p.flushReorder(now)
	case ext-r.next >= ReorderSlots:
		// Beyond the window: give up on the gap, release what waits, move on.
		for r.count > 0 {
			p.skipToOldest(now)
		}
		p.stats.Lost += ext - r.next
		p.gap(now)
		r.next = ext + 1
		p.deliver(now, pkt, h)
	default:
		p.store(now, ext, pkt)
		p.nackGap(now, ext)
	}
}

// warmStore buffers a packet of the first ReorderWait; false when it does not
// fit the window (then the warm-up ends).
func (p *Peer) warmStore(now time.Time, ext uint64, pkt []byte) bool {
	r := &p.reorder
	lo, hi := min(r.next, ext), max(r.hi, ext)
	if hi-lo >= ReorderSlots {
		return false
	}
	r.next, r.hi = lo, hi
	p.store(now, ext, pkt)
	return true
}

func (p *Peer) store(now time.Time, ext uint64, pkt []byte) {
	r := &p.reorder
	s := &r.slots[ext%ReorderSlots]
	if s.used {
		p.stats.Dropped++ // same ext already waiting
		return
	}
	s.used, s.ext, s.at, s.pkt = true, ext, now, p.bufs.hold(pkt)
	r.count++
}

// flushReorder delivers waiting packets that are now in order.
func (p *Peer) flushReorder(now time.Time) {
	r := &p.reorder
	for r.count > 0 {
		s := &r.slots[r.next%ReorderSlots]
		if !s.used || s.ext != r.next {
			return
		}
		pkt := s.pkt
		s.used, s.pkt = false, nil
		r.count--
		r.next++
		p.deliver(now, pkt.bytes(), nil)
		p.bufs.release(pkt)
	}
}

// skipToOldest declares the packets before the oldest waiting one lost.
func (p *Peer) skipToOldest(now time.Time) {
	r := &p.reorder
	r.warm = true
	m, ok := r.oldest()
	if !ok {
		return
	}
	if m > r.next {
		p.stats.Lost += m - r.next
		p.gap(now)
	}
	r.next = m
	p.flushReorder(now)
}

func (p *Peer) reorderTimeout(now time.Time) {
	for {
		d := p.reorder.deadline()
		if d.IsZero() || now.Before(d) {
			return
		}
		p.skipToOldest(now)
	}
}

// deliver hands one in-order plaintext video packet to the codec's assembler.
// h is pkt's parsed header, or nil for a packet that waited in the reorder
// buffer (only its bytes are kept there).
func (p *Peer) deliver(now time.Time, pkt []byte, h *rtp.Header) {
	var local rtp.Header
	if h == nil {
		if err := local.Unmarshal(pkt); err != nil {
			return
		}
		h = &local
	}
	payload, err := rtp.Payload(pkt, h)
	if err != nil {
		p.stats.Dropped++
		return
	}
	needed := p.asm.NeedKeyframe()
	frame, key, err := p.asm.Push(h, payload)
	if err != nil {
		p.stats.Dropped++
	}
	if !needed && p.asm.NeedKeyframe() {
		p.gap(now) // a frame was lost: ask for a fresh keyframe
	}
	// The frame buffer goes back to the pool whenever no frame is being
	// assembled (Release does nothing mid-frame), also after a frame was
	// dropped; what the events carry is copied out of frame (keep,
	// bytes.Clone).
	defer p.asm.Release()
	if frame == nil {
		return
	}
	p.stats.Frames++
	var w, hgt int
	if key {
		w, hgt = p.keyframeSize(frame)
	}
	at := p.videoTime(now, h.SSRC, h.Timestamp)
	if p.cfg.Record {
		p.emit(Event{Kind: Frame, Data: p.keep(frame), Key: key, Width: w, Height: hgt, RTPTimestamp: h.Timestamp, Time: at, Codec: p.codecName()})
	}
	if !key {
		return
	}
	p.stats.Keyframes++
	if !p.gotKeyframe {
		p.gotKeyframe = true
		p.logf("first keyframe: %dx%d, %d bytes", w, hgt, len(frame))
	}
	p.pliDue = time.Time{}
	p.scheduleSnapshot(now)
	p.emit(Event{Kind: Keyframe, Data: bytes.Clone(frame), Width: w, Height: hgt, RTPTimestamp: h.Timestamp, Time: at, Codec: p.codecName()})
}

// gap schedules a PLI, at most one per PLIMinInterval.
func (p *Peer) gap(now time.Time) {
	at := p.lastPLI.Add(PLIMinInterval)
	if at.Before(now) {
		at = now
	}
	if p.pliDue.IsZero() || at.Before(p.pliDue) {
		p.pliDue = at
	}
}

func (p *Peer) pliSSRC() uint32 {
	if p.video.active {
		return p.video.ssrc
	}
	if len(p.videoSSRCs) > 0 {
		return p.videoSSRCs[0]
	}
	return 0
}

// runFeedback sends the RTCP that is due: PLI (RFC 4585 §6.3.1) and receiver
// reports with SDES CNAME (RFC 3550 §6.4.2, §6.5.1).
func (p *Peer) runFeedback(now time.Time) {
	if !p.srtpUp || p.state != StateConnected {
		return
	}
	pli := !p.pliDue.IsZero() && !now.Before(p.pliDue) && p.pliSSRC() != 0
	rr := !now.Before(p.rrDue)
	if !pli && !rr {
		return
	}
	buf := p.compound(now, rr)
	if pli {
		buf = p.appendKeyframeRequest(buf)
		p.stats.PLIs++
		p.lastPLI = now
		p.pliDue = time.Time{}
		if !p.gotKeyframe || p.asm.NeedKeyframe() {
			// Until a keyframe arrives, in case this PLI is lost.
			p.pliDue = now.Add(PLIRepeat)
		}
		p.scheduleSnapshot(now)
		if p.stats.PLIs == 1 {
			p.logf("PLI sent for SSRC %#08x", p.pliSSRC())
		}
	}
	if rr {
		p.rrDue = now.Add(ReportInterval)
	}
	p.stats.Reports++
	p.sendRTCP(buf)
}

// sendRTCP protects a plaintext compound packet with SRTCP and queues it.
func (p *Peer) sendRTCP(buf []byte) {
	enc, err := p.srtpOut.EncryptRTCP(p.rtcpOut[:0], buf)
	if err != nil {
		return
	}
	p.rtcpOut = enc[:0]
	p.transmit(p.dest, enc)
}

// compound starts a compound RTCP packet: RR then SDES (RFC 3550 §6.1).
// commit is set for the periodic report.
func (p *Peer) compound(now time.Time, commit bool) []byte {
	var reports [2]rtcp.ReceptionReport
	n := 0
	if p.video.active {
		reports[n] = p.video.report(now, commit)
		n++
	}
	if p.audio.active {
		reports[n] = p.audio.report(now, commit)
		n++
	}
	buf := rtcp.AppendRR(p.arenaTail(), p.ssrc, reports[:n])
	return rtcp.AppendSDESCNAME(buf, p.ssrc, p.cfg.CNAME)
}

// arenaTail is scratch space for a plaintext RTCP packet.
func (p *Peer) arenaTail() []byte {
	if cap(p.rtcpPlain) == 0 {
		p.rtcpPlain = make([]byte, 0, 256)
	}
	return p.rtcpPlain[:0]
}
