package stun

import (
	"encoding/binary"
	"io"
	"net/netip"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

// Building a message: set m.Raw to the buffer to build in (or leave the one
// a previous message used), then
//
//	m.Reset()
//	m.SetType(stun.TypeBindingSuccess)
//	m.TransactionID = req.TransactionID // or m.NewTransactionID(rand)
//	m.AddXORMappedAddress(src)
//	integrity.AddTo(&m)
//	m.AddFingerprint()
//	if err := m.Err(); err != nil { ... }
//
// and send m.Raw. Nothing allocates once m.Raw and m.Attributes have room.
// A builder that cannot add an attribute (value too long, message over
// 64 KiB, no Reset) adds nothing and records the first such error, which Err
// returns; every later Add is then a no-op. The header's transaction ID is
// written from m.TransactionID when each attribute is added and by
// SetTransactionID, so set it before MESSAGE-INTEGRITY.

// Reset empties m and writes a header with the magic cookie into m.Raw,
// keeping the capacity of m.Raw and m.Attributes.
func (m *Message) Reset() {
	m.Type = 0
	m.TransactionID = [12]byte{}
	m.Attributes = m.Attributes[:0]
	m.integrityOff, m.fingerprintOff = 0, 0
	m.err = nil
	w := wire.NewBuilder(m.Raw[:0])
	w.U16(0)
	w.U16(0)
	w.U32(MagicCookie)
	w.Zeros(12)
	m.Raw = w.B
}

// Err returns the first error recorded by a builder since Reset.
func (m *Message) Err() error { return m.err }

// SetType sets the message type (method and class) in m and in m.Raw.
func (m *Message) SetType(t uint16) {
	m.Type = t & 0x3FFF
	if len(m.Raw) >= HeaderSize {
		binary.BigEndian.PutUint16(m.Raw[0:2], m.Type)
	}
}

// SetTransactionID sets the transaction ID in m and in m.Raw.
func (m *Message) SetTransactionID(id [12]byte) {
	m.TransactionID = id
	if len(m.Raw) >= HeaderSize {
		copy(m.Raw[8:20], id[:])
	}
}

// NewTransactionID sets a transaction ID of 12 bytes read from rand (RFC
// 8489 §5: uniformly random, so that responses cannot be forged off-path).
// Reading straight into m (not a local array, which would escape through
// the interface call) keeps this allocation-free.
func (m *Message) NewTransactionID(rand io.Reader) error {
	if _, err := io.ReadFull(rand, m.TransactionID[:]); err != nil {
		m.SetTransactionID([12]byte{})
		return ErrRandom
	}
	m.SetTransactionID(m.TransactionID)
	return nil
}

func (m *Message) fail(err error) {
	if m.err == nil {
		m.err = err
	}
}

// add appends an attribute header and n zeroed value bytes plus padding,
// updates the header length, and returns the value for the caller to fill
// (nil after an error).
func (m *Message) add(t uint16, n int) []byte {
	if m.err != nil {
		return nil
	}
	if len(m.Raw) < HeaderSize {
		m.fail(ErrNotReset)
		return nil
	}
	if n > maxMessageLen || len(m.Raw)-HeaderSize+4+padded(n) > maxMessageLen {
		m.fail(ErrTooLong)
		return nil
	}
	if len(m.Attributes) == maxAttributes {
		m.fail(ErrTooManyAttributes)
		return nil
	}
	if m.fingerprintOff != 0 {
		m.fail(ErrAfterFingerprint)
		return nil
	}
	before := m.Raw
	off := len(m.Raw)
	w := wire.NewBuilder(m.Raw)
	w.U16(t)
	w.U16(uint16(n))
	w.Zeros(padded(n))
	m.Raw = w.B
	if &before[0] != &m.Raw[0] {
		m.rebase()
	}
	binary.BigEndian.PutUint16(m.Raw[0:2], m.Type)
	binary.BigEndian.PutUint16(m.Raw[2:4], uint16(len(m.Raw)-HeaderSize))
	copy(m.Raw[8:20], m.TransactionID[:])
	v := m.Raw[off+4 : off+4+n : off+4+n]
	m.Attributes = append(m.Attributes, Attribute{Type: t, Value: v})
	return v
}

// rebase points the attribute values at m.Raw after append moved it. The
// attributes were written by add, so they are in order and well formed.
func (m *Message) rebase() {
	off := HeaderSize
	for i := range m.Attributes {
		n := len(m.Attributes[i].Value)
		m.Attributes[i].Value = m.Raw[off+4 : off+4+n : off+4+n]
		off += 4 + padded(n)
	}
}

// Add appends an attribute with an arbitrary value.
func (m *Message) Add(t uint16, value []byte) {
	copy(m.add(t, len(value)), value)
}

func (m *Message) addText(t uint16, s string, max int) {
	if len(s) > max {
		m.fail(ErrTooLong)
		return
	}
	copy(m.add(t, len(s)), s)
}

// AddUsername appends USERNAME (RFC 8489 §14.3; fewer than 509 bytes).
func (m *Message) AddUsername(u string) { m.addText(AttrUsername, u, maxUsernameLen) }

// AddSoftware appends SOFTWARE (RFC 8489 §14.14).
func (m *Message) AddSoftware(s string) { m.addText(AttrSoftware, s, maxSoftwareLen) }

// AddPriority appends PRIORITY (RFC 8445 §7.1.1).
func (m *Message) AddPriority(p uint32) {
	if v := m.add(AttrPriority, priorityLen); v != nil {
		binary.BigEndian.PutUint32(v, p)
	}
}

// AddUseCandidate appends USE-CANDIDATE (RFC 8445 §7.1.2).
func (m *Message) AddUseCandidate() { m.add(AttrUseCandidate, 0) }

// AddICEControlling appends ICE-CONTROLLING with a tie-breaker (RFC 8445 §7.1.3).
func (m *Message) AddICEControlling(tieBreaker uint64) {
	if v := m.add(AttrICEControlling, tieBreakerLen); v != nil {
		binary.BigEndian.PutUint64(v, tieBreaker)
	}
}

// AddICEControlled appends ICE-CONTROLLED with a tie-breaker (RFC 8445 §7.1.3).
func (m *Message) AddICEControlled(tieBreaker uint64) {
	if v := m.add(AttrICEControlled, tieBreakerLen); v != nil {
		binary.BigEndian.PutUint64(v, tieBreaker)
	}
}

// AddErrorCode appends ERROR-CODE (RFC 8489 §14.8). code must be 300-699.
func (m *Message) AddErrorCode(code int, reason string) {
	if code < 300 || code > 699 {
		m.fail(ErrBadErrorCode)
		return
	}
	if len(reason) > maxReasonLen {
		m.fail(ErrTooLong)
		return
	}
	v := m.add(AttrErrorCode, errorCodeHeaderLen+len(reason))
	if v == nil {
		return
	}
	v[2] = byte(code / 100)
	v[3] = byte(code % 100)
	copy(v[errorCodeHeaderLen:], reason)
}

// AddUnknownAttributes appends UNKNOWN-ATTRIBUTES (RFC 8489 §14.9), the
// list that accompanies a 420 error response.
func (m *Message) AddUnknownAttributes(types []uint16) {
	if len(types) > maxAttributes {
		types = types[:maxAttributes]
	}
	v := m.add(AttrUnknownAttributes, 2*len(types))
	if v == nil {
		return
	}
	for i, t := range types {
		binary.BigEndian.PutUint16(v[2*i:], t)
	}
}

// AddXORMappedAddress appends XOR-MAPPED-ADDRESS (RFC 8489 §14.2). An
// IPv4-mapped IPv6 address is written as IPv4, which is what the peer sent
// from. Set the transaction ID first: IPv6 addresses are masked with it.
func (m *Message) AddXORMappedAddress(ap netip.AddrPort) {
	m.addAddress(AttrXORMappedAddress, ap, true)
}

// AddMappedAddress appends MAPPED-ADDRESS (RFC 8489 §14.1).
func (m *Message) AddMappedAddress(ap netip.AddrPort) { m.addAddress(AttrMappedAddress, ap, false) }

func (m *Message) addAddress(t uint16, ap netip.AddrPort, xor bool) {
	addr := ap.Addr().Unmap()
	port := ap.Port()
	var key [16]byte
	if xor {
		port ^= MagicCookie >> 16
		key = xorKey(&m.TransactionID)
	}
	switch {
	case addr.Is4():
		v := m.add(t, ipv4AddrValueLen)
		if v == nil {
			return
		}
		a := addr.As4()
		v[1] = familyIPv4
		binary.BigEndian.PutUint16(v[2:4], port)
		for i := range a {
			v[4+i] = a[i] ^ key[i]
		}
	case addr.Is6():
		v := m.add(t, ipv6AddrValueLen)
		if v == nil {
			return
		}
		a := addr.As16()
		v[1] = familyIPv6
		binary.BigEndian.PutUint16(v[2:4], port)
		for i := range a {
			v[4+i] = a[i] ^ key[i]
		}
	default:
		m.fail(ErrBadAttributeValue)
	}
}
