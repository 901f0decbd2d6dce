// Package srtp protects and unprotects RTP and RTCP packets (SRTP and SRTCP,
// RFC 3711) with the profiles WebRTC negotiates over DTLS-SRTP (RFC 5764):
// AES-128 counter mode with HMAC-SHA1 (80- or 32-bit tags) and AES-GCM
// (RFC 7714, 128- and 256-bit keys).
//
// A Context is a pure byte transform plus per-SSRC state (rollover counters
// and replay windows); it does no I/O and is not safe for concurrent use. On
// receive it checks the replay window, then authenticates, and only then
// creates or updates state for the SSRC, so forged packets leave no trace.
// Protecting and unprotecting a packet allocates nothing once an SSRC is known.
//
// MKIs are not supported (WebRTC negotiates an empty srtp_mki).
package srtp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"errors"
	"hash"
	"unsafe"
)

// Errors returned by this package. Header parse errors from the rtp package
// are returned as they are.
var (
	ErrShort              = errors.New("srtp: packet too short")
	ErrAuthFailed         = errors.New("srtp: authentication failed")
	ErrReplayed           = errors.New("srtp: packet replayed or too old")
	ErrUnsupportedProfile = errors.New("srtp: unsupported protection profile")
	ErrKeyLength          = errors.New("srtp: wrong master key, salt or keying material length")
	ErrOverlap            = errors.New("srtp: dst overlaps the packet other than in place")
	ErrIndexExhausted     = errors.New("srtp: packet index space exhausted, rekey needed")
	ErrHeader             = errors.New("srtp: RTP header length does not fit the packet")
)

const (
	// maxSRTCPIndex is the largest 31-bit SRTCP index (RFC 3711 §3.4).
	maxSRTCPIndex = 1<<31 - 1
	// maxROC: the ROC is 32 bits; past it the 48-bit index would repeat.
	maxROC = 1<<32 - 1
	// srtcpHeaderLen is the part of an RTCP packet that stays in clear.
	srtcpHeaderLen = 8
	// srtcpIndexLen is the E flag + 31-bit index word.
	srtcpIndexLen = 4
	// eFlag marks an encrypted SRTCP packet.
	eFlag = 1 << 31
)

// session is the cipher state for one of SRTP or SRTCP, created once.
type session struct {
	block  cipher.Block // AES with the session encryption key
	aead   cipher.AEAD  // GCM over block (GCM profiles)
	mac    hash.Hash    // HMAC-SHA1 with the session auth key (AES-CM profiles)
	salt   [prfSaltLen]byte
	tagLen int
}

// Context is the SRTP and SRTCP state of one direction of one DTLS-SRTP
// association. Use one Context to decrypt what the peer sends and another
// (made from the other half of the keying material) to encrypt what we send.
type Context struct {
	profile Profile
	rtp     session
	rtcp    session

	recvRTP, recvRTCP ssrcTable // replay windows; ROC and s_l of RFC 3711 §3.3.1 in w.top
	sendRTP, sendRTCP ssrcTable // highest SRTP index sent; next SRTCP index

	// rtpAuthOnly and rtcpAuthOnly select authentication without encryption
	// (RFC 7714 §16.1.3, §17.3). Not negotiable in WebRTC; used by the RFC
	// vector tests.
	rtpAuthOnly, rtcpAuthOnly bool

	// Scratch reused by every packet so that none allocates.
	ks    [keystreamLen]byte
	iv    [aes.BlockSize]byte
	nonce [12]byte
	sum   [sha1.Size]byte
	word  [4]byte
	aad12 [srtcpHeaderLen + srtcpIndexLen]byte
	// aad holds the RFC 7714 §9.3 AAD of an unencrypted (E=0) SRTCP packet,
	// which is not contiguous in the packet. It grows to the largest such
	// packet seen, so it is bounded by the datagram size.
	aad []byte
}

// NewContext derives the SRTP and SRTCP session keys (RFC 3711 §4.3) from a
// master key and salt of the lengths p.KeyLen() and p.SaltLen().
func NewContext(p Profile, masterKey, masterSalt []byte) (*Context, error) {
	if !p.supported() {
		return nil, ErrUnsupportedProfile
	}
	if len(masterKey) != p.KeyLen() || len(masterSalt) != p.SaltLen() {
		return nil, ErrKeyLength
	}
	master, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	sess := func(encLabel, authLabel, saltLabel byte) sessionKeys {
		k := sessionKeys{
			key:  deriveKey(master, masterSalt, encLabel, p.KeyLen()),
			salt: deriveKey(master, masterSalt, saltLabel, p.SaltLen()),
		}
		if !p.isGCM() {
			k.auth = deriveKey(master, masterSalt, authLabel, authKeyLen)
		}
		return k
	}
	return newContextFromSessionKeys(p,
		sess(labelRTPEncryption, labelRTPAuth, labelRTPSalt),
		sess(labelRTCPEncryption, labelRTCPAuth, labelRTCPSalt))
}

// sessionKeys are the derived keys of one of SRTP or SRTCP.
type sessionKeys struct {
	key, salt, auth []byte
}

func newContextFromSessionKeys(p Profile, rtpKeys, rtcpKeys sessionKeys) (*Context, error) {
	c := &Context{profile: p}
	if err := c.rtp.init(p, rtpKeys, p.rtpTagLen()); err != nil {
		return nil, err
	}
	if err := c.rtcp.init(p, rtcpKeys, p.rtcpTagLen()); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *session) init(p Profile, k sessionKeys, tagLen int) error {
	if len(k.key) != p.KeyLen() || len(k.salt) != p.SaltLen() {
		return ErrKeyLength
	}
	block, err := aes.NewCipher(k.key)
	if err != nil {
		return err
	}
	s.block = block
	copy(s.salt[:], k.salt)
	s.tagLen = tagLen
	if p.isGCM() {
		s.aead, err = cipher.NewGCM(block)
		return err
	}
	if len(k.auth) != authKeyLen {
		return ErrKeyLength
	}
	s.mac = hmac.New(sha1.New, k.auth)
	return nil
}

// Profile is the protection profile the Context was made for.
func (c *Context) Profile() Profile { return c.profile }

// grow returns dst extended by n bytes and the n new bytes. It reallocates
// only when dst lacks the capacity.
func grow(dst []byte, n int) (ret, tail []byte) {
	total := len(dst) + n
	if cap(dst) >= total {
		ret = dst[:total]
	} else {
		ret = make([]byte, total, total+total/4)
		copy(ret, dst)
	}
	return ret, ret[len(dst):]
}

// inexactOverlap reports whether out and in share memory without starting at
// the same address. Working in place (out and in start together) is fine;
// any other overlap would let output clobber input not yet read.
func inexactOverlap(out, in []byte) bool {
	if len(out) == 0 || len(in) == 0 {
		return false
	}
	o := uintptr(unsafe.Pointer(unsafe.SliceData(out)))
	i := uintptr(unsafe.Pointer(unsafe.SliceData(in)))
	if o == i {
		return false
	}
	return o < i+uintptr(len(in)) && i < o+uintptr(len(out))
}

// tagOK compares a computed and a received tag in constant time.
func tagOK(computed, received []byte) bool { return hmac.Equal(computed, received) }
