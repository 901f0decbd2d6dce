package dtls

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

func TestReplayWindow(t *testing.T) {
	var w replayWindow
	seqs := []uint64{5, 3, 7, 60, 6, 10, 59}
	for _, s := range seqs {
		if !w.check(s) {
			t.Fatalf("fresh %d refused", s)
		}
		w.accept(s)
	}
	for _, s := range seqs {
		if w.check(s) {
			t.Errorf("replayed %d accepted", s)
		}
	}
	w.accept(70)
	if w.check(6) || w.check(7) || w.check(70) {
		t.Error("seq out of window or replayed accepted")
	}
	if !w.check(8) || !w.check(71) || !w.check(69) {
		t.Error("in-window fresh seq refused")
	}
	w.accept(1000)
	if w.check(1000-64) || !w.check(1000-63) {
		t.Error("window after a jump")
	}
	if !w.check(maxSeq) {
		t.Error("max seq refused")
	}
}

func testCipher(t *testing.T, id uint16) *recordCipher {
	t.Helper()
	s, _ := suiteByID(id)
	c, err := newRecordCipher(s, bytes.Repeat([]byte{7}, s.keyLen), bytes.Repeat([]byte{9}, s.ivLen))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRecordCipher(t *testing.T) {
	for _, id := range DefaultCipherSuites() {
		seal, open := testCipher(t, id), testCipher(t, id)
		msg := []byte("application data")
		rec := seal.seal(nil, contentApplicationData, 1, 0x0000_1234_5678, msg)
		h, frag, rest, ok := parseRecord(rec)
		if !ok || len(rest) != 0 || h.epoch != 1 || h.seq != 0x12345678 || int(h.length) != len(msg)+seal.overhead() {
			t.Fatalf("%04x: header %+v", id, h)
		}
		if seal.explicit {
			// RFC 5288 §3 with RFC 6347 §4.1.2.1: explicit nonce = epoch||seq.
			if got := binary.BigEndian.Uint64(frag[:8]); got != 1<<48|0x12345678 {
				t.Errorf("explicit nonce %x", got)
			}
		}
		pt, err := open.open(nil, h, frag)
		if err != nil || !bytes.Equal(pt, msg) {
			t.Fatalf("%04x: open %q %v", id, pt, err)
		}
		// Any change to header (AAD) or body fails.
		for _, i := range []int{0, 4, 10, 12, 20, len(rec) - 1} {
			bad := append([]byte(nil), rec...)
			bad[i] ^= 1
			if h, frag, _, ok := parseRecord(bad); ok {
				if _, err := open.open(nil, h, frag); err == nil {
					t.Errorf("%04x: byte %d flipped still opens", id, i)
				}
			}
		}
		if _, err := open.open(nil, h, frag[:5]); err == nil {
			t.Error("short record opened")
		}
	}
}

// TestChaChaNonce checks RFC 7905 §2: the 12-byte IV xor the padded
// 64-bit epoch||seq.
func TestChaChaNonce(t *testing.T) {
	c := testCipher(t, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)
	c.setNonce(1, 2)
	want := bytes.Repeat([]byte{9}, 12)
	want[4] ^= 0x00
	want[5] ^= 0x01
	want[11] ^= 0x02
	if !bytes.Equal(c.nonce[:], want) {
		t.Errorf("nonce %x want %x", c.nonce, want)
	}
}

func TestSeqOverflow(t *testing.T) {
	s := newTestServer(t, 0)
	s.writeSeq[0] = maxSeq
	if _, err := s.appendRecord(nil, contentAlert, 0, []byte{1, 0}); err != nil {
		t.Fatalf("last seq refused: %v", err)
	}
	if _, err := s.appendRecord(nil, contentAlert, 0, []byte{1, 0}); err != errSeqOverflow {
		t.Fatalf("seq wrapped: %v", err)
	}
}

func TestParseRecordBounds(t *testing.T) {
	rec := appendRecordHeader(nil, contentHandshake, 0, 1, 4)
	rec = append(rec, 1, 2, 3, 4)
	two := append(append([]byte(nil), rec...), rec...)
	h, _, rest, ok := parseRecord(two)
	if !ok || h.length != 4 || len(rest) != len(rec) {
		t.Fatal("two records")
	}
	if _, _, _, ok := parseRecord(rec[:len(rec)-1]); ok {
		t.Error("truncated record parsed")
	}
	bad := append([]byte(nil), rec...)
	bad[1], bad[2] = 3, 3 // TLS 1.2, not DTLS
	if _, _, _, ok := parseRecord(bad); ok {
		t.Error("TLS version accepted")
	}
}

func frag(typ uint8, seq uint16, body []byte, off, n int) handshakeHeader {
	return handshakeHeader{typ: typ, length: uint32(len(body)), seq: seq, fragOff: uint32(off),
		fragLen: uint32(n), fragment: body[off : off+n]}
}

func TestReassembler(t *testing.T) {
	body := make([]byte, 1000)
	for i := range body {
		body[i] = byte(i * 7)
	}
	var r reassembler
	r.reset(2)
	// Out of order, overlapping, duplicated; the next message first.
	next := []byte("finished....")
	h := frag(typeFinished, 3, next, 0, len(next))
	r.add(&h, 1)
	for i, f := range [][2]int{{500, 500}, {100, 450}, {0, 200}, {100, 450}, {990, 10}} {
		h := frag(typeCertificate, 2, body, f[0], f[1])
		if r.add(&h, 0) != addNew {
			t.Fatal("fragment refused")
		}
		if _, ok := r.peek(); ok != (i >= 2) {
			t.Fatal("complete too early")
		}
	}
	p, ok := r.peek()
	if !ok || !bytes.Equal(p.body, body) || p.typ != typeCertificate {
		t.Fatal("message not reassembled")
	}
	r.pop()
	p, ok = r.peek()
	if !ok || string(p.body) != string(next) || p.epoch != 1 {
		t.Fatal("second message")
	}
	r.pop()
	old := frag(typeCertificate, 2, body, 0, 10)
	if r.add(&old, 0) != addOld {
		t.Error("old message not flagged")
	}
	// A fragment disagreeing on the length is ignored.
	r.reset(0)
	a := frag(typeCertificate, 0, body, 0, 10)
	r.add(&a, 0)
	short := frag(typeCertificate, 0, body[:500], 10, 490)
	r.add(&short, 0)
	if p := &r.slots[0]; p.filled != 10 {
		t.Errorf("mismatched fragment counted: %d", p.filled)
	}
	// Caps: too far ahead, too large, too much in total.
	far := frag(typeCertificate, maxPendingMessages, body, 0, 10)
	if r.add(&far, 0) != addDropped {
		t.Error("far-ahead message kept")
	}
	huge := handshakeHeader{typ: typeCertificate, length: maxMessageLen + 1, seq: 1}
	if r.add(&huge, 0) != addDropped {
		t.Error("oversized message kept")
	}
	r.reset(0)
	for i := range maxPendingMessages {
		h := handshakeHeader{typ: typeCertificate, length: maxMessageLen, seq: uint16(i)}
		r.add(&h, 0)
	}
	if r.buffered > maxBufferedBytes {
		t.Errorf("buffered %d > cap", r.buffered)
	}
}

// TestFlightPacking: every datagram fits the MTU and the messages come
// back whole, at several MTUs.
func TestFlightPacking(t *testing.T) {
	frames := captureFrames(t)
	for _, mtu := range []int{minMTU, 300, 576, 1200, 1500} {
		s := newTestServer(t, mtu)
		now := time.Unix(1_700_000_000, 0)
		s.handleDatagram(now, frames[3])
		s.handleDatagram(now, frames[4])
		hvr := drain(s)
		_, f, _, _ := parseRecord(hvr[0])
		hh, _, _ := parseHandshake(f)
		body := withCookie(t, chromiumHello(t, frames), hh.fragment[3:])
		for _, d := range fragmentHello(body, 1, 2) {
			if err := s.handleDatagram(now, d); err != nil {
				t.Fatal(err)
			}
		}
		out := drain(s)
		msgs := parseFlight(t, out, mtu)
		if len(msgs) != 5 {
			t.Fatalf("mtu %d: %d messages", mtu, len(msgs))
		}
		t.Logf("mtu %d: %d datagrams %v", mtu, len(out), sizes(out))
	}
}

func TestFingerprint(t *testing.T) {
	c, err := GenerateCertificate(nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	fp := c.Fingerprint()
	if len(fp) != 95 || fp != string(bytes.ToUpper([]byte(fp))) {
		t.Fatalf("fingerprint %q", fp)
	}
	f, err := ParseFingerprint("SHA-256", fp)
	if err != nil || !f.matches(c.DER) {
		t.Fatalf("parse: %v", err)
	}
	if f.String() != "sha-256 "+fp {
		t.Errorf("String %q", f.String())
	}
	if _, err := ParseFingerprint("sha-256", fp[:len(fp)-3]); err == nil {
		t.Error("short fingerprint parsed")
	}
	if _, err := ParseFingerprint("sha-1", "AB"); err == nil {
		t.Error("sha-1 accepted")
	}
	if _, err := ParseFingerprint("sha-256", fp[:2]+"-"+fp[3:]); err == nil {
		t.Error("bad separator parsed")
	}
}

func TestConfigValidation(t *testing.T) {
	c, _ := GenerateCertificate(nil, time.Now())
	fp := mustFingerprint(t, c)
	addr := netip.MustParseAddrPort("[::1]:1")
	for name, cfg := range map[string]Config{
		"no cert":         {ExpectedFingerprints: []Fingerprint{fp}},
		"no fingerprints": {Certificate: c},
		"tiny mtu":        {Certificate: c, ExpectedFingerprints: []Fingerprint{fp}, MTU: 100},
		"bad suite":       {Certificate: c, ExpectedFingerprints: []Fingerprint{fp}, CipherSuites: []uint16{0x002f}},
		"short secret":    {Certificate: c, ExpectedFingerprints: []Fingerprint{fp}, CookieSecret: []byte("x")},
	} {
		if _, err := NewServer(cfg, addr); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestHandshakeTimeout: with no answer, flight 4 is resent at 1, 2, 4, 8,
// 16 s intervals, and the next expiry fails the handshake.
func TestHandshakeTimeout(t *testing.T) {
	frames := captureFrames(t)
	s := newTestServer(t, 0)
	now := time.Unix(1_700_000_000, 0)
	s.handleDatagram(now, frames[3])
	s.handleDatagram(now, frames[4])
	_, f, _, _ := parseRecord(drain(s)[0])
	hh, _, _ := parseHandshake(f)
	for _, d := range fragmentHello(withCookie(t, chromiumHello(t, frames), hh.fragment[3:]), 1, 2) {
		s.handleDatagram(now, d)
	}
	drain(s)
	var gaps []time.Duration
	at := now
	for i := 0; i < 20 && !s.Deadline().IsZero(); i++ {
		d := s.Deadline()
		gaps = append(gaps, d.Sub(at))
		at = d
		s.HandleTimeout(d.Add(-time.Millisecond)) // early: nothing
		if len(drain(s)) != 0 {
			t.Fatal("resent before the deadline")
		}
		s.HandleTimeout(d)
		drain(s)
	}
	checkBackoff(t, gaps)
	ev, ok := s.pollEvent()
	if !ok || ev.Kind != Failed || ev.Err != errHandshakeTimeout {
		t.Fatalf("event %+v", ev)
	}
	if err := s.handleDatagram(now, frames[3]); err == nil {
		t.Error("dead server accepted a datagram")
	}
}

func TestClientHelloParse(t *testing.T) {
	frames := captureFrames(t)
	m, err := parseClientHello(chromiumHello(t, frames))
	if err != nil {
		t.Fatal(err)
	}
	if m.version != versionDTLS12 || !m.extendedMaster || !m.hasSRTP || !offersU16(m.supportedVersions, versionDTLS13) ||
		!offersU16(m.cipherSuites, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) || len(m.cookie) != 0 {
		t.Fatalf("%+v", m)
	}
	// A repeated extension is refused.
	body := []byte{0xfe, 0xfd}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0, 0, 0, 2, 0xc0, 0x2b, 1, 0)
	body = append(body, 0, 8, 0, 23, 0, 0, 0, 23, 0, 0)
	if _, err := parseClientHello(body); err == nil {
		t.Error("duplicate extension accepted")
	}
	body[len(body)-9] = 4 // shorter extensions block: trailing bytes
	if _, err := parseClientHello(body); err == nil {
		t.Error("bad extension length accepted")
	}
}

// TestClose: Close queues close_notify and the server is then closed.
func TestClose(t *testing.T) {
	s := newTestServer(t, 0)
	s.state = established
	s.writeEpoch = 1
	s.writeCipher = testCipher(t, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	s.Close()
	d := s.pollTransmit()
	h, _, _, ok := parseRecord(d)
	if !ok || h.typ != contentAlert || h.epoch != 1 {
		t.Fatalf("close_notify record %x", d)
	}
	if err := s.handleDatagram(time.Now(), d); err != ErrClosed {
		t.Errorf("after Close: %v", err)
	}
	if err := s.WriteApplicationData([]byte("x")); err != ErrClosed {
		t.Errorf("write after Close: %v", err)
	}
}

// TestEstablishedRecords: after the handshake, epoch-1 records that fail
// authentication or replay are dropped silently; good ones are delivered;
// epoch-0 application data and unauthenticated epoch-0 alerts are ignored.
func TestEstablishedRecords(t *testing.T) {
	s := newTestServer(t, 0)
	s.state, s.verified, s.readEpoch, s.writeEpoch = established, true, 1, 1
	s.readCipher = testCipher(t, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	s.writeCipher = testCipher(t, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	peer := testCipher(t, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	now := time.Now()
	good := peer.seal(nil, contentApplicationData, 1, 9, []byte("hello"))
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	plain0 := append(appendRecordHeader(nil, contentApplicationData, 0, 3, 2), 'h', 'i')
	alert0 := append(appendRecordHeader(nil, contentAlert, 0, 4, 2), alertLevelFatal, byte(alertInternalError))
	for _, d := range [][]byte{bad, plain0, alert0} {
		if err := s.handleDatagram(now, d); err != nil {
			t.Fatal(err)
		}
		if ev, ok := s.pollEvent(); ok {
			t.Fatalf("event from a bad record: %+v", ev)
		}
	}
	// Two records in one datagram: the good one and its replay.
	if err := s.handleDatagram(now, append(append([]byte(nil), good...), good...)); err != nil {
		t.Fatal(err)
	}
	ev, ok := s.pollEvent()
	if !ok || ev.Kind != ApplicationData || string(ev.Data) != "hello" {
		t.Fatalf("event %+v", ev)
	}
	if ev, ok := s.pollEvent(); ok {
		t.Fatalf("replay delivered: %+v", ev)
	}
	// An authenticated fatal alert ends it.
	fatal := peer.seal(nil, contentAlert, 1, 10, []byte{alertLevelFatal, byte(alertInternalError)})
	s.handleDatagram(now, fatal)
	if ev, _ := s.pollEvent(); ev.Kind != AlertReceived || ev.Alert != uint8(alertInternalError) {
		t.Fatalf("event %+v", ev)
	}
	if ev, _ := s.pollEvent(); ev.Kind != Failed {
		t.Fatalf("event %+v", ev)
	}
	if err := s.handleDatagram(now, good); err == nil {
		t.Fatal("dead connection accepted data")
	}
}

// TestVerifySignatureRSAPSS covers rsa_pss_rsae_* (pion's DTLS 1.2 client
// never uses it, so interop does not reach it) and scheme/key mismatches.
func TestVerifySignatureRSAPSS(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("handshake messages")
	d := sha256.Sum256(msg)
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		t.Fatal(err)
	}
	if err := verifySignature(&key.PublicKey, sigRSAPSSSHA256, msg, sig); err != nil {
		t.Fatalf("PSS: %v", err)
	}
	if err := verifySignature(&key.PublicKey, sigRSAPKCS1SHA256, msg, sig); err == nil {
		t.Error("PSS signature accepted as PKCS#1 v1.5")
	}
	if err := verifySignature(&key.PublicKey, sigECDSAP256SHA256, msg, sig); err == nil {
		t.Error("ECDSA scheme accepted for an RSA key")
	}
	if err := verifySignature(&key.PublicKey, 0x0201, msg, sig); err == nil {
		t.Error("SHA-1 scheme accepted")
	}
}
