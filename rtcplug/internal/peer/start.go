package peer

import (
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

// The first video packets: a stream starts at the first frame start that
// arrives (RFC 7741 §4.2: the S bit with partition index 0 marks a frame's
// first packet), at once. Packets before it cannot complete a frame, so
// nothing is gained by holding the stream for ReorderWait at start-up; only
// packets that arrive ahead of the start (reordered) wait, as they would
// anywhere else.

// startsFrame reports whether the plaintext RTP packet pkt carries the first
// packet of a frame of the peer's video codec.
func (p *Peer) startsFrame(pkt []byte) bool {
	var h rtp.Header
	if h.Unmarshal(pkt) != nil {
		return false
	}
	payload, err := rtp.Payload(pkt, &h)
	if err != nil || len(payload) == 0 {
		return false
	}
	if p.codecName() == CodecH264 {
		return startsH264AccessUnit(payload)
	}
	// RFC 7741 §4.2: |X|R|N|S|R| PID |
	return payload[0]&0x10 != 0 && payload[0]&0x07 == 0
}

// startAt starts the stream at ext, a frame start: packets buffered before
// it are dropped (their frame has no start), the ones after it that are
// already here follow in order.
func (p *Peer) startAt(now time.Time, ext uint64, pkt []byte, h *rtp.Header) {
	r := &p.reorder
	for i := range r.slots {
		if s := &r.slots[i]; s.used && s.ext < ext {
			p.bufs.release(s.pkt)
			s.used, s.pkt = false, nil
			r.count--
			p.stats.Dropped++
		}
	}
	r.warm = true
	r.next = ext
	r.nackFrom = max(r.nackFrom, ext)
	p.deliver(now, pkt, h)
	r.next++
	p.flushReorder(now)
}
