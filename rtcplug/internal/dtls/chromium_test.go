package dtls

import (
	"bufio"
	"encoding/hex"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

const chromiumCapture = "../../../testdata/chromium156-pion-handshake.txt"

// captureFrames reads the capture: frame number -> datagram.
func captureFrames(t testing.TB) map[int][]byte {
	t.Helper()
	f, err := os.Open(chromiumCapture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames := map[int][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 4 {
			t.Fatalf("bad capture line %q", line)
		}
		n, _ := strconv.Atoi(fields[0])
		b, err := hex.DecodeString(fields[3])
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := strconv.Atoi(fields[2]); l != len(b) {
			t.Fatalf("frame %d: length %d, have %d", n, l, len(b))
		}
		frames[n] = b
	}
	return frames
}

var chromiumAddr = netip.MustParseAddrPort("127.0.0.1:50001")

func newTestServer(t testing.TB, mtu int) *Server {
	t.Helper()
	return newTestServerFrom(t, testServerConfig(t), mtu)
}

// testServerConfig is a Config with fresh certificates and a fixed cookie
// secret.
func testServerConfig(t testing.TB) Config {
	t.Helper()
	cert, err := GenerateCertificate(nil, time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	peer, err := GenerateCertificate(nil, time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Certificate:          cert,
		CookieSecret:         []byte("0123456789abcdef0123456789abcdef"),
		ExpectedFingerprints: []Fingerprint{mustFingerprint(t, peer)},
	}
}

func newTestServerFrom(t testing.TB, cfg Config, mtu int) *Server {
	t.Helper()
	cfg.MTU = mtu
	s, err := NewServer(cfg, chromiumAddr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func drain(s *Server) [][]byte {
	var out [][]byte
	for d := s.pollTransmit(); d != nil; d = s.pollTransmit() {
		out = append(out, append([]byte(nil), d...))
	}
	return out
}

// sentMessage is a handshake message reassembled from our output.
type sentMessage struct {
	typ  uint8
	seq  uint16
	body []byte
}

// parseFlight reassembles the plaintext handshake messages in datagrams we
// sent, checking each datagram's size.
func parseFlight(t *testing.T, dgrams [][]byte, mtu int) []sentMessage {
	t.Helper()
	var r reassembler
	var out []sentMessage
	for _, d := range dgrams {
		if len(d) > mtu {
			t.Errorf("datagram of %d bytes > MTU %d", len(d), mtu)
		}
		for len(d) > 0 {
			h, frag, rest, ok := parseRecord(d)
			if !ok {
				t.Fatalf("our record does not parse: %x", d)
			}
			d = rest
			if h.typ != contentHandshake || h.epoch != 0 {
				continue
			}
			for len(frag) > 0 {
				hh, more, ok := parseHandshake(frag)
				if !ok {
					t.Fatal("our handshake fragment does not parse")
				}
				frag = more
				if len(out) == 0 && r.next == 0 && hh.seq > 0 {
					r.reset(hh.seq)
				}
				r.add(&hh, 0)
				for {
					p, ok := r.peek()
					if !ok {
						break
					}
					out = append(out, sentMessage{p.typ, r.next, p.body})
					r.pop()
				}
			}
		}
	}
	return out
}

// chromiumHello reassembles the first ClientHello from frames 3 and 4.
func chromiumHello(t *testing.T, frames map[int][]byte) []byte { return chromiumHelloF(t, frames) }

func chromiumHelloF(t testing.TB, frames map[int][]byte) []byte {
	t.Helper()
	var p partial
	for _, n := range []int{3, 4} {
		_, frag, _, ok := parseRecord(frames[n])
		if !ok {
			t.Fatal("capture record")
		}
		h, _, ok := parseHandshake(frag)
		if !ok {
			t.Fatal("capture handshake")
		}
		if !p.used() {
			p.start(&h, 0)
		}
		p.add(&h, 0)
	}
	if !p.complete() {
		t.Fatal("frames 3-4 do not make a hello")
	}
	return p.body
}

// withCookie returns the hello body with cookie inserted after session_id.
func withCookie(t *testing.T, body, cookie []byte) []byte {
	t.Helper()
	if r := wire.NewReader(body[2+randomLen+1+int(body[2+randomLen]):]); r.U8() != 0 {
		t.Fatal("first hello already has a cookie")
	}
	return insertCookie(body, cookie)
}

// insertCookie puts cookie into a hello whose cookie is empty.
func insertCookie(body, cookie []byte) []byte {
	r := wire.NewReader(body)
	r.Skip(2 + randomLen)
	r.Vec8() // session_id
	at := len(body) - r.Len()
	out := append([]byte(nil), body[:at]...)
	out = append(out, byte(len(cookie)))
	out = append(out, cookie...)
	return append(out, body[at+1:]...)
}

// fragmentHello splits a hello the way Chromium does: the first record
// fills a 1200-byte datagram, the second holds the rest; record version
// 0xfeff, epoch 0.
func fragmentHello(body []byte, msgSeq uint16, recSeq uint64) [][]byte {
	first := 1200 - recordHeaderLen - handshakeHeaderLen
	var out [][]byte
	for off := 0; off < len(body); off += first {
		n := min(first, len(body)-off)
		frag := appendHandshakeHeader(nil, typeClientHello, len(body), msgSeq, off, n)
		frag = append(frag, body[off:off+n]...)
		d := appendRecordHeader(nil, contentHandshake, 0, recSeq, len(frag))
		d[1], d[2] = 0xfe, 0xff
		out = append(out, append(d, frag...))
		recSeq++
	}
	return out
}

// TestChromiumHelloVerify: the captured two-fragment hello, in either order
// and duplicated, gets exactly one HelloVerifyRequest, with DTLS 1.0 as
// server_version, message_seq 0 and the hello's record sequence number.
func TestChromiumHelloVerify(t *testing.T) {
	frames := captureFrames(t)
	now := time.Unix(1_700_000_000, 0)
	for _, order := range [][]int{{3, 4}, {4, 3}, {3, 4, 3, 4}, {4, 3, 4, 3}, {3, 3, 4, 4}, {4, 4, 3}} {
		s := newTestServer(t, 0)
		var out [][]byte
		for _, n := range order {
			if err := s.handleDatagram(now, frames[n]); err != nil {
				t.Fatal(err)
			}
			out = append(out, drain(s)...)
		}
		if len(out) != 1 {
			t.Fatalf("order %v: %d datagrams, want one HelloVerifyRequest", order, len(out))
		}
		h, frag, rest, ok := parseRecord(out[0])
		if !ok || len(rest) != 0 || h.typ != contentHandshake || h.epoch != 0 {
			t.Fatalf("order %v: bad HVR record %x", order, out[0])
		}
		hh, _, ok := parseHandshake(frag)
		if !ok || hh.typ != typeHelloVerifyRequest || hh.seq != 0 || hh.fragLen != hh.length {
			t.Fatalf("order %v: not an HVR: %x", order, frag)
		}
		// Frame 3 has record seq 0 and frame 4 seq 1: the hello completes
		// on whichever came last.
		last := map[int]uint64{3: 0, 4: 1}[order[1]]
		if order[0] == order[1] {
			last = map[int]uint64{3: 0, 4: 1}[order[2]]
		}
		if h.seq != last {
			t.Errorf("order %v: HVR record seq %d, want %d", order, h.seq, last)
		}
		if v := uint16(hh.fragment[0])<<8 | uint16(hh.fragment[1]); v != versionDTLS10 {
			t.Errorf("HVR server_version %04x", v)
		}
		if len(hh.fragment) != 3+cookieLen {
			t.Errorf("HVR body %d bytes", len(hh.fragment))
		}
		if s.hello.used() || s.Deadline() != (time.Time{}) {
			t.Error("state kept after HelloVerifyRequest")
		}
	}
}

// TestChromiumCookieRetry rebuilds Chromium's retry (frames 10-11) with
// our cookie and checks flight 4 against what Chromium offered.
func TestChromiumCookieRetry(t *testing.T) {
	frames := captureFrames(t)
	now := time.Unix(1_700_000_000, 0)
	s := newTestServer(t, 0)
	for _, n := range []int{3, 4} {
		if err := s.handleDatagram(now, frames[n]); err != nil {
			t.Fatal(err)
		}
	}
	hvr := drain(s)
	_, frag, _, _ := parseRecord(hvr[0])
	hh, _, _ := parseHandshake(frag)
	cookie := hh.fragment[3:]

	// Chromium retransmits its first hello (frames 8-9): another HVR, no state.
	for _, n := range []int{8, 9} {
		if err := s.handleDatagram(now, frames[n]); err != nil {
			t.Fatal(err)
		}
	}
	if out := drain(s); len(out) != 1 {
		t.Fatalf("retransmitted hello: %d datagrams", len(out))
	}

	first := chromiumHello(t, frames)
	body := withCookie(t, first, cookie)
	retry := fragmentHello(body, 1, 4)
	if len(retry) != 2 || len(retry[0]) != 1200 {
		t.Fatalf("retry fragments: %d, first %d bytes", len(retry), len(retry[0]))
	}
	// Sanity: our rebuilt retry has the shape of the captured one (frame
	// 10): record type and version, epoch and sequence, message type and
	// message_seq, and the hello up to the cookie.
	f10, r0 := frames[10], retry[0]
	hdr := recordHeaderLen + handshakeHeaderLen
	if string(f10[:11]) != string(r0[:11]) || f10[13] != r0[13] || string(f10[17:19]) != string(r0[17:19]) ||
		string(f10[hdr:hdr+2+randomLen+1]) != string(r0[hdr:hdr+2+randomLen+1]) {
		t.Fatalf("rebuilt retry differs from frame 10:\n%x\n%x", f10[:64], r0[:64])
	}
	later := now.Add(300 * time.Millisecond)
	// Fed in reverse order, as reordering could deliver it.
	for _, i := range []int{1, 0} {
		if err := s.handleDatagram(later, retry[i]); err != nil {
			t.Fatal(err)
		}
	}
	out := drain(s)
	if len(out) == 0 {
		t.Fatal("no flight 4")
	}
	msgs := parseFlight(t, out, DefaultMTU)
	wantTypes := []uint8{typeServerHello, typeCertificate, typeServerKeyExchange, typeCertificateRequest, typeServerHelloDone}
	if len(msgs) != len(wantTypes) {
		t.Fatalf("flight 4 has %d messages", len(msgs))
	}
	for i, m := range msgs {
		if m.typ != wantTypes[i] || m.seq != uint16(1+i) {
			t.Fatalf("message %d: type %d seq %d", i, m.typ, m.seq)
		}
	}
	t.Logf("flight 4: %d datagrams, sizes %v", len(out), sizes(out))

	ch, err := parseClientHello(body)
	if err != nil {
		t.Fatal(err)
	}
	sh := parseServerHelloForTest(t, msgs[0].body)
	if sh.version != versionDTLS12 {
		t.Errorf("server_version %04x", sh.version)
	}
	if !offersU16(ch.cipherSuites, sh.suite) || sh.suite != TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("suite %04x", sh.suite)
	}
	if !offersU16(ch.srtpProfiles, sh.srtp) || sh.srtp != SRTP_AEAD_AES_128_GCM {
		t.Errorf("SRTP profile %d, Chromium offered %v", sh.srtp, ch.srtpProfiles)
	}
	if _, ok := sh.exts[extSupportedVersions]; ok {
		t.Error("ServerHello echoes supported_versions")
	}
	for _, e := range []uint16{extExtendedMasterSecret, extRenegotiationInfo, extUseSRTP} {
		if _, ok := sh.exts[e]; !ok {
			t.Errorf("ServerHello lacks extension %d", e)
		}
	}
	// ServerKeyExchange: named curve X25519 (Chromium's first classic group).
	ske := msgs[2].body
	if ske[0] != curveTypeNamed || uint16(ske[1])<<8|uint16(ske[2]) != groupX25519 || ske[3] != 32 {
		t.Errorf("ServerKeyExchange params %x", ske[:4])
	}
	if !offersU16(ch.supportedGroups, groupX25519) {
		t.Error("Chromium did not offer X25519?")
	}
	// CertificateRequest: ecdsa_sign first, then rsa_sign.
	if cr := msgs[3].body; cr[0] != 2 || cr[1] != certTypeECDSASign || cr[2] != certTypeRSASign {
		t.Errorf("CertificateRequest types %x", cr[:3])
	}
	if s.state != awaitFlight5 || s.Deadline() != later.Add(time.Second) {
		t.Errorf("state %d deadline %v", s.state, s.Deadline())
	}

	// Chromium repeats the cookie hello (its timer): flight 4 again, with
	// new record sequence numbers, and no new state.
	again := fragmentHello(body, 1, 6)
	for _, d := range again {
		if err := s.handleDatagram(later.Add(time.Second/2), d); err != nil {
			t.Fatal(err)
		}
	}
	out2 := drain(s)
	if len(out2) != len(out) {
		t.Fatalf("resent flight: %d datagrams, first time %d", len(out2), len(out))
	}
	h1, _, _, _ := parseRecord(out[0])
	h2, _, _, _ := parseRecord(out2[0])
	if h2.seq <= h1.seq {
		t.Errorf("resent record seq %d not after %d", h2.seq, h1.seq)
	}
	if h1.seq <= 5 {
		t.Errorf("flight 4 record seq %d does not follow the client's (5)", h1.seq)
	}
	// The timer resends too, doubling.
	s.HandleTimeout(later.Add(time.Second))
	if n := len(drain(s)); n != len(out) {
		t.Fatalf("timer resend: %d datagrams", n)
	}
	if s.Deadline() != later.Add(3*time.Second) {
		t.Errorf("deadline after first resend %v", s.Deadline().Sub(later))
	}
}

func sizes(ds [][]byte) []int {
	var n []int
	for _, d := range ds {
		n = append(n, len(d))
	}
	return n
}

type testServerHello struct {
	version uint16
	suite   uint16
	srtp    uint16
	exts    map[uint16][]byte
}

func parseServerHelloForTest(t *testing.T, b []byte) testServerHello {
	t.Helper()
	r := wire.NewReader(b)
	var m testServerHello
	m.version = r.U16()
	r.Skip(randomLen)
	r.Vec8()
	m.suite = r.U16()
	r.U8()
	m.exts = map[uint16][]byte{}
	exts := r.Sub(int(r.U16()))
	for !exts.Empty() && exts.OK() {
		typ := exts.U16()
		m.exts[typ] = exts.Vec16()
	}
	if !r.OK() || !exts.OK() || !r.Empty() {
		t.Fatalf("ServerHello does not parse: %x", b)
	}
	if e, ok := m.exts[extUseSRTP]; ok && len(e) == 5 {
		m.srtp = uint16(e[2])<<8 | uint16(e[3])
	}
	return m
}
