package dtls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"strings"
	"time"

	// Register the hashes a fingerprint may name.
	_ "crypto/sha512"
)

// Certificate is our DTLS identity: a DER certificate and its key.
type Certificate struct {
	DER        []byte
	PrivateKey *ecdsa.PrivateKey
}

// certValidity is how long a generated certificate claims to be valid.
// WebRTC peers check the fingerprint, not the dates, but some stacks reject
// an expired certificate.
const certValidity = 30 * 24 * time.Hour

// GenerateCertificate makes an ECDSA P-256 self-signed certificate, in
// memory, valid from a day before now for certValidity. A nil rand means
// crypto/rand.
func GenerateCertificate(rand io.Reader, now time.Time) (*Certificate, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, err
	}
	var serial [16]byte
	if _, err := io.ReadFull(rand, serial[:]); err != nil {
		return nil, err
	}
	serial[0] &= 0x7f // positive, RFC 5280 §4.1.2.2
	tmpl := &x509.Certificate{
		SerialNumber:       new(big.Int).SetBytes(serial[:]),
		Subject:            pkix.Name{CommonName: "WebRTC"},
		NotBefore:          now.Add(-24 * time.Hour),
		NotAfter:           now.Add(certValidity),
		SignatureAlgorithm: x509.ECDSAWithSHA256,
		KeyUsage:           x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &Certificate{DER: der, PrivateKey: key}, nil
}

// Fingerprint is the SHA-256 fingerprint of the certificate as SDP writes
// it (RFC 8122 §5): upper-case hex bytes separated by colons.
func (c *Certificate) Fingerprint() string {
	d := sha256.Sum256(c.DER)
	return formatFingerprint(d[:])
}

func formatFingerprint(d []byte) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(3 * len(d))
	for i, x := range d {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(hexdigits[x>>4])
		b.WriteByte(hexdigits[x&15])
	}
	return b.String()
}

// Fingerprint is a certificate fingerprint from SDP (RFC 8122 §5).
type Fingerprint struct {
	Hash   crypto.Hash
	Digest []byte
}

// String formats f as SDP does, e.g. "sha-256 AB:CD:...".
func (f Fingerprint) String() string {
	switch f.Hash {
	case crypto.SHA256:
		return "sha-256 " + formatFingerprint(f.Digest)
	case crypto.SHA384:
		return "sha-384 " + formatFingerprint(f.Digest)
	case crypto.SHA512:
		return "sha-512 " + formatFingerprint(f.Digest)
	}
	return "unknown " + formatFingerprint(f.Digest)
}

// matches reports, in constant time over the digest, whether der hashes to f.
func (f Fingerprint) matches(der []byte) bool {
	if !f.Hash.Available() {
		return false
	}
	h := f.Hash.New()
	h.Write(der)
	return subtle.ConstantTimeCompare(h.Sum(nil), f.Digest) == 1
}

var errBadFingerprint = errors.New("dtls: malformed fingerprint")

// NewFingerprint makes a Fingerprint from an SDP fingerprint's hash name
// ("sha-256", "sha-384", "sha-512", any case) and its decoded digest (sdp
// decodes the hex). SHA-1 and MD5 are refused as too weak to identify a
// certificate (RFC 8827 §6.5).
func NewFingerprint(algorithm string, digest []byte) (Fingerprint, error) {
	var h crypto.Hash
	switch strings.ToLower(algorithm) {
	case "sha-256":
		h = crypto.SHA256
	case "sha-384":
		h = crypto.SHA384
	case "sha-512":
		h = crypto.SHA512
	default:
		return Fingerprint{}, errors.New("dtls: unsupported fingerprint hash " + algorithm)
	}
	if len(digest) != h.Size() {
		return Fingerprint{}, errBadFingerprint
	}
	return Fingerprint{Hash: h, Digest: append([]byte(nil), digest...)}, nil
}
