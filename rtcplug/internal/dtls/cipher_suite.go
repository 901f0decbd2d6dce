package dtls

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/chacha20poly1305"
)

// Cipher suites we implement (RFC 5289 §3.2, RFC 7905 §2). All are ECDHE
// with an ECDSA server certificate and an AEAD record protection.
const (
	TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256       uint16 = 0xc02b
	TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384       uint16 = 0xc02c
	TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 uint16 = 0xcca9
)

// scsvRenegotiation is TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3).
const scsvRenegotiation uint16 = 0x00ff

// DefaultCipherSuites is our preference order.
func DefaultCipherSuites() []uint16 {
	return []uint16{
		TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// cipherSuite describes what a suite needs from the key schedule.
type cipherSuite struct {
	id       uint16
	hash     crypto.Hash // PRF and Finished hash (RFC 5246 §5, RFC 5289 §3.2)
	keyLen   int
	ivLen    int  // fixed IV taken from the key block
	explicit bool // an 8-byte explicit nonce travels in each record (RFC 5288 §3)
	chacha   bool
}

// suiteByID returns the parameters of a suite we implement.
func suiteByID(id uint16) (cipherSuite, bool) {
	switch id {
	case TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return cipherSuite{id: id, hash: crypto.SHA256, keyLen: 16, ivLen: 4, explicit: true}, true
	case TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return cipherSuite{id: id, hash: crypto.SHA384, keyLen: 32, ivLen: 4, explicit: true}, true
	case TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		return cipherSuite{id: id, hash: crypto.SHA256, keyLen: 32, ivLen: 12, chacha: true}, true
	}
	return cipherSuite{}, false
}

const (
	aeadTagLen       = 16
	explicitNonceLen = 8
	aadLen           = 13
)

// recordCipher protects records of one epoch in one direction.
type recordCipher struct {
	aead     cipher.AEAD
	iv       [12]byte // GCM: 4-byte salt then zeros; ChaCha: the 12-byte IV
	explicit bool
	nonce    [12]byte
	aad      [aadLen]byte
}

func newRecordCipher(s cipherSuite, key, iv []byte) (*recordCipher, error) {
	var a cipher.AEAD
	var err error
	if s.chacha {
		a, err = chacha20poly1305.New(key)
	} else {
		var b cipher.Block
		b, err = aes.NewCipher(key)
		if err == nil {
			a, err = cipher.NewGCM(b)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(iv) != s.ivLen {
		return nil, errors.New("dtls: bad IV length")
	}
	c := &recordCipher{aead: a, explicit: s.explicit}
	copy(c.iv[:], iv)
	return c, nil
}

// overhead is what protection adds to a plaintext.
func (c *recordCipher) overhead() int {
	if c.explicit {
		return explicitNonceLen + aeadTagLen
	}
	return aeadTagLen
}

// setNonce builds the per-record nonce. AES-GCM (RFC 5288 §3): salt(4) ||
// explicit(8), where we use epoch||seq as the explicit part, as RFC 6347
// §4.1.2.1 asks, so a nonce never repeats under one key. ChaCha20-Poly1305
// (RFC 7905 §2): IV xor the left-padded 64-bit epoch||seq.
func (c *recordCipher) setNonce(epoch uint16, seq uint64) {
	es := uint64(epoch)<<48 | seq
	c.nonce = c.iv
	if c.explicit {
		binary.BigEndian.PutUint64(c.nonce[4:], es)
		return
	}
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], es)
	for i := range x {
		c.nonce[4+i] ^= x[i]
	}
}

// setAAD builds the additional data: seq_num (epoch||seq) || type ||
// version || plaintext length (RFC 5246 §6.2.3.3, RFC 6347 §4.1.2.1).
func (c *recordCipher) setAAD(typ uint8, version, epoch uint16, seq uint64, n int) {
	binary.BigEndian.PutUint16(c.aad[0:], epoch)
	binary.BigEndian.PutUint16(c.aad[2:], uint16(seq>>32))
	binary.BigEndian.PutUint32(c.aad[4:], uint32(seq))
	c.aad[8] = typ
	binary.BigEndian.PutUint16(c.aad[9:], version)
	binary.BigEndian.PutUint16(c.aad[11:], uint16(n))
}

// seal appends a whole protected record (header included) to dst.
func (c *recordCipher) seal(dst []byte, typ uint8, epoch uint16, seq uint64, plaintext []byte) []byte {
	dst = appendRecordHeader(dst, typ, epoch, seq, len(plaintext)+c.overhead())
	c.setNonce(epoch, seq)
	c.setAAD(typ, versionDTLS12, epoch, seq, len(plaintext))
	if c.explicit {
		dst = append(dst, c.nonce[4:]...)
	}
	return c.aead.Seal(dst, c.nonce[:], plaintext, c.aad[:])
}

var errOpen = errors.New("dtls: record authentication failed")

// open authenticates and decrypts a record fragment, appending the plaintext
// to dst. The nonce of an AES-GCM record is taken from the record, as the
// sender chose it (RFC 5288 §3).
func (c *recordCipher) open(dst []byte, h recordHeader, fragment []byte) ([]byte, error) {
	if len(fragment) < c.overhead() {
		return nil, errOpen
	}
	c.nonce = c.iv
	if c.explicit {
		copy(c.nonce[4:], fragment[:explicitNonceLen])
		fragment = fragment[explicitNonceLen:]
	} else {
		c.setNonce(h.epoch, h.seq)
	}
	n := len(fragment) - aeadTagLen
	if n > maxPlaintext {
		return nil, errOpen
	}
	c.setAAD(h.typ, h.version, h.epoch, h.seq, n)
	out, err := c.aead.Open(dst, c.nonce[:], fragment, c.aad[:])
	if err != nil {
		return nil, errOpen
	}
	return out, nil
}
