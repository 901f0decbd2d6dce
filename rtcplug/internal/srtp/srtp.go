package srtp

import (
	"encoding/binary"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

// estimateIndex guesses the 48-bit packet index of seq from the highest
// index seen, as in RFC 3711 Appendix A: the ROC is taken one lower or
// higher when seq is more than half the sequence space away from s_l. It
// fails when the guess would leave the 48-bit space.
func estimateIndex(top uint64, seq uint16) (uint64, bool) {
	roc := int64(top >> 16)
	sl := uint16(top)
	v := roc
	if sl < 0x8000 {
		if seq > sl && seq-sl > 0x8000 {
			v--
		}
	} else if sl-0x8000 > seq {
		v++
	}
	if v < 0 || v > maxROC {
		return 0, false
	}
	return uint64(v)<<16 | uint64(seq), true
}

// rtpHeaderLen returns the header length to use for pkt: from h when given
// (checked against pkt), else parsed.
func rtpHeaderLen(pkt []byte, h *rtp.Header, tagLen int) (int, error) {
	var hl int
	if h == nil {
		var local rtp.Header
		if err := local.Unmarshal(pkt); err != nil {
			return 0, err
		}
		hl = local.HeaderLen
	} else {
		if len(pkt) < rtp.FixedHeaderLen {
			return 0, ErrShort
		}
		hl = h.HeaderLen
		if hl < rtp.FixedHeaderLen || hl > len(pkt) {
			return 0, ErrHeader
		}
	}
	if len(pkt)-hl < tagLen {
		return 0, ErrShort
	}
	return hl, nil
}

// rtpIV builds the AES-CM IV of RFC 3711 §4.1.1:
// (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16).
func (c *Context) rtpIV(salt *[prfSaltLen]byte, ssrc uint32, index uint64) {
	iv := &c.iv
	copy(iv[:], salt[:])
	iv[14], iv[15] = 0, 0
	iv[4] ^= byte(ssrc >> 24)
	iv[5] ^= byte(ssrc >> 16)
	iv[6] ^= byte(ssrc >> 8)
	iv[7] ^= byte(ssrc)
	for i := 0; i < 6; i++ {
		iv[8+i] ^= byte(index >> (40 - 8*i))
	}
}

// gcmNonce builds the 12-byte AES-GCM IV, (00 00 || SSRC || index48) XOR
// salt, where index48 is ROC || SEQ for SRTP (RFC 7714 §8.1) and
// 00 00 || 0 || 31-bit SRTCP index for SRTCP (§9.1).
func (c *Context) gcmNonce(salt *[prfSaltLen]byte, ssrc uint32, index48 uint64) {
	n := &c.nonce
	n[0], n[1] = 0, 0
	binary.BigEndian.PutUint32(n[2:6], ssrc)
	n[6] = byte(index48 >> 40)
	n[7] = byte(index48 >> 32)
	binary.BigEndian.PutUint32(n[8:12], uint32(index48))
	for i := range n {
		n[i] ^= salt[i]
	}
}

// DecryptRTP authenticates and decrypts the SRTP packet pkt and appends the
// RTP packet (header and payload, padding still in place, no tag) to dst. dst
// may be pkt[:0] to decrypt in place; otherwise it must not overlap pkt. h,
// if not nil, must hold pkt's parsed header; with nil the header is parsed
// here. On error nothing is recorded for the SSRC, and (in place) the
// contents of pkt are unspecified.
func (c *Context) DecryptRTP(dst, pkt []byte, h *rtp.Header) ([]byte, error) {
	s := &c.rtp
	hl, err := rtpHeaderLen(pkt, h, s.tagLen)
	if err != nil {
		return nil, err
	}
	seq := binary.BigEndian.Uint16(pkt[2:4])
	ssrc := binary.BigEndian.Uint32(pkt[8:12])

	// 1. Replay check against the state of an already authenticated SSRC.
	st := c.recvRTP.find(ssrc)
	index := uint64(seq) // a new SSRC starts at ROC 0 (RFC 3711 §3.3.1)
	if st != nil {
		var ok bool
		if index, ok = estimateIndex(st.w.top, seq); !ok || !st.w.check(index) {
			return nil, ErrReplayed
		}
	}

	n := len(pkt) - s.tagLen
	ret, out := grow(dst, n)
	if inexactOverlap(out, pkt) {
		return nil, ErrOverlap
	}

	// 2. Authenticate (and decrypt).
	if s.aead != nil {
		c.gcmNonce(&s.salt, ssrc, index)
		if c.rtpAuthOnly {
			if _, err := s.aead.Open(c.sum[:0], c.nonce[:], pkt[n:], pkt[:n]); err != nil {
				return nil, ErrAuthFailed
			}
			copy(out, pkt[:n])
		} else {
			// AAD is the whole header with CSRCs and extension (RFC 7714 §8.2).
			copy(out[:hl], pkt[:hl])
			if _, err := s.aead.Open(out[hl:hl], c.nonce[:], pkt[hl:], pkt[:hl]); err != nil {
				return nil, ErrAuthFailed
			}
		}
	} else {
		// RFC 3711 §4.2: tag = HMAC(k_a, header || encrypted payload || ROC).
		binary.BigEndian.PutUint32(c.word[:], uint32(index>>16))
		s.mac.Reset()
		s.mac.Write(pkt[:n])
		s.mac.Write(c.word[:])
		sum := s.mac.Sum(c.sum[:0])
		if !tagOK(sum[:s.tagLen], pkt[n:]) {
			return nil, ErrAuthFailed
		}
		copy(out[:hl], pkt[:hl])
		if c.rtpAuthOnly {
			copy(out[hl:], pkt[hl:n])
		} else {
			c.rtpIV(&s.salt, ssrc, index)
			ctrXOR(s.block, &c.iv, out[hl:], pkt[hl:n], c.ks[:])
		}
	}

	// 3. Only now remember the SSRC and the index.
	if st == nil {
		st = c.recvRTP.add(ssrc)
		st.w.init(index)
	} else {
		c.recvRTP.touch(st)
		st.w.accept(index)
	}
	return ret, nil
}

// EncryptRTP protects the RTP packet pkt and appends the SRTP packet to dst
// (which may be pkt[:0] with room for the tag, to encrypt in place). h, if
// not nil, must hold pkt's parsed header. The rollover counter of each SSRC
// is tracked from the sequence numbers sent (RFC 3711 §3.3.1), so a
// retransmission with an older sequence number gets its original index.
func (c *Context) EncryptRTP(dst, pkt []byte, h *rtp.Header) ([]byte, error) {
	s := &c.rtp
	hl, err := rtpHeaderLen(pkt, h, 0)
	if err != nil {
		return nil, err
	}
	seq := binary.BigEndian.Uint16(pkt[2:4])
	ssrc := binary.BigEndian.Uint32(pkt[8:12])

	st := c.sendRTP.find(ssrc)
	index := uint64(seq)
	if st != nil {
		var ok bool
		if index, ok = estimateIndex(st.w.top, seq); !ok {
			return nil, ErrIndexExhausted
		}
	}

	n := len(pkt)
	ret, out := grow(dst, n+s.tagLen)
	if inexactOverlap(out, pkt) {
		return nil, ErrOverlap
	}
	if s.aead != nil {
		c.gcmNonce(&s.salt, ssrc, index)
		if c.rtpAuthOnly {
			copy(out, pkt)
			s.aead.Seal(out[n:n], c.nonce[:], nil, out[:n])
		} else {
			copy(out[:hl], pkt[:hl])
			s.aead.Seal(out[hl:hl], c.nonce[:], pkt[hl:], out[:hl])
		}
	} else {
		copy(out[:hl], pkt[:hl])
		if c.rtpAuthOnly {
			copy(out[hl:n], pkt[hl:])
		} else {
			c.rtpIV(&s.salt, ssrc, index)
			ctrXOR(s.block, &c.iv, out[hl:n], pkt[hl:], c.ks[:])
		}
		binary.BigEndian.PutUint32(c.word[:], uint32(index>>16))
		s.mac.Reset()
		s.mac.Write(out[:n])
		s.mac.Write(c.word[:])
		sum := s.mac.Sum(c.sum[:0])
		copy(out[n:], sum[:s.tagLen])
	}

	if st == nil {
		st = c.sendRTP.add(ssrc)
		st.w.top = index
	} else {
		c.sendRTP.touch(st)
		st.w.top = max(st.w.top, index)
	}
	return ret, nil
}
