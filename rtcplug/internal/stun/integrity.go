package stun

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"hash"
	"hash/crc32"
)

// Integrity computes and checks MESSAGE-INTEGRITY, the HMAC-SHA1 of a
// message keyed with a short-term credential (the ICE password, RFC 8489
// §9.1) or a long-term key (§9.2.2; the caller derives it).
//
// An Integrity keeps one HMAC state for its key and resets it between
// messages, so Check and AddTo allocate nothing. Create one per key and keep
// it where the key lives (an ICE agent holds one for its local password).
// It is not safe for concurrent use.
type Integrity struct {
	mac    hash.Hash
	length [2]byte
	sum    [sha1.Size]byte
}

// NewIntegrity returns an Integrity for key. The key bytes are copied by
// the HMAC, so the caller may reuse key.
func NewIntegrity(key []byte) *Integrity {
	i := &Integrity{}
	i.Reset(key)
	return i
}

// Reset switches i to a new key. It allocates a new HMAC state; keys change
// far less often than messages arrive.
func (i *Integrity) Reset(key []byte) {
	i.mac = hmac.New(sha1.New, key)
}

// digest computes the HMAC of raw[:end] with the header length field
// replaced by length, into i.sum (RFC 8489 §14.5: the length counts up to
// and including MESSAGE-INTEGRITY, even when FINGERPRINT follows).
func (i *Integrity) digest(raw []byte, end, length int) []byte {
	binary.BigEndian.PutUint16(i.length[:], uint16(length))
	i.mac.Reset()
	i.mac.Write(raw[0:2])
	i.mac.Write(i.length[:])
	i.mac.Write(raw[4:end])
	return i.mac.Sum(i.sum[:0])
}

// Check verifies the MESSAGE-INTEGRITY of a decoded (or built) message in
// constant time. It returns ErrNoIntegrity when the attribute is absent and
// ErrIntegrity when the HMAC does not match.
func (i *Integrity) Check(m *Message) error {
	if i == nil || i.mac == nil {
		return ErrNoKey
	}
	off := m.integrityOff
	if off < HeaderSize || off+4+integritySize > len(m.Raw) {
		return ErrNoIntegrity
	}
	want := m.Raw[off+4 : off+4+integritySize]
	got := i.digest(m.Raw, off, off+4+integritySize-HeaderSize)
	if !hmac.Equal(got, want) {
		return ErrIntegrity
	}
	return nil
}

// AddTo appends MESSAGE-INTEGRITY to m, covering everything built so far.
// Only FINGERPRINT should follow it.
func (i *Integrity) AddTo(m *Message) {
	if i == nil || i.mac == nil {
		m.fail(ErrNoKey)
		return
	}
	off := len(m.Raw)
	v := m.add(AttrMessageIntegrity, integritySize)
	if v == nil {
		return
	}
	m.integrityOff = off
	copy(v, i.digest(m.Raw, off, len(m.Raw)-HeaderSize))
}

// CheckIntegrity verifies MESSAGE-INTEGRITY with key. It builds an HMAC
// state per call (which allocates); on a hot path keep an Integrity.
func (m *Message) CheckIntegrity(key []byte) error {
	return NewIntegrity(key).Check(m)
}

// AddIntegrity appends MESSAGE-INTEGRITY keyed with key. Like
// CheckIntegrity it allocates an HMAC state per call; see Integrity.AddTo.
func (m *Message) AddIntegrity(key []byte) {
	NewIntegrity(key).AddTo(m)
}

// fingerprint is the FINGERPRINT value for raw[:end] (RFC 8489 §14.7).
func fingerprint(raw []byte, end int) uint32 {
	return crc32.ChecksumIEEE(raw[:end]) ^ fingerprintXOR
}

// CheckFingerprint verifies FINGERPRINT: CRC-32 of the message before it,
// XORed with 0x5354554e. It returns ErrNoFingerprint when absent.
func (m *Message) CheckFingerprint() error {
	off := m.fingerprintOff
	if off < HeaderSize || off+4+fingerprintSize > len(m.Raw) {
		return ErrNoFingerprint
	}
	if binary.BigEndian.Uint32(m.Raw[off+4:]) != fingerprint(m.Raw, off) {
		return ErrFingerprint
	}
	return nil
}

// HasFingerprint reports whether m carries FINGERPRINT.
func (m *Message) HasFingerprint() bool { return m.fingerprintOff >= HeaderSize }

// HasIntegrity reports whether m carries MESSAGE-INTEGRITY.
func (m *Message) HasIntegrity() bool { return m.integrityOff >= HeaderSize }

// AddFingerprint appends FINGERPRINT; it must be the last attribute.
func (m *Message) AddFingerprint() {
	off := len(m.Raw)
	v := m.add(AttrFingerprint, fingerprintSize)
	if v == nil {
		return
	}
	m.fingerprintOff = off
	binary.BigEndian.PutUint32(v, fingerprint(m.Raw, off))
}
