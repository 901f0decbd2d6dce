package vp8

import (
	"bytes"
	"encoding/hex"
	"errors"
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

var descriptorTests = []struct {
	name string
	in   string
	n    int
	want Descriptor
}{
	{"start", "10 9d", 1, Descriptor{Start: true}},
	{"continuation pid 3", "03", 1, Descriptor{PartitionID: 3}},
	{"reserved bits ignored", "4f", 1, Descriptor{PartitionID: 7}},
	{"empty extension", "80 00", 2, Descriptor{Extended: true}},
	{"7-bit picture id", "90 80 12", 3, Descriptor{Extended: true, Start: true, HasPictureID: true, PictureID: 0x12}},
	{"15-bit picture id", "90 80 81 23", 4, Descriptor{Extended: true, Start: true, HasPictureID: true,
		LongPictureID: true, PictureID: 0x0123}},
	{"max 15-bit picture id", "80 80 ff ff", 4, Descriptor{Extended: true, HasPictureID: true,
		LongPictureID: true, PictureID: 0x7fff}},
	{"everything", "b0 f0 80 05 07 a3 00", 6, Descriptor{Extended: true, NonReference: true, Start: true,
		HasPictureID: true, LongPictureID: true, PictureID: 5, HasTL0PICIDX: true, TL0PICIDX: 7,
		HasTID: true, TID: 2, LayerSync: true, HasKeyIdx: true, KeyIdx: 3}},
	{"keyidx only", "80 10 e3", 3, Descriptor{Extended: true, HasKeyIdx: true, KeyIdx: 3}},
	{"tid only", "80 20 ff", 3, Descriptor{Extended: true, HasTID: true, TID: 3, LayerSync: true}},
	{"tl0picidx only", "80 40 09", 3, Descriptor{Extended: true, HasTL0PICIDX: true, TL0PICIDX: 9}},
}

func TestDescriptorUnmarshal(t *testing.T) {
	for _, tt := range descriptorTests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.in)
			var d Descriptor
			n, err := d.Unmarshal(b)
			if err != nil || n != tt.n || d != tt.want {
				t.Fatalf("got %d %v %+v, want %d %+v", n, err, d, tt.n, tt.want)
			}
			// Every shorter prefix of the descriptor is an error.
			for k := range tt.n {
				d = Descriptor{Start: true}
				if n, err := d.Unmarshal(b[:k]); !errors.Is(err, ErrShort) || n != 0 || d != (Descriptor{}) {
					t.Fatalf("prefix %d: %d %v %+v", k, n, err, d)
				}
			}
			// Writing it back gives the same descriptor (reserved bits
			// cleared).
			out := tt.want.MarshalTo(nil)
			var d2 Descriptor
			if _, err := d2.Unmarshal(append(out, 0)); err != nil || d2 != tt.want {
				t.Fatalf("round trip %x -> %+v", out, d2)
			}
		})
	}
}

func TestDescriptorMarshal(t *testing.T) {
	d := Descriptor{Start: true, HasPictureID: true, LongPictureID: true, PictureID: 0x1234}
	if got := d.MarshalTo([]byte{0xaa}); !bytes.Equal(got, unhex(t, "aa 90 80 92 34")) {
		t.Fatalf("%x", got)
	}
	if got := (&Descriptor{Start: true}).MarshalTo(nil); !bytes.Equal(got, []byte{0x10}) {
		t.Fatalf("%x", got)
	}
	d = Descriptor{HasPictureID: true, PictureID: 0x1ff} // cut to 7 bits
	if got := d.MarshalTo(nil); !bytes.Equal(got, unhex(t, "80 80 7f")) {
		t.Fatalf("%x", got)
	}
}

func TestKeyframeSize(t *testing.T) {
	frames := readIVF(t)
	key := frames[0]
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), key...)
		f(b)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		w, h int
		ok   bool
	}{
		{"keyframe", key, 640, 480, true},
		{"inter frame", frames[1], 0, 0, false},
		{"empty", nil, 0, 0, false},
		{"header only", key[:10], 0, 0, false}, // first partition missing
		{"truncated header", key[:9], 0, 0, false},
		{"bad start code", mod(func(b []byte) { b[5] = 0x2b }), 0, 0, false},
		{"zero width", mod(func(b []byte) { b[6], b[7] = 0, 0 }), 0, 0, false},
		{"zero height", mod(func(b []byte) { b[8], b[9] = 0, 0xc0 }), 0, 0, false},
		{"scale bits", mod(func(b []byte) { b[7] |= 0xc0; b[9] |= 0x40 }), 640, 480, true},
		{"first partition past end", mod(func(b []byte) { b[2] = 0xff }), 0, 0, false},
	}
	for _, tt := range tests {
		w, h, ok := KeyframeSize(tt.in)
		if w != tt.w || h != tt.h || ok != tt.ok || IsKeyframe(tt.in) != tt.ok {
			t.Errorf("%s: %d %d %v", tt.name, w, h, ok)
		}
	}
}
