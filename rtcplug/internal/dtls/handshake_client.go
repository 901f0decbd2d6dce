package dtls

import (
	"crypto/ecdsa"
	"time"
)

// onFragment handles one handshake fragment from the server. Everything
// goes through the reassembler: the server's messages are numbered from
// our hello's message_seq on (RFC 6347 §4.2.2).
func (cl *Client) onFragment(now time.Time, rh recordHeader, h *handshakeHeader) error {
	switch cl.state {
	case awaitFlight4, awaitFlight6:
	default:
		return nil // established: no renegotiation; repeats need no answer
	}
	if rh.epoch == 0 && (h.typ == typeFinished || (cl.state == awaitFlight6 && h.seq >= cl.finishedSeq)) {
		// Finished comes protected (RFC 5246 §7.4.9); a plaintext one is
		// forged and must not take the real one's reassembly slot.
		return nil
	}
	switch cl.reasm.add(h, rh.epoch) {
	case addOld:
		// The server repeats a flight we answered (a HelloVerifyRequest or
		// its flight 4): ours was lost (RFC 6347 §4.2.4).
		cl.resend = true
	case addNew:
		return cl.processMessages(now)
	}
	return nil
}

// onMessage handles the server's messages: HelloVerifyRequest, or flight 4
// (ServerHello, Certificate, ServerKeyExchange, CertificateRequest,
// ServerHelloDone), then Finished after its ChangeCipherSpec.
func (cl *Client) onMessage(now time.Time, typ uint8, epoch, seq uint16, body []byte) error {
	if typ == typeHelloVerifyRequest && cl.expect == typeServerHello && epoch == 0 {
		return cl.onHelloVerifyRequest(now, body)
	}
	if typ != cl.expect {
		if cl.expect == typeCertificateRequest && typ == typeServerHelloDone {
			cl.expect = typeServerHelloDone // CertificateRequest is optional
		} else {
			return alertUnexpectedMessage
		}
	}
	if (epoch == 1) != (typ == typeFinished) {
		return alertUnexpectedMessage
	}
	if len(cl.transcript)+handshakeHeaderLen+len(body) > maxTranscript {
		return alertInternalError
	}
	var err error
	switch typ {
	case typeServerHello:
		err = cl.onServerHello(body)
	case typeCertificate:
		err = cl.onServerCertificate(body)
	case typeServerKeyExchange:
		err = cl.onServerKeyExchange(body)
	case typeCertificateRequest:
		err = cl.onCertificateRequest(body)
	case typeServerHelloDone:
		if len(body) != 0 {
			return alertDecodeError
		}
		cl.transcript = appendTranscript(cl.transcript, typ, seq, body)
		return cl.sendFlight5(now, seq)
	case typeFinished:
		return cl.onFinished(body)
	default:
		return alertUnexpectedMessage
	}
	if err != nil {
		return err
	}
	cl.transcript = appendTranscript(cl.transcript, typ, seq, body)
	return nil
}

// onHelloVerifyRequest sends the ClientHello again with the cookie (RFC
// 6347 §4.2.1): same random, same offer, the next message_seq. A server
// that refuses the cookie may ask again, a few times.
func (cl *Client) onHelloVerifyRequest(now time.Time, body []byte) error {
	cookie, err := parseHelloVerifyRequest(body)
	if err != nil {
		return err
	}
	if cl.helloVerifies++; cl.helloVerifies > maxHelloVerifies {
		return alertUnexpectedMessage
	}
	cl.hello.cookie = append([]byte(nil), cookie...)
	cl.sendHello(now)
	return nil
}

// onServerHello checks what the server chose against what we offered.
func (cl *Client) onServerHello(body []byte) error {
	m, err := parseServerHello(body)
	if err != nil {
		return err
	}
	if m.version != versionDTLS12 {
		return alertProtocolVersion
	}
	suite, ok := suiteByID(m.cipherSuite)
	if !ok || !offersU16(cl.cfg.CipherSuites, m.cipherSuite) || m.compression != 0 {
		return alertIllegalParameter
	}
	if !m.extendedMaster {
		return alertHandshakeFailure // RFC 7627 required, as on our server
	}
	if m.renegotiation && len(m.renegotiationInfo) != 0 {
		return alertHandshakeFailure // RFC 5746 §3.4: must be empty at first
	}
	if m.ecPointFormat && !hasNullCompression(m.ecPointFormats) {
		return alertIllegalParameter
	}
	if !m.hasSRTP {
		return alertHandshakeFailure // DTLS-SRTP is the point (RFC 5764 §4.1.1)
	}
	if !offersProfile(cl.cfg.SRTPProfiles, m.srtpProfile) || len(m.srtpMKI) != 0 {
		return alertIllegalParameter // not offered; we sent no MKI (RFC 5764 §4.1.3)
	}
	cl.suite, cl.srtpProfile = suite, m.srtpProfile
	copy(cl.serverRandom[:], m.random)
	cl.expect = typeCertificate
	return nil
}

// onServerCertificate checks the fingerprint first: nothing the key signed
// is used before. Our suites are ECDHE_ECDSA: the key must be ECDSA.
func (cl *Client) onServerCertificate(body []byte) error {
	if err := cl.acceptPeerCertificate(body); err != nil {
		return err
	}
	if _, ok := cl.peerKey.(*ecdsa.PublicKey); !ok {
		return alertUnsupportedCertificate
	}
	cl.expect = typeServerKeyExchange
	return nil
}

// onServerKeyExchange verifies the signature over client_random ||
// server_random || params with the certificate's key (RFC 8422 §5.4).
func (cl *Client) onServerKeyExchange(body []byte) error {
	m, err := parseServerKeyExchange(body)
	if err != nil {
		return err
	}
	if !offersU16(cl.hello.supportedGroups, m.group) || !offersU16(cl.hello.signatureSchemes, m.scheme) {
		return alertIllegalParameter
	}
	signed := make([]byte, 0, 2*randomLen+len(m.params))
	signed = append(append(append(signed, cl.clientRandom[:]...), cl.serverRandom[:]...), m.params...)
	if err := verifySignature(cl.peerKey, m.scheme, signed, m.signature); err != nil {
		return err
	}
	cl.group = m.group
	cl.serverPublic = append([]byte(nil), m.public...)
	cl.expect = typeCertificateRequest
	return nil
}

// onCertificateRequest: a WebRTC server asks for our certificate, which is
// ECDSA P-256 signing with SHA-256; the request must allow that.
func (cl *Client) onCertificateRequest(body []byte) error {
	m, err := parseCertificateRequest(body)
	if err != nil {
		return err
	}
	ecdsaOK := false
	for _, t := range m.types {
		if t == certTypeECDSASign {
			ecdsaOK = true
		}
	}
	if !ecdsaOK || !offersU16(m.schemes, sigECDSAP256SHA256) {
		return alertHandshakeFailure
	}
	cl.certRequest = true
	cl.expect = typeServerHelloDone
	return nil
}

// sendFlight5 sends Certificate (if asked), ClientKeyExchange,
// CertificateVerify (if asked), ChangeCipherSpec and Finished (RFC 5246
// §7.3), and waits for the server's ChangeCipherSpec and Finished.
func (cl *Client) sendFlight5(now time.Time, doneSeq uint16) error {
	key, err := curveOf(cl.group).GenerateKey(cl.cfg.Rand)
	if err != nil {
		return alertInternalError
	}
	cl.ecdhKey = key
	pms, err := cl.sharedSecret(cl.serverPublic)
	if err != nil {
		return err
	}
	cl.serverPublic = nil
	cl.flight = cl.flight[:0]
	if cl.certRequest {
		cl.addMessage(typeCertificate, 0, appendCertificate(nil, cl.cfg.Certificate.DER))
	}
	cl.addMessage(typeClientKeyExchange, 0, appendClientKeyExchange(nil, key.PublicKey().Bytes()))
	if err := cl.installKeys(pms, true); err != nil {
		return err
	}
	if cl.certRequest {
		sig, err := cl.sign(cl.transcript)
		if err != nil {
			return alertInternalError
		}
		cl.addMessage(typeCertificateVerify, 0, appendCertificateVerify(nil, sigECDSAP256SHA256, sig))
	}
	cl.addFinished(labelClientFinished)
	cl.finishedSeq = doneSeq + 1
	cl.expect = typeFinished
	cl.state = awaitFlight6
	// While flight 4 came in, the Finished's place was not known yet (the
	// CertificateRequest is optional): a plaintext fragment held there is
	// forged and would stall or fail the handshake.
	cl.reasm.dropPlaintextFrom(cl.finishedSeq)
	cl.startFlight(now, true)
	return nil
}

// onFinished checks the server's verify_data over everything up to and
// including our Finished (RFC 5246 §7.4.9, constant time). The handshake is
// then complete; the server sends no further flight, so ours is dropped.
func (cl *Client) onFinished(body []byte) error {
	if err := cl.checkFinished(labelServerFinished, body); err != nil {
		return err
	}
	cl.flight = nil
	cl.rtxDeadline = time.Time{}
	cl.complete()
	return nil
}
