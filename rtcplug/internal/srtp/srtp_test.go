package srtp

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

var allProfiles = []Profile{AES128CMHMACSHA1_80, AES128CMHMACSHA1_32, AEADAES128GCM, AEADAES256GCM}

// testKeys returns a deterministic master key and salt for p.
func testKeys(p Profile, seed byte) (key, salt []byte) {
	key = make([]byte, p.KeyLen())
	salt = make([]byte, p.SaltLen())
	for i := range key {
		key[i] = seed + byte(i)
	}
	for i := range salt {
		salt[i] = 0xA0 ^ seed ^ byte(i)
	}
	return key, salt
}

func pair(t testing.TB, p Profile) (enc, dec *Context) {
	t.Helper()
	key, salt := testKeys(p, 1)
	enc, err := NewContext(p, key, salt)
	if err != nil {
		t.Fatal(err)
	}
	dec, err = NewContext(p, key, salt)
	if err != nil {
		t.Fatal(err)
	}
	return enc, dec
}

// rtpPacket builds a plaintext RTP packet with a one-byte header extension,
// a CSRC and padding, so every part of the header is exercised.
func rtpPacket(ssrc uint32, seq uint16, size int) []byte {
	h := rtp.Header{
		PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, SSRC: ssrc,
		Extension: true, ExtensionProfile: rtp.ExtensionProfileOneByte,
		ExtensionPayload: []byte{0x10, byte(seq), 0x21, 0xAB, 0xCD, 0, 0, 0},
		CSRCCount:        1, Padding: true,
	}
	h.CSRC[0] = 0x11223344
	b := h.MarshalTo(make([]byte, 0, size+64))
	for len(b) < size-4 {
		b = append(b, byte(len(b)))
	}
	return append(b, 0, 0, 0, 4) // 4 bytes of padding
}

func rtcpPacket(ssrc uint32, n int) []byte {
	b := []byte{0x81, 0xc9, 0, byte(n/4 - 1), byte(ssrc >> 24), byte(ssrc >> 16), byte(ssrc >> 8), byte(ssrc)}
	for len(b) < n {
		b = append(b, byte(len(b)))
	}
	return b
}

func TestProfileParameters(t *testing.T) {
	want := map[Profile][5]int{ // key, salt, rtp tag, rtcp tag, keying material
		AES128CMHMACSHA1_80: {16, 14, 10, 10, 60},
		AES128CMHMACSHA1_32: {16, 14, 4, 10, 60},
		AEADAES128GCM:       {16, 12, 16, 16, 56},
		AEADAES256GCM:       {32, 12, 16, 16, 88},
	}
	for p, w := range want {
		got := [5]int{p.KeyLen(), p.SaltLen(), p.rtpTagLen(), p.rtcpTagLen(), KeyingMaterialLen(p)}
		if got != w {
			t.Errorf("%v: %v want %v", p, got, w)
		}
	}
	if Profile(3).KeyLen() != 0 || KeyingMaterialLen(Profile(3)) != 0 || Profile(3).String() != "Profile(0x0003)" {
		t.Error("unknown profile")
	}
	if AEADAES256GCM.String() != "SRTP_AEAD_AES_256_GCM" {
		t.Error(AEADAES256GCM.String())
	}
}

func TestSplitKeyingMaterial(t *testing.T) {
	for _, p := range allProfiles {
		km := make([]byte, KeyingMaterialLen(p))
		for i := range km {
			km[i] = byte(i)
		}
		ck, cs, sk, ss, err := SplitKeyingMaterial(p, km)
		if err != nil {
			t.Fatal(err)
		}
		k, s := p.KeyLen(), p.SaltLen()
		if !bytes.Equal(ck, km[:k]) || !bytes.Equal(sk, km[k:2*k]) ||
			!bytes.Equal(cs, km[2*k:2*k+s]) || !bytes.Equal(ss, km[2*k+s:]) {
			t.Fatalf("%v: bad split", p)
		}
		if cap(ck) != k || cap(ss) != s {
			t.Fatal("capacity not clipped")
		}
		if _, err := NewContext(p, ck, cs); err != nil {
			t.Fatal(err)
		}
		if _, _, _, _, err := SplitKeyingMaterial(p, km[1:]); !errors.Is(err, ErrKeyLength) {
			t.Fatal(err)
		}
	}
	if _, _, _, _, err := SplitKeyingMaterial(Profile(5), make([]byte, 60)); !errors.Is(err, ErrUnsupportedProfile) {
		t.Fatal(err)
	}
}

func TestNewContextErrors(t *testing.T) {
	if _, err := NewContext(Profile(9), make([]byte, 16), make([]byte, 14)); !errors.Is(err, ErrUnsupportedProfile) {
		t.Fatal(err)
	}
	if _, err := NewContext(AEADAES128GCM, make([]byte, 16), make([]byte, 14)); !errors.Is(err, ErrKeyLength) {
		t.Fatal(err) // GCM master salt is 12 bytes (RFC 7714 §12)
	}
	if _, err := NewContext(AEADAES256GCM, make([]byte, 16), make([]byte, 12)); !errors.Is(err, ErrKeyLength) {
		t.Fatal(err)
	}
}

func TestEstimateIndex(t *testing.T) {
	cases := []struct {
		top  uint64
		seq  uint16
		want uint64
		ok   bool
	}{
		{0x1_0005, 0x0006, 0x1_0006, true},
		{0x1_0005, 0xFFF0, 0x0_FFF0, true}, // late, before the wrap
		{0x0_FFF0, 0x0003, 0x1_0003, true}, // after the wrap
		{0x0_FFF0, 0x9000, 0x0_9000, true},
		{0x0_0005, 0xFFF0, 0, false}, // would need ROC -1
		{0xFFFF_FFFF_FFF0, 0x0001, 0, false},
		{0x5_8000, 0x0000, 0x5_0000, true}, // exactly half: same ROC
	}
	for _, c := range cases {
		got, ok := estimateIndex(c.top, c.seq)
		if got != c.want || ok != c.ok {
			t.Errorf("top %x seq %x: %x %v want %x %v", c.top, c.seq, got, ok, c.want, c.ok)
		}
	}
}

func TestReplayWindowModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var w window
	seen := map[uint64]bool{}
	var top uint64 = 5000
	w.init(top)
	seen[top] = true
	for i := 0; i < 200000; i++ {
		var idx uint64
		switch r.IntN(4) {
		case 0:
			idx = top + uint64(r.IntN(3000)) // forward, sometimes beyond the window
		default:
			idx = top - uint64(r.IntN(1100)) // around the back edge
		}
		want := idx > top || (top-idx < replayWindowLen && !seen[idx])
		if got := w.check(idx); got != want {
			t.Fatalf("i=%d idx %d top %d: check %v want %v", i, idx, top, got, want)
		}
		if want && r.IntN(5) != 0 { // not every approved packet authenticates
			w.accept(idx)
			seen[idx] = true
			top = max(top, idx)
		}
	}
}

func TestRoundTripEveryProfile(t *testing.T) {
	for _, p := range allProfiles {
		t.Run(p.String(), func(t *testing.T) {
			enc, dec := pair(t, p)
			const ssrc = 0xCAFEBABE
			// 65530 .. 65535, 0 .. 9: the wrap moves the ROC from 0 to 1.
			seq := uint16(65530)
			var sent [][]byte
			for i := 0; i < 16; i++ {
				plain := rtpPacket(ssrc, seq, 200+i)
				protected, err := enc.EncryptRTP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(protected) != len(plain)+p.rtpTagLen() {
					t.Fatalf("len %d", len(protected))
				}
				if bytes.Equal(protected[32:len(plain)], plain[32:]) {
					t.Fatal("payload not encrypted")
				}
				sent = append(sent, protected)
				got, err := dec.DecryptRTP(nil, protected, nil)
				if err != nil {
					t.Fatalf("seq %d: %v", seq, err)
				}
				if !bytes.Equal(got, plain) {
					t.Fatalf("seq %d: plaintext differs", seq)
				}
				var h rtp.Header
				if err := h.Unmarshal(got); err != nil {
					t.Fatal(err)
				}
				if pl, err := rtp.Payload(got, &h); err != nil || len(pl) != len(plain)-h.HeaderLen-4 {
					t.Fatalf("payload %d %v", len(pl), err)
				}
				seq++
			}
			if st := dec.recvRTP.find(ssrc); st == nil || st.w.top != 1<<16|9 {
				t.Fatalf("receiver ROC/seq not at 1/9: %+v", st)
			}
			if st := enc.sendRTP.find(ssrc); st == nil || st.w.top != 1<<16|9 {
				t.Fatal("sender ROC not at 1")
			}
			// Every packet again: replays.
			for i, pkt := range sent {
				if _, err := dec.DecryptRTP(nil, pkt, nil); !errors.Is(err, ErrReplayed) {
					t.Fatalf("replay %d: %v", i, err)
				}
			}
			// A ROC-1 packet encrypted by a sender that also wrapped decrypts
			// with ROC 1 here, and the old ROC-0 ciphertext of the same seq
			// does not verify under ROC 1 (the index enters the tag or nonce).
			next := rtpPacket(ssrc, 10, 100)
			pkt, _ := enc.EncryptRTP(nil, next, nil)
			if _, err := dec.DecryptRTP(nil, pkt, nil); err != nil {
				t.Fatal(err)
			}
			other, _ := pair(t, p) // a sender still at ROC 0
			old, _ := other.EncryptRTP(nil, rtpPacket(ssrc, 11, 100), nil)
			if _, err := dec.DecryptRTP(nil, old, nil); !errors.Is(err, ErrAuthFailed) {
				t.Fatalf("ROC 0 packet under ROC 1: %v", err)
			}

			// RTCP round trip and replay.
			for i := 0; i < 5; i++ {
				plain := rtcpPacket(ssrc, 32+4*i)
				protected, err := enc.EncryptRTCP(nil, plain)
				if err != nil {
					t.Fatal(err)
				}
				if len(protected) != len(plain)+4+p.rtcpTagLen() {
					t.Fatalf("rtcp len %d", len(protected))
				}
				got, err := dec.DecryptRTCP(nil, protected)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("rtcp %d: %v", i, err)
				}
				if _, err := dec.DecryptRTCP(nil, protected); !errors.Is(err, ErrReplayed) {
					t.Fatalf("rtcp replay: %v", err)
				}
			}
		})
	}
}

func TestReorderAcrossWrap(t *testing.T) {
	for _, p := range allProfiles {
		enc, dec := pair(t, p)
		var pkts [][]byte
		var plains [][]byte
		for seq := uint16(65000); seq != 600; seq++ {
			plain := rtpPacket(7, seq, 120)
			pkt, err := enc.EncryptRTP(nil, plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			pkts = append(pkts, pkt)
			plains = append(plains, plain)
		}
		// Deliver in a shuffled order within a 300-packet span, so packets
		// from before the wrap arrive after packets from after it.
		order := make([]int, len(pkts))
		for i := range order {
			order[i] = i
		}
		r := rand.New(rand.NewPCG(3, 4))
		for i := 0; i+300 <= len(order); i += 150 {
			r.Shuffle(300, func(a, b int) { order[i+a], order[i+b] = order[i+b], order[i+a] })
		}
		// The first packet must be the stream's first, so the ROC starts right.
		for i, o := range order {
			if o == 0 {
				order[0], order[i] = order[i], order[0]
			}
		}
		for _, o := range order {
			got, err := dec.DecryptRTP(nil, pkts[o], nil)
			if err != nil || !bytes.Equal(got, plains[o]) {
				t.Fatalf("%v: packet %d (seq %d): %v", p, o, uint16(65000+o), err)
			}
		}
	}
}

func TestLateRetransmission(t *testing.T) {
	for _, p := range allProfiles {
		enc, dec := pair(t, p)
		var first []byte
		for i := 0; i < 600; i++ { // crosses the wrap
			seq := uint16(65400 + i)
			pkt, _ := enc.EncryptRTP(nil, rtpPacket(9, seq, 100), nil)
			if i == 50 {
				first = pkt // "lost": not delivered now
				continue
			}
			if _, err := dec.DecryptRTP(nil, pkt, nil); err != nil {
				t.Fatal(err)
			}
		}
		// 550 packets later (the NACKed retransmission under its original
		// sequence number): accepted once, then a replay.
		if _, err := dec.DecryptRTP(nil, first, nil); err != nil {
			t.Fatalf("%v: late retransmission: %v", p, err)
		}
		if _, err := dec.DecryptRTP(nil, first, nil); !errors.Is(err, ErrReplayed) {
			t.Fatalf("%v: second copy: %v", p, err)
		}
		// And the sender re-encrypting an old seq (retransmission) uses its
		// original ROC: the output is the same packet.
		again, _ := enc.EncryptRTP(nil, rtpPacket(9, 65400+50, 100), nil)
		if !bytes.Equal(again, first) {
			t.Fatalf("%v: re-encrypted retransmission differs", p)
		}
	}
}

func TestTooOld(t *testing.T) {
	enc, dec := pair(t, AEADAES128GCM)
	old, _ := enc.EncryptRTP(nil, rtpPacket(1, 0, 50), nil)
	for seq := uint16(1); seq <= replayWindowLen+1; seq++ {
		pkt, _ := enc.EncryptRTP(nil, rtpPacket(1, seq, 50), nil)
		if _, err := dec.DecryptRTP(nil, pkt, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dec.DecryptRTP(nil, old, nil); !errors.Is(err, ErrReplayed) {
		t.Fatalf("packet older than the window: %v", err)
	}
}

func TestTamperedCreatesNoState(t *testing.T) {
	for _, p := range allProfiles {
		enc, dec := pair(t, p)
		plain := rtpPacket(42, 100, 300)
		pkt, _ := enc.EncryptRTP(nil, plain, nil)
		for _, at := range []int{1, 3, 9, 14, 20, 30, 200, len(pkt) - 1} {
			bad := bytes.Clone(pkt)
			bad[at] ^= 0x10
			if _, err := dec.DecryptRTP(nil, bad, nil); err == nil {
				t.Fatalf("%v: tampered byte %d accepted", p, at)
			}
			// In place, too.
			bad = bytes.Clone(pkt)
			bad[at] ^= 0x10
			if _, err := dec.DecryptRTP(bad[:0], bad, nil); err == nil {
				t.Fatalf("%v: tampered byte %d accepted in place", p, at)
			}
		}
		if len(dec.recvRTP.entries) != 0 {
			t.Fatalf("%v: state created by a forged packet", p)
		}
		// With state: a forged packet far ahead must not move the window.
		if _, err := dec.DecryptRTP(nil, pkt, nil); err != nil {
			t.Fatal(err)
		}
		ahead, _ := enc.EncryptRTP(nil, rtpPacket(42, 30000, 300), nil)
		ahead[len(ahead)-1] ^= 1
		if _, err := dec.DecryptRTP(nil, ahead, nil); !errors.Is(err, ErrAuthFailed) {
			t.Fatal(err)
		}
		if st := dec.recvRTP.find(42); st.w.top != 100 {
			t.Fatalf("%v: window moved to %d", p, st.w.top)
		}
		// RTCP: tampered packet, no state.
		rp, _ := enc.EncryptRTCP(nil, rtcpPacket(42, 40))
		for at := range rp {
			bad := bytes.Clone(rp)
			bad[at] ^= 0x01
			if _, err := dec.DecryptRTCP(nil, bad); err == nil {
				t.Fatalf("%v: tampered RTCP byte %d accepted", p, at)
			}
		}
		if len(dec.recvRTCP.entries) != 0 {
			t.Fatalf("%v: RTCP state created by a forged packet", p)
		}
	}
}

func TestInPlaceAndOverlap(t *testing.T) {
	for _, p := range allProfiles {
		enc, dec := pair(t, p)
		plain := rtpPacket(5, 1, 500)
		buf := make([]byte, len(plain), len(plain)+p.rtpTagLen())
		copy(buf, plain)
		pkt, err := enc.EncryptRTP(buf[:0], buf, nil)
		if err != nil || &pkt[0] != &buf[0] {
			t.Fatalf("%v: encrypt in place: %v", p, err)
		}
		if _, err := dec.DecryptRTP(pkt[1:1], pkt, nil); !errors.Is(err, ErrOverlap) {
			t.Fatalf("%v: overlap: %v", p, err)
		}
		got, err := dec.DecryptRTP(pkt[:0], pkt, nil)
		if err != nil || &got[0] != &buf[0] || !bytes.Equal(got, plain) {
			t.Fatalf("%v: decrypt in place: %v", p, err)
		}
		// RTCP in place.
		rplain := rtcpPacket(5, 60)
		rbuf := make([]byte, len(rplain), 100)
		copy(rbuf, rplain)
		rp, err := enc.EncryptRTCP(rbuf[:0], rbuf)
		if err != nil || &rp[0] != &rbuf[0] {
			t.Fatal(err)
		}
		got, err = dec.DecryptRTCP(rp[:0], rp)
		if err != nil || !bytes.Equal(got, rplain) {
			t.Fatalf("%v: rtcp in place: %v", p, err)
		}
		// dst with existing content: appended after it.
		pkt2, _ := enc.EncryptRTP(nil, rtpPacket(5, 2, 80), nil)
		out, err := dec.DecryptRTP([]byte("xyz"), pkt2, nil)
		if err != nil || string(out[:3]) != "xyz" || !bytes.Equal(out[3:], rtpPacket(5, 2, 80)) {
			t.Fatalf("%v: append: %v", p, err)
		}
	}
}

func TestHeaderArgument(t *testing.T) {
	enc, dec := pair(t, AES128CMHMACSHA1_80)
	plain := rtpPacket(5, 1, 100)
	var h rtp.Header
	if err := h.Unmarshal(plain); err != nil {
		t.Fatal(err)
	}
	pkt, err := enc.EncryptRTP(nil, plain, &h)
	if err != nil {
		t.Fatal(err)
	}
	var ph rtp.Header
	if err := ph.Unmarshal(pkt); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.DecryptRTP(nil, pkt, &ph); err != nil {
		t.Fatal(err)
	}
	// A header that does not fit the packet is refused, not trusted.
	bad := ph
	bad.HeaderLen = len(pkt) + 5
	if _, err := dec.DecryptRTP(nil, pkt, &bad); !errors.Is(err, ErrHeader) {
		t.Fatal(err)
	}
	bad.HeaderLen = len(pkt) - 2 // leaves no room for the tag
	if _, err := dec.DecryptRTP(nil, pkt, &bad); !errors.Is(err, ErrShort) {
		t.Fatal(err)
	}
	if _, err := dec.DecryptRTP(nil, pkt[:5], &ph); !errors.Is(err, ErrShort) {
		t.Fatal(err)
	}
}

func TestShortAndHostile(t *testing.T) {
	for _, p := range allProfiles {
		_, dec := pair(t, p)
		for n := 0; n < 40; n++ {
			b := make([]byte, n)
			if n > 0 {
				b[0] = 0x80
			}
			if _, err := dec.DecryptRTP(nil, b, nil); err == nil {
				t.Fatalf("%v: %d zero bytes accepted", p, n)
			}
			if _, err := dec.DecryptRTCP(nil, b); err == nil {
				t.Fatalf("%v: %d zero bytes accepted as RTCP", p, n)
			}
		}
		// 15 CSRCs announced in a short packet; extension past the end.
		if _, err := dec.DecryptRTP(nil, []byte{0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, nil); err == nil {
			t.Fatal("csrc")
		}
		if _, err := dec.DecryptRTP(nil, []byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff}, nil); err == nil {
			t.Fatal("extension")
		}
		if len(dec.recvRTP.entries)+len(dec.recvRTCP.entries) != 0 {
			t.Fatal("state from garbage")
		}
	}
}

func TestSSRCTableBound(t *testing.T) {
	enc, dec := pair(t, AEADAES128GCM)
	send := func(ssrc uint32, seq uint16) error {
		pkt, _ := enc.EncryptRTP(nil, rtpPacket(ssrc, seq, 60), nil)
		_, err := dec.DecryptRTP(nil, pkt, nil)
		return err
	}
	for ssrc := uint32(1); ssrc <= maxSSRCs; ssrc++ {
		if err := send(ssrc, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(1, 2); err != nil { // 1 is now the most recently used; 2 the least
		t.Fatal(err)
	}
	if err := send(1000, 1); err != nil {
		t.Fatal(err)
	}
	if len(dec.recvRTP.entries) != maxSSRCs {
		t.Fatalf("%d entries", len(dec.recvRTP.entries))
	}
	if dec.recvRTP.find(2) != nil || dec.recvRTP.find(1) == nil || dec.recvRTP.find(1000) == nil {
		t.Fatal("the least recently used SSRC was not the one evicted")
	}
}

func TestSRTCPIndexExhausted(t *testing.T) {
	enc, dec := pair(t, AES128CMHMACSHA1_80)
	enc.setSendRTCPIndex(3, maxSRTCPIndex)
	pkt, err := enc.EncryptRTCP(nil, rtcpPacket(3, 16))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dec.DecryptRTCP(nil, pkt); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.EncryptRTCP(nil, rtcpPacket(3, 16)); !errors.Is(err, ErrIndexExhausted) {
		t.Fatal(err)
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, p := range allProfiles {
		enc, dec := pair(t, p)
		plain := rtpPacket(77, 0, 1200)
		out := make([]byte, 0, 1400)
		dout := make([]byte, 0, 1400)
		rplain := rtcpPacket(77, 80)
		seq := uint16(0)
		allocs := testing.AllocsPerRun(200, func() {
			seq++
			plain[2], plain[3] = byte(seq>>8), byte(seq)
			pkt, err := enc.EncryptRTP(out[:0], plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dec.DecryptRTP(dout[:0], pkt, nil); err != nil {
				t.Fatal(err)
			}
			rp, err := enc.EncryptRTCP(out[:0], rplain)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dec.DecryptRTCP(dout[:0], rp); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocs per packet", p, allocs)
		}
	}
}
