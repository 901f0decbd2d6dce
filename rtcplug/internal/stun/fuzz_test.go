package stun

import (
	"bytes"
	"testing"
)

// seedCorpus adds every RFC 5769 vector and every STUN frame of the
// Chromium capture.
func seedCorpus(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, v := range loadVectors(f, "rfc5769-stun.txt") {
		seeds = append(seeds, v.hexField(f, "message"))
	}
	for n, b := range captureFrames(f) {
		if IsMessage(b) || n <= 5 {
			seeds = append(seeds, b)
		}
	}
	return seeds
}

// FuzzDecode decodes arbitrary datagrams and checks that whatever decodes
// re-encodes to a message that decodes to the same attributes.
func FuzzDecode(f *testing.F) {
	for _, s := range seedCorpus(f) {
		f.Add(s)
	}
	var m, b, d Message
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := m.Decode(data); err != nil {
			return
		}
		if !IsMessage(data) {
			t.Fatal("decoded but IsMessage false")
		}
		// Every getter must be safe on anything that decodes.
		m.Username()
		m.Priority()
		m.ICEControlling()
		m.ICEControlled()
		m.ErrorCode()
		m.XORMappedAddress()
		m.MappedAddress()
		m.UnknownComprehensionRequired(nil)
		m.CheckFingerprint()
		m.CheckIntegrity([]byte("key"))
		m.CheckBindingResponse(m.TransactionID)

		b.Reset()
		b.SetType(m.Type)
		b.SetTransactionID(m.TransactionID)
		for _, a := range m.Attributes {
			if a.Type == AttrFingerprint {
				continue // must stay last; re-added below
			}
			b.Add(a.Type, a.Value)
		}
		if m.HasFingerprint() {
			b.AddFingerprint()
		}
		if err := b.Err(); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if err := d.Decode(b.Raw); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if d.Type != m.Type || d.TransactionID != m.TransactionID || len(d.Attributes) != len(m.Attributes) {
			t.Fatalf("round trip changed the message")
		}
		for i := range d.Attributes {
			if d.Attributes[i].Type == AttrFingerprint {
				continue // recomputed: the padding bytes it covers may differ
			}
			if d.Attributes[i].Type != m.Attributes[i].Type || !bytes.Equal(d.Attributes[i].Value, m.Attributes[i].Value) {
				t.Fatalf("attribute %d changed: %04x %x -> %04x %x", i, m.Attributes[i].Type, m.Attributes[i].Value, d.Attributes[i].Type, d.Attributes[i].Value)
			}
		}
		if m.HasFingerprint() && d.CheckFingerprint() != nil {
			t.Fatal("re-added FINGERPRINT does not verify")
		}
	})
}

// FuzzIntegrity checks MESSAGE-INTEGRITY and FINGERPRINT over mutated
// messages and keys: never a panic, and a message signed with key verifies
// with key and nothing that differs from it.
func FuzzIntegrity(f *testing.F) {
	for _, s := range seedCorpus(f) {
		f.Add(s, []byte(pionPwd))
	}
	f.Add([]byte{}, []byte{})
	var m, b Message
	f.Fuzz(func(t *testing.T, data, key []byte) {
		integ := NewIntegrity(key)
		if m.Decode(data) == nil {
			integ.Check(&m)
			m.CheckFingerprint()
		}
		// Sign data (as a SOFTWARE value) and check.
		if len(data) > maxSoftwareLen {
			data = data[:maxSoftwareLen]
		}
		b.Reset()
		b.SetType(TypeBindingRequest)
		b.Add(AttrSoftware, data)
		integ.AddTo(&b)
		b.AddFingerprint()
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		if err := m.Decode(b.Raw); err != nil {
			t.Fatal(err)
		}
		if integ.Check(&m) != nil || m.CheckFingerprint() != nil {
			t.Fatal("own signature does not verify")
		}
		other := append(append([]byte(nil), key...), 0)
		if NewIntegrity(other).Check(&m) == nil && len(key) >= 64 {
			// HMAC pads short keys with zeros, so key and key||0 collide
			// for keys under 64 bytes (RFC 2104 §2); longer ones must not.
			t.Fatal("a different key verified")
		}
	})
}
