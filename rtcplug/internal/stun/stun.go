// Package stun encodes and decodes STUN messages (RFC 8489) with the
// attributes ICE needs (RFC 8445 §7.1): enough for an ICE-lite responder and
// for a client that asks a STUN server for its server-reflexive address.
//
// A Message is decoded into and built in place: Decode copies the datagram
// into m.Raw and points m.Attributes at it, reusing both slices, so a Message
// kept across datagrams decodes without allocating. Builders append to m.Raw
// the same way. Attribute order is kept as it is on the wire, because
// MESSAGE-INTEGRITY and FINGERPRINT cover exactly the bytes before them.
//
// The package does no I/O and keeps no state beyond the values it is given.
package stun

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

// MagicCookie is the fixed value in bytes 4-7 of every RFC 5389/8489 message
// (RFC 8489 §5); it also keys the XOR of XOR-MAPPED-ADDRESS.
const MagicCookie = 0x2112A442

// HeaderSize is the length of the fixed STUN header (RFC 8489 §5).
const HeaderSize = 20

// maxAttributes bounds the attributes kept per message. A 1500-byte datagram
// could carry over 350 empty attributes; real ICE checks carry fewer than 10.
const maxAttributes = 32

// Message types (method and class combined, RFC 8489 §5) for the Binding method.
const (
	TypeBindingRequest    uint16 = 0x0001
	TypeBindingIndication uint16 = 0x0011
	TypeBindingSuccess    uint16 = 0x0101
	TypeBindingError      uint16 = 0x0111
)

// MethodBinding is the only method ICE and server-reflexive discovery use.
const MethodBinding uint16 = 0x001

// Class is the class of a STUN message (RFC 8489 §5, the C1 and C0 bits).
type Class uint8

// Message classes.
const (
	ClassRequest    Class = 0
	ClassIndication Class = 1
	ClassSuccess    Class = 2
	ClassError      Class = 3
)

// Attribute types used here (RFC 8489 §18.3, RFC 8445 §16.1).
const (
	AttrMappedAddress     uint16 = 0x0001
	AttrUsername          uint16 = 0x0006
	AttrMessageIntegrity  uint16 = 0x0008
	AttrErrorCode         uint16 = 0x0009
	AttrUnknownAttributes uint16 = 0x000A
	AttrRealm             uint16 = 0x0014
	AttrNonce             uint16 = 0x0015
	AttrXORMappedAddress  uint16 = 0x0020
	AttrPriority          uint16 = 0x0024
	AttrUseCandidate      uint16 = 0x0025
	AttrSoftware          uint16 = 0x8022
	AttrFingerprint       uint16 = 0x8028
	AttrICEControlled     uint16 = 0x8029
	AttrICEControlling    uint16 = 0x802A
	AttrGoogNetworkInfo   uint16 = 0xC057 // Chromium, comprehension-optional
	attrSourceAddress     uint16 = 0x0004 // RFC 3489, still sent by some servers
	attrChangedAddress    uint16 = 0x0005 // RFC 3489, still sent by some servers
	integritySize                = 20     // HMAC-SHA1
	fingerprintSize              = 4
	fingerprintXOR        uint32 = 0x5354554e // RFC 8489 §14.7
	maxUsernameLen               = 508        // RFC 8489 §14.3: fewer than 509 bytes
	maxReasonLen                 = 763        // RFC 8489 §14.8
	maxSoftwareLen               = 763        // RFC 8489 §14.14
	maxMessageLen                = 0xFFFF     // the 16-bit length field
	ipv4AddrValueLen             = 8
	ipv6AddrValueLen             = 20
	familyIPv4                   = 0x01
	familyIPv6                   = 0x02
	tieBreakerLen                = 8
	priorityLen                  = 4
	errorCodeHeaderLen           = 4
)

// Errors. Decode and the checks return these (possibly wrapped); none of them
// is ever a panic.
var (
	ErrTruncated         = errors.New("stun: message shorter than its header")
	ErrNotSTUN           = errors.New("stun: not a STUN message (leading bits or magic cookie)")
	ErrBadLength         = errors.New("stun: length field inconsistent with the datagram")
	ErrBadAttribute      = errors.New("stun: attribute runs past the end of the message")
	ErrTooManyAttributes = errors.New("stun: too many attributes")
	ErrAfterFingerprint  = errors.New("stun: attribute after FINGERPRINT")
	ErrNoAttribute       = errors.New("stun: attribute not present")
	ErrBadAttributeValue = errors.New("stun: malformed attribute value")
	ErrNoIntegrity       = errors.New("stun: no MESSAGE-INTEGRITY")
	ErrIntegrity         = errors.New("stun: MESSAGE-INTEGRITY mismatch")
	ErrNoFingerprint     = errors.New("stun: no FINGERPRINT")
	ErrFingerprint       = errors.New("stun: FINGERPRINT mismatch")
	ErrTooLong           = errors.New("stun: message or attribute too long")
	ErrNotReset          = errors.New("stun: build without Reset")
	ErrBadErrorCode      = errors.New("stun: error code outside 300-699")
	ErrTransactionID     = errors.New("stun: transaction ID does not match")
	ErrUnexpectedType    = errors.New("stun: unexpected message type")
	ErrUnknownRequired   = errors.New("stun: unknown comprehension-required attribute")
	ErrNoMappedAddress   = errors.New("stun: no XOR-MAPPED-ADDRESS or MAPPED-ADDRESS")
	ErrNoKey             = errors.New("stun: Integrity has no key")
	ErrRandom            = errors.New("stun: reading random transaction ID")
)

// Attribute is one attribute as it appears on the wire. Value is a slice of
// the message's Raw buffer, without padding.
type Attribute struct {
	Type  uint16
	Value []byte
}

// Message is a decoded or built STUN message.
//
// After Decode, Attributes lists the attributes in wire order up to and
// including MESSAGE-INTEGRITY and FINGERPRINT; attributes between them are
// dropped, as RFC 8489 §14.5 requires receivers to ignore them. Values point
// into Raw, which is the message's own copy of the datagram.
//
// A Message is not safe for concurrent use.
type Message struct {
	Type          uint16
	TransactionID [12]byte
	Attributes    []Attribute
	Raw           []byte

	integrityOff   int // offset of the MESSAGE-INTEGRITY header in Raw, 0 when absent
	fingerprintOff int // offset of the FINGERPRINT header in Raw, 0 when absent
	err            error
}

// IsMessage reports whether b looks like a STUN message: the two leading
// bits are zero (RFC 7983 first byte 0..3) and the magic cookie is present.
// It is the cheap test for demultiplexing; Decode does the full check.
func IsMessage(b []byte) bool {
	return len(b) >= HeaderSize && b[0]&0xC0 == 0 &&
		binary.BigEndian.Uint32(b[4:8]) == MagicCookie
}

// MessageClass returns the class bits of a message type.
func MessageClass(t uint16) Class { return Class((t>>7)&0x2 | (t>>4)&0x1) }

// MessageMethod returns the method bits of a message type.
func MessageMethod(t uint16) uint16 { return t&0x000F | (t&0x00E0)>>1 | (t&0x3E00)>>2 }

// MessageType combines a method and a class (RFC 8489 §5, figure 3).
func MessageType(method uint16, c Class) uint16 {
	return method&0x000F | (method&0x0070)<<1 | (method&0x0F80)<<2 |
		uint16(c&0x2)<<7 | uint16(c&0x1)<<4
}

// Class returns the class of m.
func (m *Message) Class() Class { return MessageClass(m.Type) }

// Method returns the method of m.
func (m *Message) Method() uint16 { return MessageMethod(m.Type) }

func padded(n int) int { return (n + 3) &^ 3 }

// Decode parses the datagram b into m, replacing what m held. b is copied
// into m.Raw (reusing its capacity), so b may be reused as soon as Decode
// returns. Decode checks the header (leading bits, magic cookie, a length
// that is a multiple of 4 and matches len(b)) and the attribute framing
// (every attribute and its padding inside the message, FINGERPRINT last).
// It does not check MESSAGE-INTEGRITY or FINGERPRINT values; see
// CheckIntegrity and CheckFingerprint.
func (m *Message) Decode(b []byte) error {
	m.Type = 0
	m.TransactionID = [12]byte{}
	m.Attributes = m.Attributes[:0]
	m.integrityOff, m.fingerprintOff = 0, 0
	m.err = nil
	m.Raw = append(m.Raw[:0], b...)
	if err := m.decode(); err != nil {
		m.Attributes = m.Attributes[:0]
		m.integrityOff, m.fingerprintOff = 0, 0
		return err
	}
	return nil
}

func (m *Message) decode() error {
	raw := m.Raw
	if len(raw) < HeaderSize {
		return ErrTruncated
	}
	r := wire.NewReader(raw)
	typ := r.U16()
	length := int(r.U16())
	cookie := r.U32()
	if typ&0xC000 != 0 || cookie != MagicCookie {
		return ErrNotSTUN
	}
	if length%4 != 0 || HeaderSize+length != len(raw) {
		return ErrBadLength
	}
	m.Type = typ
	copy(m.TransactionID[:], r.Bytes(12))

	for !r.Empty() {
		off := len(raw) - r.Len()
		if m.fingerprintOff != 0 {
			return ErrAfterFingerprint
		}
		t := r.U16()
		n := int(r.U16())
		v := r.Bytes(n)
		r.Skip(padded(n) - n)
		if !r.OK() {
			return ErrBadAttribute
		}
		switch {
		case t == AttrFingerprint:
			if n != fingerprintSize {
				return ErrBadAttributeValue
			}
			m.fingerprintOff = off
		case m.integrityOff != 0:
			// RFC 8489 §14.5: everything after MESSAGE-INTEGRITY except
			// FINGERPRINT is ignored (it is not covered by the HMAC).
			continue
		case t == AttrMessageIntegrity:
			if n != integritySize {
				return ErrBadAttributeValue
			}
			m.integrityOff = off
		}
		if len(m.Attributes) == maxAttributes {
			return ErrTooManyAttributes
		}
		m.Attributes = append(m.Attributes, Attribute{Type: t, Value: v})
	}
	return nil
}

// Get returns the value of the first attribute of type t.
func (m *Message) Get(t uint16) ([]byte, bool) {
	for i := range m.Attributes {
		if m.Attributes[i].Type == t {
			return m.Attributes[i].Value, true
		}
	}
	return nil, false
}

// Has reports whether an attribute of type t is present.
func (m *Message) Has(t uint16) bool {
	_, ok := m.Get(t)
	return ok
}

// knownRequired lists the comprehension-required attributes (below 0x8000)
// that this package understands or can safely ignore.
func knownRequired(t uint16) bool {
	switch t {
	case AttrMappedAddress, AttrUsername, AttrMessageIntegrity, AttrErrorCode,
		AttrUnknownAttributes, AttrRealm, AttrNonce, AttrXORMappedAddress,
		AttrPriority, AttrUseCandidate, attrSourceAddress, attrChangedAddress:
		return true
	}
	return false
}

// UnknownComprehensionRequired appends to dst the types of attributes in
// the range 0x0000-0x7FFF that this package does not understand (RFC 8489
// §15: such attributes make a request fail with 420 and UNKNOWN-ATTRIBUTES,
// and make a response fail). Comprehension-optional attributes (0x8000 and
// above, such as Chromium's GOOG-NETWORK-INFO) are never reported.
func (m *Message) UnknownComprehensionRequired(dst []uint16) []uint16 {
	for i := range m.Attributes {
		if t := m.Attributes[i].Type; t < 0x8000 && !knownRequired(t) {
			dst = append(dst, t)
		}
	}
	return dst
}

// Username returns the USERNAME value (RFC 8489 §14.3).
func (m *Message) Username() ([]byte, bool) { return m.Get(AttrUsername) }

// Software returns the SOFTWARE value (RFC 8489 §14.14).
func (m *Message) Software() ([]byte, bool) { return m.Get(AttrSoftware) }

// Priority returns the PRIORITY value (RFC 8445 §7.1.1).
func (m *Message) Priority() (uint32, error) {
	v, ok := m.Get(AttrPriority)
	if !ok {
		return 0, ErrNoAttribute
	}
	if len(v) != priorityLen {
		return 0, ErrBadAttributeValue
	}
	return binary.BigEndian.Uint32(v), nil
}

// UseCandidate reports whether USE-CANDIDATE is present (RFC 8445 §7.1.2).
func (m *Message) UseCandidate() bool { return m.Has(AttrUseCandidate) }

func (m *Message) tieBreaker(t uint16) (uint64, error) {
	v, ok := m.Get(t)
	if !ok {
		return 0, ErrNoAttribute
	}
	if len(v) != tieBreakerLen {
		return 0, ErrBadAttributeValue
	}
	return binary.BigEndian.Uint64(v), nil
}

// ICEControlling returns the tie-breaker of ICE-CONTROLLING (RFC 8445 §7.1.3).
func (m *Message) ICEControlling() (uint64, error) { return m.tieBreaker(AttrICEControlling) }

// ICEControlled returns the tie-breaker of ICE-CONTROLLED (RFC 8445 §7.1.3).
func (m *Message) ICEControlled() (uint64, error) { return m.tieBreaker(AttrICEControlled) }

// ErrorCode returns the code (300-699) and reason phrase of ERROR-CODE
// (RFC 8489 §14.8). reason points into m.Raw.
func (m *Message) ErrorCode() (code int, reason []byte, err error) {
	v, ok := m.Get(AttrErrorCode)
	if !ok {
		return 0, nil, ErrNoAttribute
	}
	r := wire.NewReader(v)
	r.U16() // reserved
	class := int(r.U8() & 0x07)
	number := int(r.U8())
	if !r.OK() || class < 3 || class > 6 || number > 99 {
		return 0, nil, ErrBadAttributeValue
	}
	return class*100 + number, r.Rest(), nil
}

// XORMappedAddress returns the decoded XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
func (m *Message) XORMappedAddress() (netip.AddrPort, error) {
	v, ok := m.Get(AttrXORMappedAddress)
	if !ok {
		return netip.AddrPort{}, ErrNoAttribute
	}
	return decodeAddress(v, true, &m.TransactionID)
}

// MappedAddress returns the decoded MAPPED-ADDRESS (RFC 8489 §14.1).
func (m *Message) MappedAddress() (netip.AddrPort, error) {
	v, ok := m.Get(AttrMappedAddress)
	if !ok {
		return netip.AddrPort{}, ErrNoAttribute
	}
	return decodeAddress(v, false, &m.TransactionID)
}

// xorKey is the magic cookie followed by the transaction ID: the XOR mask of
// an IPv6 X-Address (RFC 8489 §14.2); its first 4 bytes mask IPv4.
func xorKey(tid *[12]byte) (k [16]byte) {
	binary.BigEndian.PutUint32(k[:4], MagicCookie)
	copy(k[4:], tid[:])
	return k
}

func decodeAddress(v []byte, xor bool, tid *[12]byte) (netip.AddrPort, error) {
	r := wire.NewReader(v)
	r.U8() // reserved, ignored (RFC 8489 §14.1)
	family := r.U8()
	port := r.U16()
	var key [16]byte
	if xor {
		port ^= MagicCookie >> 16
		key = xorKey(tid)
	}
	switch {
	case family == familyIPv4 && len(v) == ipv4AddrValueLen:
		var a [4]byte
		copy(a[:], r.Bytes(4))
		for i := range a {
			a[i] ^= key[i]
		}
		return netip.AddrPortFrom(netip.AddrFrom4(a), port), nil
	case family == familyIPv6 && len(v) == ipv6AddrValueLen:
		var a [16]byte
		copy(a[:], r.Bytes(16))
		for i := range a {
			a[i] ^= key[i]
		}
		return netip.AddrPortFrom(netip.AddrFrom16(a), port), nil
	}
	return netip.AddrPort{}, ErrBadAttributeValue
}
