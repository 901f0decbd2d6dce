// Package rtp parses and builds RTP packet headers (RFC 3550 §5.1) with the
// RFC 8285 header extension forms, and unwraps 16-bit sequence numbers into
// extended ones. It never copies a payload and never allocates while parsing:
// a Header holds sub-slices of the packet it was parsed from.
//
// Padding is deliberately left alone by Header.Unmarshal: in SRTP the padding
// count is inside the encrypted payload, so it can only be read (with Payload)
// once the packet is authenticated and decrypted.
package rtp

import (
	"errors"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

// MaxFrame bounds one frame (a VP8 frame, an H.264 access unit) that any
// depacketizer assembles from RTP payloads: ample for a 1080p keyframe, small
// enough that a hostile sender cannot make a peer hold much memory.
const MaxFrame = 4 << 20

// Sizes and protocol constants.
const (
	// Version is the only RTP version this package accepts (RFC 3550 §5.1).
	Version = 2
	// FixedHeaderLen is the length of the fixed RTP header without CSRCs.
	FixedHeaderLen = 12
	// MaxCSRC is the largest CSRC count the 4-bit CC field can carry.
	MaxCSRC = 15

	// ExtensionProfileOneByte marks the RFC 8285 §4.2 one-byte form.
	ExtensionProfileOneByte = 0xBEDE
	// ExtensionProfileTwoByte is the RFC 8285 §4.3 two-byte form; its low
	// four bits ("appbits") are application data and are ignored.
	ExtensionProfileTwoByte = 0x1000
	// extensionTwoByteMask selects the fixed part of a two-byte profile.
	extensionTwoByteMask = 0xFFF0
)

// Errors returned by this package.
var (
	ErrShort     = errors.New("rtp: packet too short")
	ErrVersion   = errors.New("rtp: version is not 2")
	ErrPadding   = errors.New("rtp: bad padding count")
	ErrExtension = errors.New("rtp: header extension runs past the packet")
	ErrHeader    = errors.New("rtp: header length does not fit the packet")
)

// Header is an RTP header (RFC 3550 §5.1). After Unmarshal, ExtensionPayload
// aliases the parsed packet; it stays valid only as long as that buffer does.
type Header struct {
	Version     uint8
	Padding     bool
	Extension   bool
	Marker      bool
	PayloadType uint8

	SequenceNumber uint16
	Timestamp      uint32
	SSRC           uint32

	CSRCCount int
	CSRC      [MaxCSRC]uint32 // entries past CSRCCount are left as they were

	// ExtensionProfile is the 16-bit "defined by profile" field: 0xBEDE for
	// the one-byte form, 0x100X for the two-byte form (RFC 8285).
	ExtensionProfile uint16
	// ExtensionPayload is the extension body (length field * 4 bytes),
	// a slice into the packet.
	ExtensionPayload []byte

	// HeaderLen is the length of fixed header + CSRCs + extension, which is
	// where the payload starts. Set by Unmarshal.
	HeaderLen int
}

// Unmarshal parses the header at the start of b. It checks the version and
// every length against len(b) but does not look at padding (see the package
// comment). On error h is left in an unspecified state.
func (h *Header) Unmarshal(b []byte) error {
	if len(b) < FixedHeaderLen {
		return ErrShort
	}
	r := wire.NewReader(b)
	b0 := r.U8()
	b1 := r.U8()
	h.Version = b0 >> 6
	if h.Version != Version {
		return ErrVersion
	}
	h.Padding = b0&0x20 != 0
	h.Extension = b0&0x10 != 0
	h.CSRCCount = int(b0 & 0x0F)
	h.Marker = b1&0x80 != 0
	h.PayloadType = b1 & 0x7F
	h.SequenceNumber = r.U16()
	h.Timestamp = r.U32()
	h.SSRC = r.U32()

	// Check the CSRC list as a whole first, so a large count against a short
	// packet fails before the loop.
	if r.Len() < 4*h.CSRCCount {
		return ErrShort
	}
	for i := 0; i < h.CSRCCount; i++ {
		h.CSRC[i] = r.U32()
	}

	h.ExtensionProfile = 0
	h.ExtensionPayload = nil
	if h.Extension {
		// RFC 3550 §5.3.1: profile (16), length in 32-bit words (16), body.
		h.ExtensionProfile = r.U16()
		n := int(r.U16()) * 4
		if !r.OK() {
			return ErrExtension
		}
		h.ExtensionPayload = r.Bytes(n)
		if !r.OK() {
			return ErrExtension
		}
	}
	h.HeaderLen = len(b) - r.Len()
	return nil
}

// MarshalSize is the number of bytes MarshalTo appends.
func (h *Header) MarshalSize() int {
	n := FixedHeaderLen + 4*h.csrcCount()
	if h.Extension {
		n += 4 + (len(h.ExtensionPayload)+3)&^3
	}
	return n
}

func (h *Header) csrcCount() int {
	return min(max(h.CSRCCount, 0), MaxCSRC)
}

// MarshalTo appends the header to dst and returns the extended slice. The
// version written is always 2. CSRCCount is clamped to 0..15. An extension
// body whose length is not a multiple of four is zero-padded (zero bytes are
// padding in both RFC 8285 forms). HeaderLen is not consulted.
func (h *Header) MarshalTo(dst []byte) []byte {
	w := wire.NewBuilder(dst)
	cc := h.csrcCount()
	b0 := byte(Version<<6) | byte(cc)
	if h.Padding {
		b0 |= 0x20
	}
	if h.Extension {
		b0 |= 0x10
	}
	b1 := h.PayloadType & 0x7F
	if h.Marker {
		b1 |= 0x80
	}
	w.U8(b0)
	w.U8(b1)
	w.U16(h.SequenceNumber)
	w.U32(h.Timestamp)
	w.U32(h.SSRC)
	for i := 0; i < cc; i++ {
		w.U32(h.CSRC[i])
	}
	if h.Extension {
		words := (len(h.ExtensionPayload) + 3) / 4
		w.U16(h.ExtensionProfile)
		w.U16(uint16(min(words, 0xFFFF)))
		body := h.ExtensionPayload[:min(len(h.ExtensionPayload), 0xFFFF*4)]
		w.Bytes(body)
		w.Zeros(words*4 - len(body))
	}
	return w.B
}

// Payload returns the payload of the plaintext packet b whose header h was
// parsed from b, with RTP padding removed (RFC 3550 §5.1: the last octet
// counts the padding octets, itself included). A count of zero or larger
// than the payload is ErrPadding.
func Payload(b []byte, h *Header) ([]byte, error) {
	if h.HeaderLen < FixedHeaderLen || h.HeaderLen > len(b) {
		return nil, ErrHeader
	}
	p := b[h.HeaderLen:]
	if !h.Padding {
		return p, nil
	}
	if len(p) == 0 {
		return nil, ErrPadding
	}
	n := int(p[len(p)-1])
	if n == 0 || n > len(p) {
		return nil, ErrPadding
	}
	return p[:len(p)-n], nil
}

// GetExtension returns the data of the RFC 8285 header extension element with
// the given local id, for either the one-byte (ids 1..14) or the two-byte
// (ids 1..255) form. It reports false if the header has no such element, if
// the extension uses another profile, or if the element is malformed.
//
// (Go does not allow a method named like the Extension field, hence the Get.)
func (h *Header) GetExtension(id uint8) ([]byte, bool) {
	if !h.Extension || id == 0 {
		return nil, false
	}
	b := h.ExtensionPayload
	switch {
	case h.ExtensionProfile == ExtensionProfileOneByte:
		if id > 14 {
			return nil, false
		}
		for i := 0; i < len(b); {
			if b[i] == 0 { // padding byte (RFC 8285 §4.2)
				i++
				continue
			}
			eid := b[i] >> 4
			if eid == 15 {
				// Reserved: stop and ignore the rest (RFC 8285 §4.2).
				return nil, false
			}
			n := int(b[i]&0x0F) + 1
			start := i + 1
			if n > len(b)-start {
				return nil, false
			}
			if eid == id {
				return b[start : start+n : start+n], true
			}
			i = start + n
		}
	case h.ExtensionProfile&extensionTwoByteMask == ExtensionProfileTwoByte:
		for i := 0; i < len(b); {
			if b[i] == 0 { // padding byte (RFC 8285 §4.3)
				i++
				continue
			}
			if len(b)-i < 2 {
				return nil, false
			}
			eid := b[i]
			n := int(b[i+1])
			start := i + 2
			if n > len(b)-start {
				return nil, false
			}
			if eid == id {
				return b[start : start+n : start+n], true
			}
			i = start + n
		}
	}
	return nil, false
}

// SeqUnwrapper turns 16-bit RTP sequence numbers into extended (64-bit)
// sequence numbers whose upper bits count wraps (the "cycles" of RFC 3550
// §A.1). A packet is taken as newer than the highest seen when it is ahead by
// less than half the sequence space, else as older (late or reordered), so
// reordering across a wrap maps to the right cycle. The zero value is ready to
// use; the first sequence number starts cycle 0.
type SeqUnwrapper struct {
	highest uint64
	started bool
}

// Unwrap returns the extended sequence number of seq and advances the highest
// one seen when seq is newer. A late packet that would fall before cycle 0 (it
// predates the first packet and a wrap) has no extended number; it is
// reported as 0, which is never newer than anything already seen.
func (u *SeqUnwrapper) Unwrap(seq uint16) uint64 {
	if !u.started {
		u.started = true
		u.highest = uint64(seq)
		return u.highest
	}
	delta := int64(int16(seq - uint16(u.highest)))
	ext := int64(u.highest) + delta
	if ext < 0 {
		return 0
	}
	if delta > 0 {
		u.highest = uint64(ext)
	}
	return uint64(ext)
}

// Highest is the highest extended sequence number seen, and whether any
// sequence number was seen at all.
func (u *SeqUnwrapper) Highest() (uint64, bool) { return u.highest, u.started }
