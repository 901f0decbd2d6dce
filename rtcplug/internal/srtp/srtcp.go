package srtp

import "encoding/binary"

// DecryptRTCP authenticates and, when its E flag is set, decrypts the SRTCP
// packet pkt (RFC 3711 §3.4, RFC 7714 §9) and appends the RTCP packet
// (without index word and tag) to dst. dst may be pkt[:0] to work in place;
// otherwise it must not overlap pkt. Packets without the E flag are accepted
// as authenticated-only. On error nothing is recorded for the SSRC.
//
// RTCP length fields are not checked here: that is the RTCP parser's job,
// after authentication.
func (c *Context) DecryptRTCP(dst, pkt []byte) ([]byte, error) {
	s := &c.rtcp
	if len(pkt) < srtcpHeaderLen+srtcpIndexLen+s.tagLen {
		return nil, ErrShort
	}
	ssrc := binary.BigEndian.Uint32(pkt[4:8])

	// Layout: AES-CM  header | payload | E+index | tag   (RFC 3711 §3.4)
	//         GCM     header | payload+tag | E+index     (RFC 7714 §9)
	var wordAt int
	if s.aead != nil {
		wordAt = len(pkt) - srtcpIndexLen
	} else {
		wordAt = len(pkt) - s.tagLen - srtcpIndexLen
	}
	word := binary.BigEndian.Uint32(pkt[wordAt:])
	encrypted := word&eFlag != 0
	index := uint64(word &^ eFlag)

	st := c.recvRTCP.find(ssrc)
	if st != nil && !st.w.check(index) {
		return nil, ErrReplayed
	}

	var n int // length of the RTCP packet that comes out
	if s.aead != nil {
		n = len(pkt) - srtcpIndexLen - s.tagLen
	} else {
		n = wordAt
	}
	ret, out := grow(dst, n)
	if inexactOverlap(out, pkt) {
		return nil, ErrOverlap
	}

	if s.aead != nil {
		c.gcmNonce(&s.salt, ssrc, index)
		if encrypted {
			// AAD = first 8 octets || E+index (RFC 7714 §9.2).
			copy(c.aad12[:srtcpHeaderLen], pkt[:srtcpHeaderLen])
			copy(c.aad12[srtcpHeaderLen:], pkt[wordAt:])
			copy(out[:srtcpHeaderLen], pkt[:srtcpHeaderLen])
			if _, err := s.aead.Open(out[srtcpHeaderLen:srtcpHeaderLen], c.nonce[:],
				pkt[srtcpHeaderLen:wordAt], c.aad12[:]); err != nil {
				return nil, ErrAuthFailed
			}
		} else {
			// AAD = whole RTCP packet || E+index, no plaintext (RFC 7714 §9.3).
			c.aad = append(append(c.aad[:0], pkt[:n]...), pkt[wordAt:]...)
			if _, err := s.aead.Open(c.sum[:0], c.nonce[:], pkt[n:wordAt], c.aad); err != nil {
				return nil, ErrAuthFailed
			}
			copy(out, pkt[:n])
		}
	} else {
		// Tag over header || payload || E+index (RFC 3711 §3.4).
		s.mac.Reset()
		s.mac.Write(pkt[:wordAt+srtcpIndexLen])
		sum := s.mac.Sum(c.sum[:0])
		if !tagOK(sum[:s.tagLen], pkt[wordAt+srtcpIndexLen:]) {
			return nil, ErrAuthFailed
		}
		copy(out[:srtcpHeaderLen], pkt[:srtcpHeaderLen])
		if encrypted {
			c.rtpIV(&s.salt, ssrc, index) // the SRTCP index takes the place of i
			ctrXOR(s.block, &c.iv, out[srtcpHeaderLen:], pkt[srtcpHeaderLen:n], c.ks[:])
		} else {
			copy(out[srtcpHeaderLen:], pkt[srtcpHeaderLen:n])
		}
	}

	if st == nil {
		st = c.recvRTCP.add(ssrc)
		st.w.init(index)
	} else {
		c.recvRTCP.touch(st)
		st.w.accept(index)
	}
	return ret, nil
}

// EncryptRTCP protects the (compound) RTCP packet pkt and appends the SRTCP
// packet to dst (which may be pkt[:0] with room for the index and tag). The
// SRTCP index counts from 0 per sender SSRC (RFC 3711 §3.4); when 2^31
// packets have been sent, ErrIndexExhausted says a rekey is due.
func (c *Context) EncryptRTCP(dst, pkt []byte) ([]byte, error) {
	s := &c.rtcp
	if len(pkt) < srtcpHeaderLen {
		return nil, ErrShort
	}
	ssrc := binary.BigEndian.Uint32(pkt[4:8])
	st := c.sendRTCP.find(ssrc)
	if st == nil {
		st = c.sendRTCP.add(ssrc)
	} else {
		c.sendRTCP.touch(st)
	}
	if st.w.top > maxSRTCPIndex {
		return nil, ErrIndexExhausted
	}
	index := st.w.top
	word := uint32(index)
	if !c.rtcpAuthOnly {
		word |= eFlag
	}

	n := len(pkt)
	ret, out := grow(dst, n+srtcpIndexLen+s.tagLen)
	if inexactOverlap(out, pkt) {
		return nil, ErrOverlap
	}
	if s.aead != nil {
		c.gcmNonce(&s.salt, ssrc, index)
		tagEnd := n + s.tagLen
		binary.BigEndian.PutUint32(c.word[:], word)
		if c.rtcpAuthOnly {
			copy(out, pkt)
			c.aad = append(append(c.aad[:0], pkt...), c.word[:]...)
			s.aead.Seal(out[n:n], c.nonce[:], nil, c.aad)
		} else {
			copy(c.aad12[:srtcpHeaderLen], pkt[:srtcpHeaderLen])
			copy(c.aad12[srtcpHeaderLen:], c.word[:])
			copy(out[:srtcpHeaderLen], pkt[:srtcpHeaderLen])
			s.aead.Seal(out[srtcpHeaderLen:srtcpHeaderLen], c.nonce[:], pkt[srtcpHeaderLen:], c.aad12[:])
		}
		copy(out[tagEnd:], c.word[:])
	} else {
		copy(out[:srtcpHeaderLen], pkt[:srtcpHeaderLen])
		if c.rtcpAuthOnly {
			copy(out[srtcpHeaderLen:n], pkt[srtcpHeaderLen:])
		} else {
			c.rtpIV(&s.salt, ssrc, index)
			ctrXOR(s.block, &c.iv, out[srtcpHeaderLen:n], pkt[srtcpHeaderLen:], c.ks[:])
		}
		binary.BigEndian.PutUint32(out[n:], word)
		s.mac.Reset()
		s.mac.Write(out[:n+srtcpIndexLen])
		sum := s.mac.Sum(c.sum[:0])
		copy(out[n+srtcpIndexLen:], sum[:s.tagLen])
	}
	st.w.top = index + 1
	return ret, nil
}
