package dtls

import (
	"crypto/rand"
	"errors"
	"io"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// Config configures a Server or a Client. The zero value of every field but Certificate
// and ExpectedFingerprints has a default.
type Config struct {
	// Certificate is our identity (ECDSA P-256). Required.
	Certificate *Certificate
	// Rand is the source of randomness; nil means crypto/rand.
	Rand io.Reader
	// MTU is the largest datagram we send; 0 means DefaultMTU.
	MTU int
	// CookieSecret keys the server's HelloVerifyRequest cookie HMAC; nil
	// means 32 bytes read from Rand. A client ignores it.
	CookieSecret []byte
	// ExpectedFingerprints are the peer's certificate fingerprints from its
	// SDP; the certificate must match one. Required: a WebRTC endpoint that
	// accepted any certificate would let anyone on the path in.
	ExpectedFingerprints []Fingerprint
	// CipherSuites and SRTPProfiles are in our preference order; nil means
	// DefaultCipherSuites and DefaultSRTPProfiles.
	CipherSuites []uint16
	SRTPProfiles []srtp.Profile
	// Progress asks for Progress events: the handshake narrated step by
	// step for debug logs.
	Progress bool
}

const (
	// DefaultMTU keeps datagrams clear of fragmentation on common paths,
	// with room for TURN and VPN overhead.
	DefaultMTU = 1200
	// minMTU must hold a record header, a handshake header and a useful
	// amount of message.
	minMTU = 256
	// maxMTU is the largest UDP payload.
	maxMTU = 65507
	// minCookieSecret is the shortest HMAC key we accept.
	minCookieSecret = 16
)

// normalize fills defaults and checks the config.
func (c Config) normalize(server bool) (Config, error) {
	if c.Certificate == nil || c.Certificate.PrivateKey == nil || len(c.Certificate.DER) == 0 {
		return c, errors.New("dtls: Config.Certificate is required")
	}
	if len(c.ExpectedFingerprints) == 0 {
		return c, errors.New("dtls: Config.ExpectedFingerprints is required")
	}
	for _, f := range c.ExpectedFingerprints {
		if !f.Hash.Available() || len(f.Digest) != f.Hash.Size() {
			return c, errBadFingerprint
		}
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	switch {
	case c.MTU == 0:
		c.MTU = DefaultMTU
	case c.MTU < minMTU || c.MTU > maxMTU:
		return c, errors.New("dtls: MTU out of range")
	}
	if c.CipherSuites == nil {
		c.CipherSuites = DefaultCipherSuites()
	}
	for _, id := range c.CipherSuites {
		if _, ok := suiteByID(id); !ok {
			return c, errors.New("dtls: unsupported cipher suite in Config")
		}
	}
	if c.SRTPProfiles == nil {
		c.SRTPProfiles = DefaultSRTPProfiles()
	}
	if len(c.CipherSuites) == 0 || len(c.SRTPProfiles) == 0 {
		return c, errors.New("dtls: no cipher suite or SRTP profile configured")
	}
	if !server {
		c.CookieSecret = nil // a client makes no cookies
	} else if c.CookieSecret == nil {
		c.CookieSecret = make([]byte, 32)
		if _, err := io.ReadFull(c.Rand, c.CookieSecret); err != nil {
			return c, err
		}
	} else if len(c.CookieSecret) < minCookieSecret {
		return c, errors.New("dtls: CookieSecret too short")
	}
	return c, nil
}
