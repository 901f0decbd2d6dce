package dtls

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

// collect drains an endpoint's datagrams (copied).
func collect(e endpoint) [][]byte {
	var out [][]byte
	for d := e.pollTransmit(); d != nil; d = e.pollTransmit() {
		out = append(out, bytes.Clone(d))
	}
	return out
}

func feedAll(now time.Time, e endpoint, ds [][]byte) {
	for _, d := range ds {
		_ = e.handleDatagram(now, d)
	}
}

func events(e endpoint) []Event {
	var evs []Event
	for ev, ok := e.pollEvent(); ok; ev, ok = e.pollEvent() {
		evs = append(evs, ev)
	}
	return evs
}

// toFlight4 runs a pair to the point where the server's flight 4 is out
// and returns its datagrams (the client has not seen them).
func toFlight4(t testing.TB, now time.Time, c *Client, s *Server) [][]byte {
	t.Helper()
	feedAll(now, s, collect(c)) // ClientHello
	hvr := collect(s)
	if len(hvr) != 1 {
		t.Fatalf("%d HelloVerifyRequest datagrams", len(hvr))
	}
	feedAll(now, c, hvr)
	feedAll(now, s, collect(c)) // ClientHello with the cookie
	return collect(s)
}

// splitRecords makes one datagram of each record.
func splitRecords(ds [][]byte) [][]byte {
	var out [][]byte
	for _, d := range ds {
		for len(d) > 0 {
			rest, ok := skipRecord(d)
			if !ok {
				break
			}
			out = append(out, d[:len(d)-len(rest)])
			d = rest
		}
	}
	return out
}

// TestClientFlight4AnyOrder: the server's flight 4, fragmented at the
// smallest MTU, is reassembled whatever order its records and datagrams
// arrive in, duplicates included; the client's own flight 5 is fragmented
// too, and the handshake completes.
func TestClientFlight4AnyOrder(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for seed := range uint64(20) {
		c, s := ourPair(t, now, func(cc, sc *Config) { cc.MTU, sc.MTU = minMTU, minMTU })
		f4 := splitRecords(toFlight4(t, now, c, s))
		if len(f4) < 6 {
			t.Fatalf("flight 4 in only %d records", len(f4))
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		rng.Shuffle(len(f4), func(i, j int) { f4[i], f4[j] = f4[j], f4[i] })
		f4 = append(f4, f4[:3]...) // some twice
		feedAll(now, c, f4)
		f5 := collect(c)
		if c.state != awaitFlight6 || len(f5) < 2 {
			t.Fatalf("seed %d: state %d after flight 4, %d datagrams", seed, c.state, len(f5))
		}
		for _, d := range f5 {
			if len(d) > minMTU {
				t.Fatalf("datagram of %d bytes over the MTU", len(d))
			}
		}
		rng.Shuffle(len(f5), func(i, j int) { f5[i], f5[j] = f5[j], f5[i] })
		feedAll(now, s, f5)
		// A ChangeCipherSpec ahead of ClientKeyExchange is dropped by the
		// server: then our timer resends flight 5 in order.
		var evC, evS []Event
		for range 3 {
			a, b := exchange(t, now, c, s)
			evC, evS = append(evC, a...), append(evS, b...)
			if hasEvent(evC, HandshakeComplete) {
				break
			}
			now = c.Deadline()
			c.HandleTimeout(now)
		}
		if !hasEvent(evC, HandshakeComplete) || !hasEvent(evS, HandshakeComplete) {
			t.Fatalf("seed %d: not complete: client %v server %v", seed, evC, evS)
		}
	}
}

// TestClientResendsOnRepeatedFlight: when the server repeats flight 4 our
// flight 5 was lost: it is sent again at once (RFC 6347 §4.2.4), at most
// once per minResendGap; after the handshake no flight or timer is kept.
func TestClientResendsOnRepeatedFlight(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c, s := ourPair(t, now, nil)
	feedAll(now, c, toFlight4(t, now, c, s))
	f5 := collect(c) // lost
	// The server's timer sends flight 4 again, with new record numbers.
	now = s.Deadline()
	s.HandleTimeout(now)
	f4 := collect(s)
	feedAll(now, c, f4)
	if again := collect(c); len(again) != len(f5) || c.resends != 1 {
		t.Fatalf("repeat of flight 4: %d datagrams, resends %d", len(again), c.resends)
	}
	s.HandleTimeout(s.Deadline())
	feedAll(now.Add(time.Millisecond), c, collect(s))
	if again := collect(c); len(again) != 0 {
		t.Fatal("resent twice within minResendGap")
	}
	feedAll(now, s, f5)
	feedAll(now, c, collect(s))
	if c.state != established {
		t.Fatal("not established")
	}
	if c.Deadline() != (time.Time{}) || len(c.flight) != 0 {
		t.Fatal("established client keeps its flight or timer")
	}
}

// TestClientReplayAndAlerts: a replayed record is delivered once; a fatal
// alert from the server ends the client with a remote AlertError.
func TestClientReplayAndAlerts(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c, s := ourPair(t, now, nil)
	exchange(t, now, c, s)
	if err := s.WriteApplicationData([]byte("once")); err != nil {
		t.Fatal(err)
	}
	d := collect(s)
	feedAll(now, c, d)
	feedAll(now, c, d)
	if evs := events(c); len(evs) != 1 || evs[0].Kind != ApplicationData {
		t.Fatalf("events %v", evs)
	}
	if evs := events(c); len(evs) != 0 {
		t.Fatalf("replay delivered: %v", evs)
	}
	s.sendAlert(alertLevelFatal, alertInternalError)
	feedAll(now, c, collect(s))
	evs := events(c)
	var ae *AlertError
	if len(evs) != 2 || evs[1].Kind != Failed || !errors.As(evs[1].Err, &ae) || !ae.Remote || ae.Description != uint8(alertInternalError) {
		t.Fatalf("events %v", evs)
	}
	if err := c.handleDatagram(now, d[0]); err == nil {
		t.Fatal("dead client accepted a datagram")
	}
}

// TestClientEarlyFinished: the server's Finished arriving before its
// ChangeCipherSpec is kept and used once the CCS comes.
func TestClientEarlyFinished(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c, s := ourPair(t, now, nil)
	feedAll(now, c, toFlight4(t, now, c, s))
	feedAll(now, s, collect(c))
	f6 := splitRecords(collect(s))
	if len(f6) != 2 {
		t.Fatalf("flight 6 in %d records", len(f6))
	}
	feedAll(now, c, [][]byte{f6[1], f6[0]})
	if !hasEvent(events(c), HandshakeComplete) {
		t.Fatal("reordered flight 6 not accepted")
	}
}

// TestClientChecksServerHello: what the server chose must be what we
// offered, with the extensions we require (RFC 5246 §7.4.1.3-4, RFC 7627,
// RFC 5764).
func TestClientChecksServerHello(t *testing.T) {
	random := make([]byte, randomLen)
	good := serverHello{version: versionDTLS12, random: random, cipherSuite: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		srtpProfile: SRTP_AEAD_AES_128_GCM, renegotiation: true, ecPointFormat: true}
	withExt := func(typ uint16, data []byte) []byte {
		b := good.append(nil)
		w := wire.NewBuilder(b)
		w.U16(typ)
		w.U16(uint16(len(data)))
		w.Bytes(data)
		ext := 2 + randomLen + 1 + 2 + 1
		w.Put16(ext, uint16(len(w.B)-ext-2))
		return w.B
	}
	noEMS := good.append(nil)
	// Drop extended_master_secret (type 23, empty) from the extensions.
	i := bytes.Index(noEMS, []byte{0, 23, 0, 0})
	noEMS = append(noEMS[:i:i], noEMS[i+4:]...)
	ext := 2 + randomLen + 1 + 2 + 1
	noEMS[ext], noEMS[ext+1] = byte((len(noEMS)-ext-2)>>8), byte(len(noEMS)-ext-2)
	for _, tc := range []struct {
		name string
		body []byte
		edit func(m *serverHello)
		want alert
	}{
		{name: "good"},
		{name: "DTLS 1.0", body: append([]byte{0xfe, 0xff}, good.append(nil)[2:]...), want: alertProtocolVersion},
		{name: "suite not offered", edit: func(m *serverHello) { m.cipherSuite = 0xc02f }, want: alertIllegalParameter},
		{name: "profile not offered", edit: func(m *serverHello) { m.srtpProfile = 0x0005 }, want: alertIllegalParameter},
		{name: "no EMS", body: noEMS, want: alertHandshakeFailure},
		{name: "session ticket", body: withExt(35, nil), want: alertUnsupportedExtension},
		{name: "EMS twice", body: withExt(extExtendedMasterSecret, nil), want: alertIllegalParameter},
	} {
		now := time.Unix(1_700_000_000, 0)
		c, _ := ourPair(t, now, func(cc, _ *Config) { cc.CipherSuites = []uint16{TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256} })
		body := tc.body
		if body == nil {
			m := good
			if tc.edit != nil {
				tc.edit(&m)
			}
			body = m.append(nil)
		}
		err := c.onServerHello(body)
		if tc.want == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var a alert
		if !errors.As(err, &a) || a != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestClientHelloVerifyAgain: a server that asks for a cookie again gets
// a new hello each time, up to maxHelloVerifies; then the client gives up.
func TestClientHelloVerifyAgain(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c, _ := ourPair(t, now, nil)
	collect(c)
	hvr := func(seq uint16, cookie byte) []byte {
		body := appendHelloVerifyRequest(nil, []byte{cookie, cookie, cookie})
		d := appendRecordHeader(nil, contentHandshake, 0, uint64(seq), handshakeHeaderLen+len(body))
		d = appendHandshakeHeader(d, typeHelloVerifyRequest, len(body), seq, 0, len(body))
		return append(d, body...)
	}
	for i := range uint16(maxHelloVerifies) {
		feedAll(now, c, [][]byte{hvr(i, byte(i+1))})
		out := collect(c)
		if len(out) != 1 || !bytes.Contains(out[0], []byte{3, byte(i + 1), byte(i + 1), byte(i + 1)}) || c.state != awaitFlight4 {
			t.Fatalf("HelloVerifyRequest %d: %d datagrams, state %d", i, len(out), c.state)
		}
	}
	feedAll(now, c, [][]byte{hvr(maxHelloVerifies, 9)})
	if c.state != failed {
		t.Fatalf("state %d after %d HelloVerifyRequests", c.state, maxHelloVerifies+1)
	}
}

// TestClientForgedPlaintextAtFinished: while the client waits for flight 4
// it cannot know where the server's Finished will be, so a spoofed
// plaintext fragment of another type at that message_seq is buffered. Once
// flight 4 is in, that slot is protected-only: the forged fragment (a part
// of a message, or a whole empty one) neither blocks the real Finished nor
// fails the handshake, and no retransmission timer is needed.
func TestClientForgedPlaintextAtFinished(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	// Where the Finished will be: the same exchange, once without forgery.
	c0, s0 := ourPair(t, now, nil)
	feedAll(now, c0, toFlight4(t, now, c0, s0))
	if c0.state != awaitFlight6 {
		t.Fatal("reference client did not reach flight 6")
	}
	finSeq := c0.finishedSeq
	forgeries := map[string][]byte{
		"partial certificate": func() []byte {
			h := appendTranscript(nil, typeCertificate, finSeq, make([]byte, 100))
			// Claim 100 bytes, carry 10: fragment_length is at offset 9.
			h[9], h[10], h[11] = 0, 0, 10
			return h[:handshakeHeaderLen+10]
		}(),
		"empty server hello done": handshakeMsg(typeServerHelloDone, finSeq, nil),
		"empty finished":          handshakeMsg(typeFinished, finSeq, nil),
	}
	for name, msg := range forgeries {
		c, s := ourPair(t, now, nil)
		f4 := toFlight4(t, now, c, s)
		forged := append(appendRecordHeader(nil, contentHandshake, 0, 40, len(msg)), msg...)
		if err := c.handleDatagram(now, forged); err != nil {
			t.Fatalf("%s: forged fragment: %v", name, err)
		}
		feedAll(now, c, f4)
		if c.state != awaitFlight6 {
			t.Fatalf("%s: state %d after flight 4", name, c.state)
		}
		// No timer fires: everything happens at the same instant.
		evC, evS := exchange(t, now, c, s)
		if !hasEvent(evC, HandshakeComplete) || !hasEvent(evS, HandshakeComplete) {
			t.Fatalf("%s: not complete without a retransmission: client %v server %v", name, evC, evS)
		}
		if c.resends != 0 || c.reasm.buffered != 0 {
			t.Fatalf("%s: resends %d, %d bytes left buffered", name, c.resends, c.reasm.buffered)
		}
	}
}

// TestReassemblerProtectedReplacesPlaintext: a protected fragment takes the
// place of a plaintext partial at its message_seq; a plaintext fragment
// never displaces a protected one.
func TestReassemblerProtectedReplacesPlaintext(t *testing.T) {
	var r reassembler
	r.reset(3)
	forged := handshakeHeader{typ: typeCertificate, seq: 3, length: 100, fragLen: 10, fragment: make([]byte, 10)}
	if r.add(&forged, 0) != addNew || r.buffered != 100 {
		t.Fatal("plaintext partial not held")
	}
	real := handshakeHeader{typ: typeFinished, seq: 3, length: verifyDataLen, fragLen: verifyDataLen, fragment: make([]byte, verifyDataLen)}
	r.add(&real, 1)
	if p, ok := r.peek(); !ok || p.typ != typeFinished || p.epoch != 1 || r.buffered != verifyDataLen {
		t.Fatalf("protected message not complete in its place: %+v, %d bytes buffered", p, r.buffered)
	}
	r.add(&forged, 0)
	if p, ok := r.peek(); !ok || p.typ != typeFinished {
		t.Fatal("plaintext fragment displaced the protected message")
	}
}
