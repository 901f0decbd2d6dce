package dtls

import (
	"crypto/ecdh"
	"time"
)

// onFragment handles one handshake fragment. Before a valid cookie only
// ClientHello fragments are collected, into one bounded buffer; afterwards
// everything goes through the reassembler.
func (s *Server) onFragment(now time.Time, rh recordHeader, h *handshakeHeader) error {
	switch s.state {
	case awaitHello, awaitCookieHello:
		return s.collectHello(now, rh, h)
	case awaitFlight5, established:
		if rh.epoch == 0 && (h.typ == typeFinished || int(h.seq) >= int(s.clientFlight)+finishedOffset) {
			// Finished, and anything at or after its place, comes
			// protected (RFC 5246 §7.4.9). A plaintext one is forged
			// and must not take the real one's reassembly slot.
			return nil
		}
		switch s.reasm.add(h, rh.epoch) {
		case addOld:
			// The client repeats a flight we already answered: ours
			// was lost (RFC 6347 §4.2.4). A repeated part of flight 5
			// while we still collect it is not that: the client has
			// flight 4 already.
			if s.state == established || h.seq < s.clientFlight {
				s.resend = true
			}
		case addNew:
			return s.processMessages(now)
		}
	}
	return nil
}

// collectHello reassembles a ClientHello before the cookie exchange. A
// fragment of a different message (another message_seq or length) restarts
// the buffer: only one hello is ever held.
func (s *Server) collectHello(now time.Time, rh recordHeader, h *handshakeHeader) error {
	if h.typ != typeClientHello || rh.epoch != 0 || h.length > maxClientHelloLen {
		return nil
	}
	if s.hello.used() && (h.seq != s.helloSeq || h.length != s.hello.length) {
		s.hello.reset()
	}
	if !s.hello.used() {
		s.hello.start(h, 0)
		s.helloSeq = h.seq
		s.helloRecordSeq = 0
	}
	s.hello.add(h, 0)
	s.helloRecordSeq = max(s.helloRecordSeq, rh.seq)
	if !s.hello.complete() {
		return nil
	}
	body := s.hello.body
	s.hello.reset()
	m, err := parseClientHello(body)
	if err != nil {
		return nil // unverified source: drop, never answer garbage
	}
	if !checkCookie(s.cfg.CookieSecret, s.addr, now, m) {
		s.sendHelloVerifyRequest(now, rh.seq, m)
		return nil
	}
	s.verified = true
	return s.onClientHello(now, m, h.seq, s.helloRecordSeq, body)
}

// sendHelloVerifyRequest answers a ClientHello without a valid cookie
// (RFC 6347 §4.2.1). It keeps no state and is never retransmitted: a
// repeated ClientHello gets a new one. Its record sequence number is the
// ClientHello's, so that later records of ours never repeat one (§4.2.1).
func (s *Server) sendHelloVerifyRequest(now time.Time, recordSeq uint64, m *clientHello) {
	if len(s.tx) >= maxQueuedDatagrams {
		return
	}
	var c [cookieLen]byte
	cookie := makeCookie(c[:0], s.cfg.CookieSecret, s.addr, cookieSlotOf(now), m)
	body := appendHelloVerifyRequest(s.scratch[:0], cookie)
	d := make([]byte, 0, recordHeaderLen+handshakeHeaderLen+len(body))
	d = appendRecordHeader(d, contentHandshake, 0, recordSeq, handshakeHeaderLen+len(body))
	d = appendHandshakeHeader(d, typeHelloVerifyRequest, len(body), 0, 0, len(body))
	d = append(d, body...)
	s.tx = append(s.tx, d)
	s.state = awaitCookieHello
}

// onClientHello negotiates from a ClientHello with a valid cookie and sends
// flight 4: ServerHello, Certificate, ServerKeyExchange, CertificateRequest,
// ServerHelloDone (RFC 5246 §7.4, RFC 6347 §4.2.4).
func (s *Server) onClientHello(now time.Time, m *clientHello, seq uint16, recordSeq uint64, body []byte) error {
	// Version: DTLS 1.2 only. A client offering DTLS 1.3 still lists 1.2
	// and sends client_version 1.2 (RFC 9147 §5.3); we answer plain 1.2.
	if m.version > versionDTLS12 || m.version < 0xfe00 {
		return alertProtocolVersion // DTLS 1.0 (0xfeff) numbers higher; not DTLS below 0xfe00
	}
	if m.hasSupportedVersions && !offersU16(m.supportedVersions, versionDTLS12) {
		return alertProtocolVersion
	}
	if !hasNullCompression(m.compressionMethods) {
		return alertIllegalParameter
	}
	// Secure renegotiation: an initial handshake carries an empty
	// renegotiation_info (RFC 5746 §3.6).
	if m.hasRenegotiation && len(m.renegotiationInfo) != 0 {
		return alertHandshakeFailure
	}
	if !m.extendedMaster {
		return alertHandshakeFailure // RFC 7627 required: no triple handshake
	}
	if m.hasECPointFormats && !hasNullCompression(m.ecPointFormats) {
		return alertIllegalParameter // must offer uncompressed (0), RFC 8422 §5.1.2
	}
	if !offersU16(m.signatureSchemes, sigECDSAP256SHA256) {
		return alertHandshakeFailure // we can only sign with ECDSA P-256 SHA-256
	}
	suite, ok := s.chooseSuite(m.cipherSuites)
	if !ok {
		return alertHandshakeFailure
	}
	group, ok := chooseGroup(m.supportedGroups)
	if !ok {
		return alertHandshakeFailure
	}
	profile, ok := s.chooseProfile(m)
	if !ok {
		return alertHandshakeFailure // DTLS-SRTP is the point (RFC 5764 §4.1.1)
	}
	s.suite, s.group, s.srtpProfile = suite, group, profile
	copy(s.clientRandom[:], m.random)
	if err := s.randomBytes(s.serverRandom[:]); err != nil {
		return alertInternalError
	}
	key, err := curveOf(group).GenerateKey(s.cfg.Rand)
	if err != nil {
		return alertInternalError
	}
	s.ecdhKey = key

	// The handshake hash starts at the ClientHello that carried the cookie
	// (RFC 6347 §4.2.1).
	s.transcript = appendTranscript(s.transcript[:0], typeClientHello, seq, body)
	s.sendSeq = seq // our message_seq follows the client's (RFC 6347 §4.2.2)
	s.reasm.reset(seq + 1)
	s.clientFlight = seq + 1
	s.expect = typeCertificate
	// Our epoch-0 records continue after the records of this hello: the
	// client numbers its records in order, so that is above every number
	// our HelloVerifyRequests echoed (RFC 6347 §4.2.1). The replay
	// window's top is not used: any unauthenticated record can set it.
	s.writeSeq[0] = max(s.writeSeq[0], recordSeq+1)

	secure := m.hasRenegotiation || offersU16(m.cipherSuites, scsvRenegotiation)
	sh := serverHello{random: s.serverRandom[:], cipherSuite: suite.id, srtpProfile: profile,
		ecPointFormat: m.hasECPointFormats, renegotiation: secure}
	s.flight = s.flight[:0]
	s.addMessage(typeServerHello, 0, sh.append(nil))
	s.addMessage(typeCertificate, 0, appendCertificate(nil, s.cfg.Certificate.DER))
	ske, err := s.serverKeyExchange()
	if err != nil {
		return alertInternalError
	}
	s.addMessage(typeServerKeyExchange, 0, ske)
	s.addMessage(typeCertificateRequest, 0, appendCertificateRequest(nil, verifySchemes()))
	s.addMessage(typeServerHelloDone, 0, appendServerHelloDone(nil))
	s.state = awaitFlight5
	s.startFlight(now, true)
	return nil
}

func hasNullCompression(methods []byte) bool {
	for _, c := range methods {
		if c == 0 {
			return true
		}
	}
	return false
}

// chooseSuite picks by our preference among the client's offer.
func (s *Server) chooseSuite(offered []uint16) (cipherSuite, bool) {
	for _, id := range s.cfg.CipherSuites {
		if offersU16(offered, id) {
			return suiteByID(id)
		}
	}
	return cipherSuite{}, false
}

// chooseGroup picks X25519, else P-256, among the client's supported_groups.
// A client without the extension supports any group (RFC 8422 §4).
func chooseGroup(offered []uint16) (uint16, bool) {
	if offered == nil {
		return groupX25519, true
	}
	for _, g := range [...]uint16{groupX25519, groupP256} {
		if offersU16(offered, g) {
			return g, true
		}
	}
	return 0, false
}

func curveOf(group uint16) ecdh.Curve {
	if group == groupP256 {
		return ecdh.P256()
	}
	return ecdh.X25519()
}

// chooseProfile picks an SRTP profile by our preference (RFC 5764 §4.1.3).
func (s *Server) chooseProfile(m *clientHello) (uint16, bool) {
	if !m.hasSRTP {
		return 0, false
	}
	for _, p := range s.cfg.SRTPProfiles {
		if offersU16(m.srtpProfiles, uint16(p)) {
			return uint16(p), true
		}
	}
	return 0, false
}

// serverKeyExchange builds our ECDHE parameters signed with ECDSA P-256
// SHA-256 over client_random || server_random || params (RFC 8422 §5.4).
func (s *Server) serverKeyExchange() ([]byte, error) {
	params := appendECDHParams(nil, s.group, s.ecdhKey.PublicKey().Bytes())
	sig, err := s.sign(s.clientRandom[:], s.serverRandom[:], params)
	if err != nil {
		return nil, err
	}
	return appendServerKeyExchange(nil, params, sigECDSAP256SHA256, sig), nil
}

// onMessage dispatches one message of the client's flight 5 (RFC 5246
// §7.3): Certificate, ClientKeyExchange, CertificateVerify, then Finished.
func (s *Server) onMessage(_ time.Time, typ uint8, epoch, seq uint16, body []byte) error {
	if s.state != awaitFlight5 {
		return nil // after the handshake: no renegotiation, ignore
	}
	if typ != s.expect || (epoch == 1) != (typ == typeFinished) {
		return alertUnexpectedMessage
	}
	if len(s.transcript)+handshakeHeaderLen+len(body) > maxTranscript {
		return alertInternalError
	}
	switch typ {
	case typeCertificate:
		return s.onClientCertificate(seq, body)
	case typeClientKeyExchange:
		return s.onClientKeyExchange(seq, body)
	case typeCertificateVerify:
		return s.onCertificateVerify(seq, body)
	case typeFinished:
		return s.onFinished(seq, body)
	}
	return alertUnexpectedMessage
}

// onClientCertificate checks the client's certificate against the
// fingerprints from its SDP (RFC 8122 §5, RFC 8827 §6.5): this, not a CA
// chain, is what authenticates a WebRTC peer.
func (s *Server) onClientCertificate(seq uint16, body []byte) error {
	if err := s.acceptPeerCertificate(body); err != nil {
		return err
	}
	s.transcript = appendTranscript(s.transcript, typeCertificate, seq, body)
	s.expect = typeClientKeyExchange
	return nil
}

// onClientKeyExchange completes ECDHE and derives the extended master
// secret over the session hash (RFC 7627 §4) and the record keys (RFC 5246
// §6.3). The client's keys wait for its ChangeCipherSpec.
func (s *Server) onClientKeyExchange(seq uint16, body []byte) error {
	pub, err := parseClientKeyExchange(body)
	if err != nil {
		return err
	}
	pms, err := s.sharedSecret(pub)
	if err != nil {
		return err
	}
	s.transcript = appendTranscript(s.transcript, typeClientKeyExchange, seq, body)
	if err := s.installKeys(pms, false); err != nil {
		return err
	}
	s.expect = typeCertificateVerify
	return nil
}

// onCertificateVerify checks the client's signature over every handshake
// message before this one (RFC 5246 §7.4.8).
func (s *Server) onCertificateVerify(seq uint16, body []byte) error {
	m, err := parseCertificateVerify(body)
	if err != nil {
		return err
	}
	if err := verifySignature(s.peerKey, m.scheme, s.transcript, m.signature); err != nil {
		return err
	}
	s.transcript = appendTranscript(s.transcript, typeCertificateVerify, seq, body)
	s.expect = typeFinished
	return nil
}

// onFinished checks the client's verify_data (constant time) and sends
// flight 6: ChangeCipherSpec and our Finished (RFC 5246 §7.4.9). Flight 6
// has no timer: it is repeated only when the client repeats flight 5
// (RFC 6347 §4.2.4).
func (s *Server) onFinished(seq uint16, body []byte) error {
	if err := s.checkFinished(labelClientFinished, body); err != nil {
		return err
	}
	s.transcript = appendTranscript(s.transcript, typeFinished, seq, body)
	s.flight = s.flight[:0]
	s.addFinished(labelServerFinished)
	s.startFlight(time.Time{}, false)
	s.complete()
	return nil
}
