package rtp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rfc7714Packet is the RTP packet used by every RFC 7714 §16 vector.
const rfc7714Packet = "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976" +
	"69736120 696e2070 61727465 73207472 6573"

func TestUnmarshalRFC7714Packet(t *testing.T) {
	b := unhex(t, rfc7714Packet)
	var h Header
	if err := h.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if h.Version != 2 || h.Padding || h.Extension || h.Marker || h.PayloadType != 0x40 ||
		h.SequenceNumber != 0xf17b || h.Timestamp != 0x8041f8d3 || h.SSRC != 0x5501a0b2 ||
		h.CSRCCount != 0 || h.HeaderLen != 12 {
		t.Fatalf("bad header %+v", h)
	}
	p, err := Payload(b, &h)
	if err != nil || string(p) != "Gallia est omnis divisa in partes tres" {
		t.Fatalf("payload %q %v", p, err)
	}
	if &p[0] != &b[12] {
		t.Fatal("payload was copied")
	}
}

func TestRoundTripWithCSRCAndExtension(t *testing.T) {
	h := Header{
		Padding: true, Extension: true, Marker: true, PayloadType: 96,
		SequenceNumber: 65535, Timestamp: 0xdeadbeef, SSRC: 0x01020304,
		CSRCCount: 3, ExtensionProfile: ExtensionProfileOneByte,
		ExtensionPayload: []byte{0x10, 0xAA, 0x00, 0x00, 0x21, 1, 2, 3},
	}
	h.CSRC[0], h.CSRC[1], h.CSRC[2] = 1, 2, 3
	b := h.MarshalTo([]byte{0xff}) // appends
	if b[0] != 0xff || len(b) != 1+h.MarshalSize() {
		t.Fatalf("MarshalTo did not append: %x", b)
	}
	b = b[1:]
	b = append(b, 'h', 'i', 0, 0, 3) // payload + 3 padding bytes
	var g Header
	if err := g.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if g.HeaderLen != 12+12+4+8 {
		t.Fatalf("HeaderLen %d", g.HeaderLen)
	}
	g.Version, h.Version = 0, 0
	g.HeaderLen = 0
	if !bytes.Equal(g.ExtensionPayload, h.ExtensionPayload) {
		t.Fatal("extension payload")
	}
	g.ExtensionPayload, h.ExtensionPayload = nil, nil
	if !reflect.DeepEqual(g, h) {
		t.Fatalf("round trip:\n%+v\n%+v", g, h)
	}
	g.Unmarshal(b)
	p, err := Payload(b, &g)
	if err != nil || string(p) != "hi" {
		t.Fatalf("payload %q %v", p, err)
	}
}

func TestMarshalPadsExtension(t *testing.T) {
	h := Header{Extension: true, ExtensionProfile: ExtensionProfileOneByte, ExtensionPayload: []byte{0x10, 7}}
	b := h.MarshalTo(nil)
	want := unhex(t, "90000000 00000000 00000000 bede0001 10070000")
	if !bytes.Equal(b, want) {
		t.Fatalf("got %x want %x", b, want)
	}
}

func TestOneByteExtension(t *testing.T) {
	h := Header{Extension: true, ExtensionProfile: ExtensionProfileOneByte,
		// id1 len1, padding, id3 len3, id15 (stop), id4 len1 after the stop
		ExtensionPayload: []byte{0x10, 0xAA, 0x00, 0x00, 0x32, 1, 2, 3, 0xF0, 0x40, 9, 0}}
	b := h.MarshalTo(nil)
	var g Header
	if err := g.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if v, ok := g.GetExtension(1); !ok || !bytes.Equal(v, []byte{0xAA}) {
		t.Fatalf("id1 %x %v", v, ok)
	}
	if v, ok := g.GetExtension(3); !ok || !bytes.Equal(v, []byte{1, 2, 3}) {
		t.Fatalf("id3 %x %v", v, ok)
	}
	if _, ok := g.GetExtension(4); ok {
		t.Fatal("id4 is after id 15 and must not be found")
	}
	for _, id := range []uint8{0, 2, 14, 15, 200} {
		if _, ok := g.GetExtension(id); ok {
			t.Fatalf("id %d found", id)
		}
	}
	// Element running past the end.
	g.ExtensionPayload = []byte{0x13, 1, 2}
	if _, ok := g.GetExtension(1); ok {
		t.Fatal("truncated element found")
	}
}

func TestTwoByteExtension(t *testing.T) {
	h := Header{Extension: true, ExtensionProfile: 0x1005,
		ExtensionPayload: []byte{0x01, 0x00, 0x00, 0xC8, 0x02, 5, 6, 0x0F, 0x01, 7}}
	b := h.MarshalTo(nil)
	var g Header
	if err := g.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if v, ok := g.GetExtension(1); !ok || len(v) != 0 {
		t.Fatalf("id1 %x %v", v, ok)
	}
	if v, ok := g.GetExtension(200); !ok || !bytes.Equal(v, []byte{5, 6}) {
		t.Fatalf("id200 %x %v", v, ok)
	}
	if v, ok := g.GetExtension(15); !ok || !bytes.Equal(v, []byte{7}) {
		t.Fatalf("id15 %x %v", v, ok)
	}
	if _, ok := g.GetExtension(3); ok {
		t.Fatal("id3 found")
	}
	g.ExtensionPayload = []byte{0x01, 0x05, 1}
	if _, ok := g.GetExtension(1); ok {
		t.Fatal("truncated element found")
	}
	g.ExtensionPayload = []byte{0x01}
	if _, ok := g.GetExtension(1); ok {
		t.Fatal("element without length found")
	}
	g.ExtensionProfile = 0x1234 // some other profile
	if _, ok := g.GetExtension(1); ok {
		t.Fatal("unknown profile looked up")
	}
}

func TestHostile(t *testing.T) {
	cases := []struct {
		name string
		pkt  string
		want error
	}{
		{"empty", "", ErrShort},
		{"11 bytes", "80000000 00000000 000000", ErrShort},
		{"version 0", "00000000 00000000 00000000", ErrVersion},
		{"version 3", "c0000000 00000000 00000000", ErrVersion},
		{"15 CSRCs in 16 bytes", "8f000000 00000000 00000000 00000001", ErrShort},
		{"extension header missing", "90000000 00000000 00000000 bede", ErrExtension},
		{"extension length past end", "90000000 00000000 00000000 bede0002 10aa0000", ErrExtension},
		{"extension length max", "90000000 00000000 00000000 bedeffff", ErrExtension},
	}
	for _, c := range cases {
		var h Header
		if err := h.Unmarshal(unhex(t, c.pkt)); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v want %v", c.name, err, c.want)
		}
	}
}

func TestPaddingChecks(t *testing.T) {
	cases := []struct {
		pkt     string
		payload string
		err     error
	}{
		{"a0000000 00000000 00000000", "", ErrPadding},          // padding bit, no payload
		{"a0000000 00000000 00000000 aabb00", "", ErrPadding},   // count 0
		{"a0000000 00000000 00000000 aabb04", "", ErrPadding},   // count > payload
		{"a0000000 00000000 00000000 aabbff", "", ErrPadding},   // count 255
		{"a0000000 00000000 00000000 aabb03", "", nil},          // all padding
		{"a0000000 00000000 00000000 aabb01", "aabb", nil},      // one byte of padding
		{"80000000 00000000 00000000 aabb00", "aabb00", nil},    // no P bit: byte is data
		{"a0000000 00000000 00000000 aabbcc02", "aabb", nil},    // two bytes
		{"b0000000 00000000 00000000 bede0000 aa01", "aa", nil}, // after an empty extension
	}
	for i, c := range cases {
		b := unhex(t, c.pkt)
		var h Header
		if err := h.Unmarshal(b); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		p, err := Payload(b, &h)
		if !errors.Is(err, c.err) {
			t.Fatalf("%d: err %v want %v", i, err, c.err)
		}
		if err == nil && hex.EncodeToString(p) != c.payload {
			t.Fatalf("%d: payload %x want %s", i, p, c.payload)
		}
	}
	// A header that does not belong to the packet.
	if _, err := Payload(make([]byte, 12), &Header{HeaderLen: 40}); !errors.Is(err, ErrHeader) {
		t.Fatalf("bad HeaderLen: %v", err)
	}
}

func TestSeqUnwrapper(t *testing.T) {
	var u SeqUnwrapper
	steps := []struct {
		seq  uint16
		want uint64
	}{
		{65530, 65530},
		{65535, 65535},
		{65533, 65533}, // late, before the wrap
		{0, 65536},     // wrap
		{65534, 65534}, // reordered across the wrap
		{3, 65539},
		{1, 65537},
		{40000, 40000},         // 39997 ahead is more than half the space: taken as late
		{30003, 65536 + 30003}, // 30000 ahead: newer
		{60000, 65536 + 60000},
		{7000, 2*65536 + 7000}, // (7000-60000) mod 2^16 = 12536: ahead, next cycle
		{59000, 65536 + 59000}, // late across the wrap
	}
	for i, s := range steps {
		if got := u.Unwrap(s.seq); got != s.want {
			t.Fatalf("step %d seq %d: got %d want %d", i, s.seq, got, s.want)
		}
	}
	if hi, ok := u.Highest(); !ok || hi != 2*65536+7000 {
		t.Fatalf("highest %d", hi)
	}
	// Before cycle 0.
	var v SeqUnwrapper
	v.Unwrap(2)
	if got := v.Unwrap(65534); got != 0 {
		t.Fatalf("pre-start late packet: %d", got)
	}
	if got := v.Unwrap(3); got != 3 {
		t.Fatalf("after pre-start: %d", got)
	}
}

func TestSeqUnwrapperLongRun(t *testing.T) {
	var u SeqUnwrapper
	seq := uint16(60000)
	ext := uint64(60000)
	for i := 0; i < 300000; i++ {
		if got := u.Unwrap(seq); got != ext {
			t.Fatalf("i=%d got %d want %d", i, got, ext)
		}
		// Every 10th packet, a late one from 100 back.
		if i%10 == 0 && ext >= 100+60000 {
			if got := u.Unwrap(seq - 100); got != ext-100 {
				t.Fatalf("late i=%d got %d want %d", i, got, ext-100)
			}
		}
		seq++
		ext++
	}
}

func TestUnmarshalAllocs(t *testing.T) {
	b := unhex(t, "b0000000 00000000 00000000 bede0001 10aa0000 0102")
	var h Header
	n := testing.AllocsPerRun(100, func() {
		_ = h.Unmarshal(b)
		_, _ = h.GetExtension(1)
		_, _ = Payload(b, &h)
	})
	if n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(unhex(f, rfc7714Packet))
	f.Add(unhex(f, "800f1234 decafbad cafebabe abababab abababab abababab abababab")) // libsrtp
	f.Add(unhex(f, "b0000000 00000000 00000000 bede0001 10aa0000 0102"))
	f.Add(unhex(f, "bf000000 00000000 00000000 00000001 00000002 00000003 00000004 00000005"+
		"00000006 00000007 00000008 00000009 0000000a 0000000b 0000000c 0000000d 0000000e 0000000f"+
		"10020003 01000007 ffff"))
	f.Add(unhex(f, "a0000000 00000000 00000000 aabbff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		if err := h.Unmarshal(b); err != nil {
			return
		}
		if h.HeaderLen < FixedHeaderLen || h.HeaderLen > len(b) {
			t.Fatalf("HeaderLen %d of %d", h.HeaderLen, len(b))
		}
		for id := 0; id < 256; id++ {
			if v, ok := h.GetExtension(uint8(id)); ok && len(v) > len(h.ExtensionPayload) {
				t.Fatal("extension element larger than the extension")
			}
		}
		if p, err := Payload(b, &h); err == nil && len(p) > len(b)-h.HeaderLen {
			t.Fatal("payload too long")
		}
		// Re-marshal reproduces the header bytes exactly.
		out := h.MarshalTo(nil)
		if !bytes.Equal(out, b[:h.HeaderLen]) {
			t.Fatalf("re-marshal\n%x\n%x", out, b[:h.HeaderLen])
		}
	})
}

func BenchmarkHeaderUnmarshal(b *testing.B) {
	pkt := make([]byte, 1200)
	h := Header{Extension: true, SSRC: 1, SequenceNumber: 7, PayloadType: 96, CSRCCount: 1,
		ExtensionProfile: ExtensionProfileOneByte, ExtensionPayload: []byte{0x10, 1, 0x22, 1, 2, 3, 0, 0}}
	hdr := h.MarshalTo(nil)
	copy(pkt, hdr)
	b.ReportAllocs()
	var g Header
	for b.Loop() {
		if err := g.Unmarshal(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
