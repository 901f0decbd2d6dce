// Package rtcp parses and builds RTCP (RFC 3550 §6) with the feedback messages
// a WebRTC receiver needs (RFC 4585 §6, RFC 5104 §4.3.1).
//
// Parsing never copies: an Iterator walks a compound packet and yields Packet
// views whose slices point into the input, and the typed accessors decode
// fields on demand. Every length is checked before a Packet is yielded, so the
// accessors only read inside bytes that were validated. Builders append to a
// caller-owned slice and allocate nothing when it has room.
//
// The iterator does not insist that a compound packet start with an SR or RR
// (RFC 3550 Appendix A.2): reduced-size RTCP (RFC 5506), which browsers
// negotiate with a=rtcp-rsize, sends feedback packets on their own.
package rtcp

import (
	"errors"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

// Packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611).
const (
	TypeSR    uint8 = 200 // sender report
	TypeRR    uint8 = 201 // receiver report
	TypeSDES  uint8 = 202 // source description
	TypeBYE   uint8 = 203 // goodbye
	TypeAPP   uint8 = 204 // application-defined
	TypeRTPFB uint8 = 205 // transport-layer feedback
	TypePSFB  uint8 = 206 // payload-specific feedback
	TypeXR    uint8 = 207 // extended reports (kept raw)
)

// Feedback message types: the FMT field of RTPFB and PSFB packets.
const (
	FMTGenericNACK uint8 = 1  // RTPFB, RFC 4585 §6.2.1
	FMTTransportCC uint8 = 15 // RTPFB, draft-holmer-rmcat-transport-wide-cc-extensions (kept raw)
	FMTPLI         uint8 = 1  // PSFB, RFC 4585 §6.3.1
	FMTSLI         uint8 = 2  // PSFB, RFC 4585 §6.3.2 (kept raw)
	FMTFIR         uint8 = 4  // PSFB, RFC 5104 §4.3.1
	FMTAFB         uint8 = 15 // PSFB application layer feedback, e.g. REMB (kept raw)
)

const (
	version    = 2
	headerLen  = 4  // V, P, count, PT, length
	reportLen  = 24 // one reception report block, RFC 3550 §6.4.1
	senderInfo = 20 // NTP timestamp, RTP timestamp, packet and octet counts
	fbHeader   = 8  // sender SSRC + media source SSRC, RFC 4585 §6.1
	maxCount   = 31 // the 5-bit RC/SC field
)

// Errors reported by the Iterator. A compound packet with any of them must be
// discarded as a whole (RFC 3550 Appendix A.2); Validate checks that before
// anything is acted on.
var (
	ErrVersion   = errors.New("rtcp: version is not 2")
	ErrTruncated = errors.New("rtcp: packet runs past the end of the buffer")
	ErrPadding   = errors.New("rtcp: bad padding")
	ErrMalformed = errors.New("rtcp: packet body does not match its count or type")
)

// Packet is one RTCP packet inside a compound packet. Its slices point into
// the buffer given to NewIterator and are valid as long as that buffer is.
type Packet struct {
	Type    uint8 // packet type, TypeSR...
	Count   uint8 // RC, SC, APP subtype or feedback FMT: the 5 bits after P
	Padding bool  // the P bit as received
	Raw     []byte
	Body    []byte // after the 4-byte header, padding removed
}

// FMT is the feedback message type of an RTPFB or PSFB packet (the Count
// field under another name, RFC 4585 §6.1).
func (p Packet) FMT() uint8 { return p.Count }

// SenderSSRC is the first word of the body: the sender of an SR, RR, APP,
// RTPFB or PSFB packet, or the first chunk's or source's SSRC of an SDES or
// BYE packet. It is 0 when the body is shorter than a word.
func (p Packet) SenderSSRC() uint32 {
	r := wire.NewReader(p.Body)
	return r.U32()
}

// Iterator walks the packets of a compound RTCP packet without allocating.
//
//	it := rtcp.NewIterator(b)
//	for it.Next() {
//		p := it.Packet()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type Iterator struct {
	rest []byte
	cur  Packet
	err  error
}

// NewIterator returns an Iterator over the compound packet b.
func NewIterator(b []byte) Iterator {
	it := Iterator{rest: b}
	if len(b) == 0 {
		it.err = ErrTruncated
	}
	return it
}

// Next advances to the next packet. It returns false at the end of the
// buffer or at the first invalid packet (then Err is not nil).
func (it *Iterator) Next() bool {
	if it.err != nil || len(it.rest) == 0 {
		it.cur = Packet{}
		return false
	}
	p, n, err := parsePacket(it.rest)
	if err != nil {
		it.err = err
		it.rest = nil
		it.cur = Packet{}
		return false
	}
	it.cur = p
	it.rest = it.rest[n:]
	return true
}

// Packet returns the packet Next stopped at.
func (it *Iterator) Packet() Packet { return it.cur }

// Err reports why iteration stopped early, or nil if the whole buffer was
// consumed. An empty buffer is an error: a compound packet holds at least one
// packet.
func (it *Iterator) Err() error { return it.err }

// Validate checks every packet of a compound packet, so that a caller can
// discard the whole datagram before acting on any part of it (RFC 3550
// Appendix A.2). It returns the number of packets.
func Validate(b []byte) (int, error) {
	n := 0
	it := NewIterator(b)
	for it.Next() {
		n++
	}
	return n, it.Err()
}

// parsePacket reads the packet at the front of b and returns it with its
// size on the wire.
func parsePacket(b []byte) (Packet, int, error) {
	r := wire.NewReader(b)
	b0 := r.U8()
	pt := r.U8()
	words := r.U16()
	if !r.OK() {
		return Packet{}, 0, ErrTruncated
	}
	if b0>>6 != version {
		return Packet{}, 0, ErrVersion
	}
	size := (int(words) + 1) * 4
	if size > len(b) {
		return Packet{}, 0, ErrTruncated
	}
	p := Packet{
		Type:    pt,
		Count:   b0 & 0x1f,
		Padding: b0&0x20 != 0,
		Raw:     b[:size:size],
	}
	body := p.Raw[headerLen:]
	// RFC 3550 §6.4.1: padding is only ever applied to the last packet of a
	// compound, whose final octet counts the padding octets (itself
	// included). On an earlier packet the bit is ignored: its length still
	// covers every byte, so nothing is lost by reading the body whole.
	if p.Padding && size == len(b) {
		pad := int(p.Raw[size-1])
		if pad == 0 || pad > len(body) {
			return Packet{}, 0, ErrPadding
		}
		body = body[:len(body)-pad]
	}
	p.Body = body
	if err := checkBody(&p); err != nil {
		return Packet{}, 0, err
	}
	return p, size, nil
}

// checkBody verifies that the body holds what the type and count promise, so
// that the accessors never have to report a short read for a yielded packet.
func checkBody(p *Packet) error {
	n := len(p.Body)
	c := int(p.Count)
	switch p.Type {
	case TypeSR:
		if n < 4+senderInfo+c*reportLen {
			return ErrMalformed
		}
	case TypeRR:
		if n < 4+c*reportLen {
			return ErrMalformed
		}
	case TypeSDES:
		if err := walkSDES(p.Body, c, nil); err != nil {
			return err
		}
	case TypeBYE:
		if _, ok := byeReason(p.Body, c); !ok {
			return ErrMalformed
		}
	case TypeAPP:
		if n < 8 {
			return ErrMalformed
		}
	case TypeRTPFB:
		if n < fbHeader {
			return ErrMalformed
		}
		fci := n - fbHeader
		if p.Count == FMTGenericNACK && (fci == 0 || fci%nackLen != 0) {
			return ErrMalformed
		}
	case TypePSFB:
		if n < fbHeader {
			return ErrMalformed
		}
		fci := n - fbHeader
		if p.Count == FMTFIR && (fci == 0 || fci%firLen != 0) {
			return ErrMalformed
		}
	}
	return nil
}

// beginPacket appends a header with a zero length and returns its offset;
// endPacket fills the length in once the body is written (RFC 3550 §6.4.1:
// length in 32-bit words minus one).
func beginPacket(w *wire.Builder, count, pt uint8) int {
	off := w.Mark()
	w.U8(version<<6 | count&0x1f)
	w.U8(pt)
	w.U16(0)
	return off
}

func endPacket(w *wire.Builder, off int) {
	// Bodies are padded to a word by their writers; guard anyway so the
	// length field never claims bytes that are not there.
	for (len(w.B)-off)%4 != 0 {
		w.U8(0)
	}
	w.Put16(off+2, uint16((len(w.B)-off)/4-1))
}
