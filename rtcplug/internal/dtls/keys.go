package dtls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// acceptPeerCertificate checks the peer's Certificate against the
// fingerprints from its SDP (RFC 8122 §5, RFC 8827 §6.5): this, not a CA
// chain, is what authenticates a WebRTC peer. It runs before anything the
// certificate's key signed is looked at.
func (c *conn) acceptPeerCertificate(body []byte) error {
	certs, err := parseCertificate(body)
	if err != nil {
		return err
	}
	if len(certs) == 0 {
		return alertHandshakeFailure // we need the certificate the SDP names
	}
	leaf := certs[0]
	match := false
	for _, f := range c.cfg.ExpectedFingerprints {
		if f.matches(leaf) {
			match = true
		}
	}
	if !match {
		return alertBadCertificate
	}
	cert, err := x509.ParseCertificate(leaf)
	if err != nil {
		return alertBadCertificate
	}
	switch k := cert.PublicKey.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey:
		c.peerKey = k
	default:
		return alertUnsupportedCertificate
	}
	c.peerCert = append([]byte(nil), leaf...)
	return nil
}

// installKeys derives the extended master secret over the session hash,
// the transcript through ClientKeyExchange (RFC 7627 §4), and the record
// keys (RFC 5246 §6.3). The client writes with the client half of the key
// block and reads with the server half; the server the other way round.
// The read keys wait for the peer's ChangeCipherSpec. pms is wiped.
func (c *conn) installKeys(pms []byte, client bool) error {
	h := c.suite.hash.New()
	h.Write(c.transcript)
	c.master = extendedMasterSecret(c.suite.hash, pms, h.Sum(nil))
	clear(pms)
	k := deriveKeys(c.suite, c.master, c.clientRandom[:], c.serverRandom[:])
	readKey, readIV, writeKey, writeIV := k.clientKey, k.clientIV, k.serverKey, k.serverIV
	if client {
		readKey, readIV, writeKey, writeIV = writeKey, writeIV, readKey, readIV
	}
	var err error
	if c.readCipher, err = newRecordCipher(c.suite, readKey, readIV); err != nil {
		return alertInternalError
	}
	if c.writeCipher, err = newRecordCipher(c.suite, writeKey, writeIV); err != nil {
		return alertInternalError
	}
	return nil
}

// verifySignature verifies a TLS 1.2 signature made with scheme over
// message. The scheme must be one we offered and must fit the key.
func verifySignature(key crypto.PublicKey, scheme uint16, message, sig []byte) error {
	var hash crypto.Hash
	switch scheme {
	case sigECDSAP256SHA256, sigRSAPKCS1SHA256, sigRSAPSSSHA256:
		hash = crypto.SHA256
	case sigECDSAP384SHA384, sigRSAPKCS1SHA384, sigRSAPSSSHA384:
		hash = crypto.SHA384
	case sigECDSAP521SHA512, sigRSAPKCS1SHA512, sigRSAPSSSHA512:
		hash = crypto.SHA512
	default:
		return alertIllegalParameter
	}
	h := hash.New()
	h.Write(message)
	digest := h.Sum(nil)
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if scheme&0xff != 0x03 {
			return alertIllegalParameter
		}
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return alertDecryptError
		}
	case *rsa.PublicKey:
		var err error
		switch scheme >> 8 {
		case 0x08:
			err = rsa.VerifyPSS(k, hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		default:
			if scheme&0xff != 0x01 {
				return alertIllegalParameter
			}
			err = rsa.VerifyPKCS1v15(k, hash, digest, sig)
		}
		if err != nil {
			return alertDecryptError
		}
	default:
		return alertUnsupportedCertificate
	}
	return nil
}

// sharedSecret completes ECDHE with the peer's public point (RFC 8422
// §5.10) and drops our ephemeral key.
func (c *conn) sharedSecret(peerPublic []byte) ([]byte, error) {
	peer, err := curveOf(c.group).NewPublicKey(peerPublic)
	if err != nil {
		return nil, alertIllegalParameter
	}
	pms, err := c.ecdhKey.ECDH(peer)
	if err != nil {
		return nil, alertIllegalParameter
	}
	c.ecdhKey = nil
	return pms, nil
}

// sign signs the concatenation of parts with our ECDSA P-256 key and
// SHA-256 (ecdsa_secp256r1_sha256), the only scheme we sign with.
func (c *conn) sign(parts ...[]byte) ([]byte, error) {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return ecdsa.SignASN1(c.cfg.Rand, c.cfg.Certificate.PrivateKey, h.Sum(nil))
}

// checkFinished checks the peer's verify_data, PRF(master_secret, label,
// Hash(handshake_messages)) (RFC 5246 §7.4.9), in constant time.
func (c *conn) checkFinished(label string, body []byte) error {
	vd, err := parseFinished(body)
	if err != nil {
		return err
	}
	want := finishedVerifyData(c.suite.hash, c.master, label, c.transcript)
	if subtle.ConstantTimeCompare(vd, want) != 1 {
		return alertDecryptError
	}
	return nil
}

// addFinished ends the flight being built with ChangeCipherSpec and our
// Finished, the first message of the new write epoch (RFC 5246 §7.1).
func (c *conn) addFinished(label string) {
	c.flight = append(c.flight, flightMsg{ccs: true, epoch: 0})
	c.writeEpoch = 1
	c.addMessage(typeFinished, 1, finishedVerifyData(c.suite.hash, c.master, label, c.transcript))
}

// complete marks the handshake done and reports it.
func (c *conn) complete() {
	c.state = established
	c.transcript = nil
	c.pushEvent(Event{
		Kind:            HandshakeComplete,
		CipherSuite:     c.suite.id,
		SRTPProfile:     srtp.Profile(c.srtpProfile),
		PeerCertificate: append([]byte(nil), c.peerCert...),
	})
}
