package dtls

import (
	"bytes"
	"testing"
	"time"
)

// captureMessages returns the bodies of the plaintext handshake messages in
// the client's frames of the capture, by type.
func captureMessages(t testing.TB) map[uint8][][]byte {
	frames := captureFrames(t)
	out := map[uint8][][]byte{}
	for _, n := range []int{3, 4, 10, 11, 14} {
		for d := frames[n]; len(d) > 0; {
			h, frag, rest, ok := parseRecord(d)
			if !ok {
				break
			}
			d = rest
			if h.typ != contentHandshake || h.epoch != 0 {
				continue
			}
			for len(frag) > 0 {
				hh, more, ok := parseHandshake(frag)
				if !ok {
					break
				}
				frag = more
				if hh.fragOff == 0 && hh.fragLen == hh.length {
					out[hh.typ] = append(out[hh.typ], hh.fragment)
				}
			}
		}
	}
	return out
}

func seedFrames(f *testing.F) {
	for _, d := range captureFrames(f) {
		f.Add(d)
	}
}

func FuzzParseRecord(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			h, frag, rest, ok := parseRecord(b)
			if !ok {
				return
			}
			if len(frag) != int(h.length) || len(rest) >= len(b) {
				t.Fatal("record bounds")
			}
			b = rest
		}
	})
}

func FuzzParseHandshake(f *testing.F) {
	for _, d := range captureFrames(f) {
		if _, frag, _, ok := parseRecord(d); ok {
			f.Add(frag)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			h, rest, ok := parseHandshake(b)
			if !ok {
				return
			}
			if uint64(h.fragOff)+uint64(len(h.fragment)) > uint64(h.length) || len(rest) >= len(b) {
				t.Fatal("fragment bounds")
			}
			b = rest
		}
	})
}

func FuzzParseClientHello(f *testing.F) {
	for _, b := range captureMessages(f)[typeClientHello] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseClientHello(b)
		if err == nil && (len(m.random) != randomLen || len(m.sessionID) > maxSessionIDLen) {
			t.Fatal("hello invariants")
		}
	})
}

func FuzzParseCertificate(f *testing.F) {
	for _, b := range captureMessages(f)[typeCertificate] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := parseCertificate(b)
		if err == nil && len(certs) > maxCertificates {
			t.Fatal("too many certificates")
		}
	})
}

func FuzzParseClientKeyExchange(f *testing.F) {
	for _, b := range captureMessages(f)[typeClientKeyExchange] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := parseClientKeyExchange(b)
		if err == nil && (len(pub) == 0 || 1+len(pub) != len(b) || !bytes.Equal(pub, b[1:])) {
			t.Fatalf("accepted %x as the point %x", b, pub)
		}
	})
}

func FuzzParseCertificateVerify(f *testing.F) {
	for _, b := range captureMessages(f)[typeCertificateVerify] {
		f.Add(b)
	}
	c, _ := GenerateCertificate(nil, time.Unix(0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := parseCertificateVerify(b); err == nil {
			// Verification of garbage must fail, not panic.
			if verifySignature(&c.PrivateKey.PublicKey, m.scheme, b, m.signature) == nil {
				t.Fatal("garbage signature verified")
			}
		}
	})
}

func FuzzParseFinished(f *testing.F) {
	f.Add(make([]byte, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		if vd, err := parseFinished(b); err == nil && len(vd) != verifyDataLen {
			t.Fatal("verify_data length")
		}
	})
}

// FuzzReassembler feeds fragments described by the input (seq, offset,
// length, epoch; 4 bytes each) of one 300-byte message and checks the
// result never disagrees with the message.
func FuzzReassembler(f *testing.F) {
	f.Add([]byte{0, 0, 100, 0, 0, 100, 200, 0, 0, 50, 100, 0})
	f.Add([]byte{1, 0, 255, 0, 0, 0, 255, 0, 0, 200, 100, 1})
	msg := make([]byte, 300)
	for i := range msg {
		msg[i] = byte(i)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r reassembler
		for ; len(b) >= 4; b = b[4:] {
			seq, off, n := uint16(b[0]%3), int(b[1])+int(b[3]&1)*45, int(b[2])
			if off+n > len(msg) {
				continue
			}
			h := handshakeHeader{typ: typeCertificate, length: uint32(len(msg)), seq: seq,
				fragOff: uint32(off), fragLen: uint32(n), fragment: msg[off : off+n]}
			r.add(&h, uint16(b[3]>>7))
			if p, ok := r.peek(); ok {
				if string(p.body) != string(msg) {
					t.Fatal("reassembled message differs")
				}
				r.pop()
			}
			if r.buffered < 0 || r.buffered > maxBufferedBytes {
				t.Fatal("buffered out of bounds")
			}
		}
	})
}

// FuzzHandleDatagram feeds the input to a whole server as datagrams (split
// at 0xff 0xff 0xff markers). With the first byte odd the server is first
// brought to awaitFlight5 with the captured Chromium hello, so the input
// reaches the flight-5 handling.
func FuzzHandleDatagram(f *testing.F) {
	frames := captureFrames(f)
	sep := []byte{0xff, 0xff, 0xff}
	for _, n := range []int{3, 4, 10, 11, 14} {
		f.Add(append([]byte{0}, frames[n]...))
		f.Add(append([]byte{1}, frames[n]...))
	}
	f.Add(append(append(append([]byte{0}, frames[4]...), sep...), frames[3]...))
	hello := chromiumHelloF(f, frames)
	now := time.Unix(1_700_000_000, 0)
	cfg := testServerConfig(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		s := newTestServerFrom(t, cfg, 0)
		if b[0]&1 == 1 {
			s.handleDatagram(now, frames[3])
			s.handleDatagram(now, frames[4])
			_, fr, _, _ := parseRecord(drain(s)[0])
			hh, _, _ := parseHandshake(fr)
			for _, d := range fragmentHello(insertCookie(hello, hh.fragment[3:]), 1, 2) {
				s.handleDatagram(now, d)
			}
			drain(s)
		}
		b = b[1:]
		for len(b) > 0 {
			d, rest := b, []byte(nil)
			for i := 0; i+3 <= len(b); i++ {
				if b[i] == 0xff && b[i+1] == 0xff && b[i+2] == 0xff {
					d, rest = b[:i], b[i+3:]
					break
				}
			}
			b = rest
			s.handleDatagram(now, d)
			s.HandleTimeout(now.Add(time.Minute))
			for out := s.pollTransmit(); out != nil; out = s.pollTransmit() {
				if len(out) > DefaultMTU {
					t.Fatalf("datagram of %d bytes", len(out))
				}
			}
			for _, ok := s.pollEvent(); ok; _, ok = s.pollEvent() {
			}
		}
	})
}
