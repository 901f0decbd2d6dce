package wire

import (
	"bytes"
	"testing"
)

func TestReaderFields(t *testing.T) {
	b := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}
	r := NewReader(b)
	if v := r.U8(); v != 1 {
		t.Fatalf("U8 = %d", v)
	}
	if v := r.U16(); v != 0x0203 {
		t.Fatalf("U16 = %#x", v)
	}
	if v := r.U24(); v != 0x040506 {
		t.Fatalf("U24 = %#x", v)
	}
	if v := r.U32(); v != 0x0708090a {
		t.Fatalf("U32 = %#x", v)
	}
	if v := r.U48(); v != 0x0b0c0d0e0f10 {
		t.Fatalf("U48 = %#x", v)
	}
	if v := r.U64(); v != 0x1112131415161718 {
		t.Fatalf("U64 = %#x", v)
	}
	if !r.Empty() || r.Err() != nil {
		t.Fatalf("Empty=%v Err=%v", r.Empty(), r.Err())
	}
}

func TestReaderShortIsSticky(t *testing.T) {
	r := NewReader([]byte{0, 5, 1, 2})
	v := r.Vec16() // claims 5 bytes, only 2 remain
	if v != nil || r.OK() || r.Err() != ErrShort {
		t.Fatalf("Vec16 past end: v=%v ok=%v", v, r.OK())
	}
	if r.U8() != 0 || r.U32() != 0 || r.Bytes(0) != nil {
		t.Fatal("reads after a short read must return zero values")
	}
}

func TestReaderNegativeAndHuge(t *testing.T) {
	r := NewReader(make([]byte, 4))
	if r.Bytes(-1) != nil || r.OK() {
		t.Fatal("negative length must fail")
	}
	r = NewReader(make([]byte, 4))
	if r.Bytes(1<<40) != nil || r.OK() {
		t.Fatal("huge length must fail")
	}
	r = NewReader(make([]byte, 4))
	s := r.Sub(8)
	if s.OK() || r.OK() {
		t.Fatal("Sub past end must mark both readers short")
	}
}

func TestBytesCapacityClipped(t *testing.T) {
	b := []byte{1, 2, 3, 4}
	r := NewReader(b)
	v := r.Bytes(2)
	_ = append(v, 9)
	if b[2] != 3 {
		t.Fatal("append to a read slice overwrote the input")
	}
}

func TestBuilderRoundTrip(t *testing.T) {
	w := NewBuilder(make([]byte, 0, 64))
	w.U8(1)
	w.U16(0x0203)
	w.U24(0x040506)
	w.U32(0x0708090a)
	w.U48(0x0b0c0d0e0f10)
	w.U64(0x1112131415161718)
	m := w.Mark()
	w.U16(0)
	w.Bytes([]byte("abc"))
	w.Put16(m, 3)
	w.Zeros(2)
	r := NewReader(w.B)
	r.Skip(24)
	if got := r.Vec16(); !bytes.Equal(got, []byte("abc")) {
		t.Fatalf("Vec16 = %q", got)
	}
	if r.Len() != 2 || r.Err() != nil {
		t.Fatalf("Len=%d Err=%v", r.Len(), r.Err())
	}
}

func TestBuilderNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		w := NewBuilder(buf[:0])
		w.U32(1)
		w.U48(2)
		w.Bytes([]byte{1, 2, 3})
	})
	if n != 0 {
		t.Fatalf("Builder allocates %v per run", n)
	}
}

// FuzzReader reads arbitrary input as a sequence of length-prefixed vectors;
// no input may panic or yield a slice that reaches outside the input.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 3, 1, 2, 3, 255})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		total := 0
		for !r.Empty() && r.OK() {
			switch r.U8() % 4 {
			case 0:
				total += len(r.Vec8())
			case 1:
				total += len(r.Vec16())
			case 2:
				total += len(r.Vec24())
			default:
				s := r.Sub(int(r.U8()))
				total += len(s.Rest())
			}
		}
		if total > len(b) {
			t.Fatalf("read %d bytes from %d", total, len(b))
		}
	})
}
