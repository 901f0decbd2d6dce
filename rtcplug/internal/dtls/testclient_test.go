package dtls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

// testClient is a minimal in-process DTLS 1.2 client that drives a Server
// one record at a time, so tests can reorder, repeat, drop or inject
// individual records of a flight.
type testClient struct {
	t      *testing.T
	s      *Server
	now    time.Time
	cert   *Certificate
	random [randomLen]byte
	recSeq [2]uint64
	// handshake state
	transcript   []byte
	serverRandom []byte
	suite        cipherSuite
	group        uint16
	serverPub    []byte
	master       []byte
	write, read  *recordCipher
	cookieHello  []byte
}

// newTestClient returns a client and a server that expects its certificate.
func newTestClient(t *testing.T) *testClient {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	clientCert, err := GenerateCertificate(nil, now)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testServerConfig(t)
	cfg.ExpectedFingerprints = []Fingerprint{mustFingerprint(t, clientCert)}
	c := &testClient{t: t, s: newTestServerFrom(t, cfg, 0), now: now, cert: clientCert}
	for i := range c.random {
		c.random[i] = byte(i)
	}
	return c
}

// helloBody is a ClientHello in the shape pion and browsers send.
func (c *testClient) helloBody(cookie []byte) []byte {
	w := wire.NewBuilder(nil)
	w.U16(versionDTLS12)
	w.Bytes(c.random[:])
	w.U8(0) // session_id
	w.U8(uint8(len(cookie)))
	w.Bytes(cookie)
	w.U16(2)
	w.U16(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	w.U8(1)
	w.U8(0)
	ext := w.Mark()
	w.U16(0)
	w.U16(extSupportedGroups)
	w.U16(4)
	w.U16(2)
	w.U16(groupX25519)
	w.U16(extECPointFormats)
	w.U16(2)
	w.U8(1)
	w.U8(0)
	w.U16(extSignatureAlgorithms)
	w.U16(4)
	w.U16(2)
	w.U16(sigECDSAP256SHA256)
	w.U16(extUseSRTP)
	w.U16(5)
	w.U16(2)
	w.U16(SRTP_AEAD_AES_128_GCM)
	w.U8(0)
	w.U16(extExtendedMasterSecret)
	w.U16(0)
	w.U16(extRenegotiationInfo)
	w.U16(1)
	w.U8(0)
	w.Put16(ext, uint16(w.Len()-ext-2))
	return w.B
}

// plainRecord is an epoch-0 record with the next record sequence number.
func (c *testClient) plainRecord(typ uint8, payload []byte) []byte {
	seq := c.recSeq[0]
	c.recSeq[0]++
	return append(appendRecordHeader(nil, typ, 0, seq, len(payload)), payload...)
}

// sealedRecord is an epoch-1 record with the next record sequence number.
func (c *testClient) sealedRecord(typ uint8, payload []byte) []byte {
	seq := c.recSeq[1]
	c.recSeq[1]++
	return c.write.seal(nil, typ, 1, seq, payload)
}

func handshakeMsg(typ uint8, seq uint16, body []byte) []byte {
	return appendTranscript(nil, typ, seq, body)
}

// feed hands one datagram (records concatenated) to the server.
func (c *testClient) feed(records ...[]byte) error {
	return c.s.handleDatagram(c.now, bytes.Join(records, nil))
}

// hello runs the cookie exchange and returns flight 4's messages.
func (c *testClient) hello() []sentMessage {
	t := c.t
	t.Helper()
	if err := c.feed(c.plainRecord(contentHandshake, handshakeMsg(typeClientHello, 0, c.helloBody(nil)))); err != nil {
		t.Fatal(err)
	}
	out := drain(c.s)
	if len(out) != 1 {
		t.Fatalf("%d datagrams for the first hello", len(out))
	}
	_, f, _, _ := parseRecord(out[0])
	hh, _, _ := parseHandshake(f)
	if hh.typ != typeHelloVerifyRequest {
		t.Fatalf("answer type %d", hh.typ)
	}
	cookie := hh.fragment[3:]
	body := c.helloBody(cookie)
	c.cookieHello = body
	c.transcript = appendTranscript(nil, typeClientHello, 1, body)
	if err := c.feed(c.plainRecord(contentHandshake, handshakeMsg(typeClientHello, 1, body))); err != nil {
		t.Fatal(err)
	}
	msgs := parseFlight(t, drain(c.s), DefaultMTU)
	if len(msgs) != 5 {
		t.Fatalf("flight 4 has %d messages", len(msgs))
	}
	for _, m := range msgs {
		c.transcript = appendTranscript(c.transcript, m.typ, m.seq, m.body)
	}
	sh := msgs[0].body
	c.serverRandom = sh[2 : 2+randomLen]
	id := uint16(sh[2+randomLen+1])<<8 | uint16(sh[2+randomLen+2])
	c.suite, _ = suiteByID(id)
	r := wire.NewReader(msgs[2].body)
	r.U8()
	c.group = r.U16()
	c.serverPub = r.Vec8()
	return msgs
}

// flight5 returns the records of the client's flight 5: Certificate,
// ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished.
func (c *testClient) flight5() (cert, cke, cv, ccs, fin []byte) {
	t := c.t
	t.Helper()
	certBody := appendCertificate(nil, c.cert.DER)
	c.transcript = appendTranscript(c.transcript, typeCertificate, 2, certBody)
	priv, err := curveOf(c.group).GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.PublicKey().Bytes()
	ckeBody := append([]byte{byte(len(pub))}, pub...)
	c.transcript = appendTranscript(c.transcript, typeClientKeyExchange, 3, ckeBody)
	peer, err := curveOf(c.group).NewPublicKey(c.serverPub)
	if err != nil {
		t.Fatal(err)
	}
	pms, err := priv.ECDH(peer)
	if err != nil {
		t.Fatal(err)
	}
	h := c.suite.hash.New()
	h.Write(c.transcript)
	c.master = extendedMasterSecret(c.suite.hash, pms, h.Sum(nil))
	k := deriveKeys(c.suite, c.master, c.random[:], c.serverRandom)
	c.write, _ = newRecordCipher(c.suite, k.clientKey, k.clientIV)
	c.read, _ = newRecordCipher(c.suite, k.serverKey, k.serverIV)
	d := sha256.Sum256(c.transcript)
	sig, err := ecdsa.SignASN1(nil, c.cert.PrivateKey, d[:])
	if err != nil {
		t.Fatal(err)
	}
	cvBody := wire.NewBuilder(nil)
	cvBody.U16(sigECDSAP256SHA256)
	cvBody.U16(uint16(len(sig)))
	cvBody.Bytes(sig)
	c.transcript = appendTranscript(c.transcript, typeCertificateVerify, 4, cvBody.B)
	vd := finishedVerifyData(c.suite.hash, c.master, labelClientFinished, c.transcript)
	c.transcript = appendTranscript(c.transcript, typeFinished, 5, vd)

	cert = c.plainRecord(contentHandshake, handshakeMsg(typeCertificate, 2, certBody))
	cke = c.plainRecord(contentHandshake, handshakeMsg(typeClientKeyExchange, 3, ckeBody))
	cv = c.plainRecord(contentHandshake, handshakeMsg(typeCertificateVerify, 4, cvBody.B))
	ccs = c.plainRecord(contentChangeCipherSpec, []byte{1})
	fin = c.sealedRecord(contentHandshake, handshakeMsg(typeFinished, 5, vd))
	return
}

// events drains the server's events.
func (c *testClient) events() []Event {
	var out []Event
	for ev, ok := c.s.pollEvent(); ok; ev, ok = c.s.pollEvent() {
		out = append(out, ev)
	}
	return out
}

func hasEvent(evs []Event, k EventKind) bool {
	for _, ev := range evs {
		if ev.Kind == k {
			return true
		}
	}
	return false
}

// checkFlight6 asserts that out holds a ChangeCipherSpec and a Finished
// that authenticates and carries the right verify_data.
func (c *testClient) checkFlight6(out [][]byte) {
	t := c.t
	t.Helper()
	var ccs, fin bool
	for _, d := range out {
		for len(d) > 0 {
			h, frag, rest, ok := parseRecord(d)
			if !ok {
				t.Fatal("server record does not parse")
			}
			d = rest
			switch {
			case h.typ == contentChangeCipherSpec && h.epoch == 0:
				ccs = true
			case h.typ == contentHandshake && h.epoch == 1:
				pt, err := c.read.open(nil, h, frag)
				if err != nil {
					t.Fatal("server Finished does not authenticate")
				}
				hh, _, ok := parseHandshake(pt)
				want := finishedVerifyData(c.suite.hash, c.master, labelServerFinished, c.transcript)
				if !ok || hh.typ != typeFinished || !bytes.Equal(hh.fragment, want) {
					t.Fatal("server Finished is wrong")
				}
				fin = true
			}
		}
	}
	if !ccs || !fin {
		t.Fatalf("flight 6: ccs %v finished %v in %d datagrams", ccs, fin, len(out))
	}
}

// TestTestClientHandshake: the in-process client completes a handshake,
// both sides agree on the exporter, and the timer stops.
func TestTestClientHandshake(t *testing.T) {
	c := newTestClient(t)
	c.hello()
	if c.s.Deadline().IsZero() {
		t.Fatal("no retransmission timer for flight 4")
	}
	cert, cke, cv, ccs, fin := c.flight5()
	if err := c.feed(cert, cke, cv, ccs, fin); err != nil {
		t.Fatal(err)
	}
	c.checkFlight6(drain(c.s))
	if !hasEvent(c.events(), HandshakeComplete) {
		t.Fatal("no HandshakeComplete")
	}
	if !c.s.Deadline().IsZero() {
		t.Fatal("timer still armed after the handshake")
	}
	km, err := c.s.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 56)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 56)
	prf(c.suite.hash, want, c.master, "EXTRACTOR-dtls_srtp", c.random[:], c.serverRandom)
	if !bytes.Equal(km, want) {
		t.Fatal("exporter differs")
	}
}

// TestPlaintextFinishedIgnored: a Finished in an epoch-0 record is forged
// (the real one is always protected, RFC 5246 §7.4.9), as is any epoch-0
// message after CertificateVerify's place. Neither may take the place of
// the real Finished or end the handshake.
func TestPlaintextFinishedIgnored(t *testing.T) {
	for _, typ := range []uint8{typeFinished, typeCertificateVerify} {
		c := newTestClient(t)
		c.hello()
		cert, cke, cv, ccs, fin := c.flight5()
		if err := c.feed(cert, cke, cv, ccs); err != nil {
			t.Fatal(err)
		}
		forged := c.plainRecord(contentHandshake, handshakeMsg(typ, 5, make([]byte, verifyDataLen)))
		if err := c.feed(forged); err != nil {
			t.Fatalf("type %d: forged plaintext message at Finished's place: %v", typ, err)
		}
		if err := c.feed(fin); err != nil {
			t.Fatal(err)
		}
		c.checkFlight6(drain(c.s))
		if !hasEvent(c.events(), HandshakeComplete) {
			t.Fatal("no HandshakeComplete")
		}
	}
}

// TestInvalidRecordMidDatagram: a record that can be framed but is invalid
// (unknown version, oversized length field within the datagram) is
// discarded alone; the records after it in the same datagram are still
// processed (RFC 6347 §4.1.2.7).
func TestInvalidRecordMidDatagram(t *testing.T) {
	c := newTestClient(t)
	c.hello()
	cert, cke, cv, ccs, fin := c.flight5()
	bad := appendRecordHeader(nil, contentHandshake, 0, 99, 3)
	bad[1], bad[2] = 0x03, 0x03 // TLS 1.2 record version
	bad = append(bad, 1, 2, 3)
	if err := c.feed(cert, bad, cke, cv, ccs, fin); err != nil {
		t.Fatal(err)
	}
	c.checkFlight6(drain(c.s))
	if !hasEvent(c.events(), HandshakeComplete) {
		t.Fatal("records after an invalid one were dropped")
	}
}

// TestResendOnlyForPreviousFlight: our flight is resent when the client
// repeats the flight we answered (RFC 6347 §4.2.4): a repeated cookie hello
// gets flight 4 again, but a repeated part of flight 5 while we still wait
// for the rest of it does not (the client has flight 4 already). After the
// handshake any repeat of flight 5, even its Finished alone, gets flight 6
// once.
func TestResendOnlyForPreviousFlight(t *testing.T) {
	c := newTestClient(t)
	c.hello()
	cert, cke, cv, ccs, fin := c.flight5()
	if err := c.feed(cert, cke); err != nil {
		t.Fatal(err)
	}
	if out := drain(c.s); len(out) != 0 {
		t.Fatalf("%d datagrams for the first half of flight 5", len(out))
	}
	// The client's timer fires: it repeats Certificate and ClientKeyExchange.
	c.now = c.now.Add(time.Second)
	if err := c.feed(c.renumbered(cert), c.renumbered(cke)); err != nil {
		t.Fatal(err)
	}
	if out := drain(c.s); len(out) != 0 {
		t.Fatalf("flight 4 resent for a repeated part of flight 5 (%d datagrams)", len(out))
	}
	// A repeated cookie hello (message_seq 1) means flight 4 was lost.
	c.now = c.now.Add(time.Second)
	hello := c.plainRecord(contentHandshake, handshakeMsg(typeClientHello, 1, c.cookieHello))
	if err := c.feed(hello); err != nil {
		t.Fatal(err)
	}
	if msgs := parseFlight(t, drain(c.s), DefaultMTU); len(msgs) != 5 {
		t.Fatalf("repeated cookie hello answered with %d messages", len(msgs))
	}
	c.now = c.now.Add(time.Second)
	if err := c.feed(cv, ccs, fin); err != nil {
		t.Fatal(err)
	}
	c.checkFlight6(drain(c.s))
	if !hasEvent(c.events(), HandshakeComplete) {
		t.Fatal("no HandshakeComplete")
	}
	// Only the Finished repeated (new record number, so not a replay).
	c.now = c.now.Add(time.Second)
	_, frag, _, _ := parseRecord(fin)
	pt, err := c.s.readCipher.open(nil, recordHeader{typ: contentHandshake, version: versionDTLS12, epoch: 1, seq: 0}, frag)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.feed(c.sealedRecord(contentHandshake, pt)); err != nil {
		t.Fatal(err)
	}
	out := drain(c.s)
	c.checkFlight6(out)
	// The whole flight 5 repeated in one datagram: flight 6 once.
	c.now = c.now.Add(time.Second)
	if err := c.feed(c.renumbered(cert), c.renumbered(cke), c.renumbered(cv), c.renumbered(ccs), c.sealedRecord(contentHandshake, pt)); err != nil {
		t.Fatal(err)
	}
	if out := drain(c.s); len(out) != 1 {
		t.Fatalf("repeated flight 5 answered with %d datagrams", len(out))
	}
}

// renumbered is an epoch-0 record sent again with the next record number,
// as a retransmission is.
func (c *testClient) renumbered(rec []byte) []byte {
	h, frag, _, ok := parseRecord(rec)
	if !ok || h.epoch != 0 {
		c.t.Fatal("renumbered: not an epoch-0 record")
	}
	return c.plainRecord(h.typ, frag)
}

// TestAlertFloodKeepsStateEvents: warning alerts are capped like
// application data, so a datagram full of them cannot push out the Closed
// event of the close_notify that follows.
func TestAlertFloodKeepsStateEvents(t *testing.T) {
	c := newTestClient(t)
	c.hello()
	cert, cke, cv, ccs, fin := c.flight5()
	if err := c.feed(cert, cke, cv, ccs, fin); err != nil {
		t.Fatal(err)
	}
	drain(c.s)
	var recs [][]byte
	for range maxEvents + 4 {
		recs = append(recs, c.sealedRecord(contentAlert, []byte{alertLevelWarning, byte(alertUserCanceled)}))
	}
	recs = append(recs, c.sealedRecord(contentAlert, []byte{alertLevelWarning, byte(alertCloseNotify)}))
	if err := c.feed(recs...); err != nil {
		t.Fatal(err)
	}
	if !hasEvent(c.events(), Closed) {
		t.Fatal("Closed event lost behind warning alerts")
	}
}

// TestFlightNotSentTwice: a datagram that completes flight 5 and also
// repeats part of it gets flight 6 once.
func TestFlightNotSentTwice(t *testing.T) {
	c := newTestClient(t)
	c.hello()
	cert, cke, cv, ccs, fin := c.flight5()
	if err := c.feed(cert, cke, cv, ccs, fin, c.renumbered(cert)); err != nil {
		t.Fatal(err)
	}
	out := drain(c.s)
	c.checkFlight6(out)
	if len(out) != 1 {
		t.Fatalf("flight 6 sent in %d datagrams", len(out))
	}
}

// TestWriteApplicationDataPlaintextLimit: with a large MTU a write still
// may not exceed 2^14 bytes of record plaintext (RFC 5246 §6.2.1).
func TestWriteApplicationDataPlaintextLimit(t *testing.T) {
	s := newTestServer(t, maxMTU)
	s.state, s.verified, s.readEpoch, s.writeEpoch = established, true, 1, 1
	s.writeCipher = testCipher(t, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	if err := s.WriteApplicationData(make([]byte, maxPlaintext)); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteApplicationData(make([]byte, maxPlaintext+1)); err != errTooLarge {
		t.Fatalf("oversized record: %v", err)
	}
}

// TestSpoofedEpoch0SequenceNumber: one unauthenticated epoch-0 record with
// the largest sequence number neither shuts out the client's real records
// nor exhausts our own epoch-0 numbers; exact duplicates are still dropped.
func TestSpoofedEpoch0SequenceNumber(t *testing.T) {
	c := newTestClient(t)
	spoof := appendRecordHeader(nil, contentApplicationData, 0, maxSeq, 1)
	if err := c.feed(append(spoof, 0)); err != nil {
		t.Fatal(err)
	}
	c.hello()
	cert, cke, cv, ccs, fin := c.flight5()
	if err := c.feed(cert, cke); err != nil {
		t.Fatal(err)
	}
	if err := c.feed(cert, cke, cv, ccs, fin); err != nil {
		t.Fatal(err)
	}
	c.checkFlight6(drain(c.s))
	if !hasEvent(c.events(), HandshakeComplete) {
		t.Fatal("no HandshakeComplete")
	}
	if c.s.writeSeq[0] > 16 {
		t.Fatalf("our epoch-0 sequence number jumped to %d", c.s.writeSeq[0])
	}
	var w replayWindow
	w.accept(100)
	w.accept(10) // older than the window: let through, not recorded
	if !w.duplicate(100) || w.duplicate(99) || w.duplicate(10) || w.duplicate(101) {
		t.Fatal("epoch-0 duplicate filter")
	}
}
