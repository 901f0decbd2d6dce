package dtls

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"
)

const (
	cookieLen = 32
	// cookieSlot is the time step a cookie is bound to; a cookie is accepted
	// in its own slot and the next, so it lives 1-2 slots.
	cookieSlot = 60 * time.Second
)

// makeCookie computes the stateless cookie of RFC 6347 §4.2.1: an HMAC over
// the client's address, a coarse time slot, and the ClientHello fields the
// client must repeat unchanged in its second hello (version, random,
// session_id, cipher_suites, compression_methods). Extensions are left out:
// RFC 6347 does not require them to be identical.
func makeCookie(dst, secret []byte, addr netip.AddrPort, slot int64, m *clientHello) []byte {
	mac := hmac.New(sha256.New, secret)
	var b [16 + 2 + 8 + 2]byte
	a := addr.Addr().As16()
	copy(b[:16], a[:])
	binary.BigEndian.PutUint16(b[16:], addr.Port())
	binary.BigEndian.PutUint64(b[18:], uint64(slot))
	binary.BigEndian.PutUint16(b[26:], m.version)
	mac.Write(b[:])
	mac.Write(m.random)
	mac.Write([]byte{byte(len(m.sessionID))})
	mac.Write(m.sessionID)
	for _, s := range m.cipherSuites {
		mac.Write([]byte{byte(s >> 8), byte(s)})
	}
	mac.Write([]byte{byte(len(m.compressionMethods))})
	mac.Write(m.compressionMethods)
	return mac.Sum(dst)
}

func cookieSlotOf(now time.Time) int64 { return now.UnixNano() / int64(cookieSlot) }

// checkCookie reports whether the hello carries a cookie we made for this
// address in the current or the previous slot. Constant-time compare.
func checkCookie(secret []byte, addr netip.AddrPort, now time.Time, m *clientHello) bool {
	if len(m.cookie) != cookieLen {
		return false
	}
	var buf [sha256.Size]byte
	slot := cookieSlotOf(now)
	for _, s := range [2]int64{slot, slot - 1} {
		if hmac.Equal(makeCookie(buf[:0], secret, addr, s, m), m.cookie) {
			return true
		}
	}
	return false
}
