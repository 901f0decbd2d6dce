// Package wire reads and writes big-endian protocol fields with every length
// checked, so that no codec built on it can read past the datagram it was
// given. A Reader that runs short remembers it: every later read returns zero
// values and Err reports ErrShort, so a parser can read a whole structure and
// check once at the end (the crypto/cryptobyte idea, without allocation).
package wire

import "errors"

// ErrShort is reported when a read runs past the end of the input.
var ErrShort = errors.New("wire: input too short")

// Reader consumes a byte slice from the front. The zero value reads nothing.
type Reader struct {
	b   []byte
	bad bool
}

// NewReader returns a Reader over b. It never copies or modifies b.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Len is the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) }

// Empty reports whether every byte has been read.
func (r *Reader) Empty() bool { return len(r.b) == 0 }

// Err is ErrShort once any read ran past the end, else nil.
func (r *Reader) Err() error {
	if r.bad {
		return ErrShort
	}
	return nil
}

// OK reports whether no read has run short.
func (r *Reader) OK() bool { return !r.bad }

// Rest returns the unread bytes and consumes them.
func (r *Reader) Rest() []byte {
	b := r.b
	r.b = r.b[len(r.b):]
	return b
}

// Peek returns the unread bytes without consuming them.
func (r *Reader) Peek() []byte { return r.b }

func (r *Reader) take(n int) []byte {
	if r.bad || n < 0 || n > len(r.b) {
		r.bad = true
		r.b = r.b[len(r.b):]
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// Bytes returns the next n bytes (a sub-slice of the input, capacity clipped
// so appending to it cannot overwrite what follows).
func (r *Reader) Bytes(n int) []byte { return r.take(n) }

// Skip discards n bytes.
func (r *Reader) Skip(n int) { r.take(n) }

// U8 reads one byte.
func (r *Reader) U8() uint8 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// U16 reads a big-endian uint16.
func (r *Reader) U16() uint16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return uint16(b[0])<<8 | uint16(b[1])
}

// U24 reads a big-endian 24-bit value.
func (r *Reader) U24() uint32 {
	b := r.take(3)
	if b == nil {
		return 0
	}
	return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
}

// U32 reads a big-endian uint32.
func (r *Reader) U32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// U48 reads a big-endian 48-bit value (DTLS record sequence numbers).
func (r *Reader) U48() uint64 {
	b := r.take(6)
	if b == nil {
		return 0
	}
	return uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 |
		uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
}

// U64 reads a big-endian uint64.
func (r *Reader) U64() uint64 {
	hi := uint64(r.U32())
	lo := uint64(r.U32())
	return hi<<32 | lo
}

// Vec8 reads a vector with a one-byte length prefix.
func (r *Reader) Vec8() []byte { return r.take(int(r.U8())) }

// Vec16 reads a vector with a two-byte length prefix.
func (r *Reader) Vec16() []byte { return r.take(int(r.U16())) }

// Vec24 reads a vector with a three-byte length prefix.
func (r *Reader) Vec24() []byte { return r.take(int(r.U24())) }

// Sub returns a Reader over the next n bytes and consumes them. If fewer
// than n remain, both r and the returned Reader are marked short.
func (r *Reader) Sub(n int) Reader {
	b := r.take(n)
	if b == nil && n != 0 {
		return Reader{bad: true}
	}
	return Reader{b: b}
}

// Builder appends big-endian fields to a caller-owned slice. It never
// allocates when the slice has room.
type Builder struct {
	B []byte
}

// NewBuilder starts appending at dst[len(dst):].
func NewBuilder(dst []byte) Builder { return Builder{B: dst} }

// Len is the length of the built slice.
func (w *Builder) Len() int { return len(w.B) }

// U8 appends one byte.
func (w *Builder) U8(v uint8) { w.B = append(w.B, v) }

// U16 appends a big-endian uint16.
func (w *Builder) U16(v uint16) { w.B = append(w.B, byte(v>>8), byte(v)) }

// U24 appends the low 24 bits of v, big-endian.
func (w *Builder) U24(v uint32) { w.B = append(w.B, byte(v>>16), byte(v>>8), byte(v)) }

// U32 appends a big-endian uint32.
func (w *Builder) U32(v uint32) {
	w.B = append(w.B, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// U48 appends the low 48 bits of v, big-endian.
func (w *Builder) U48(v uint64) {
	w.B = append(w.B, byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// U64 appends a big-endian uint64.
func (w *Builder) U64(v uint64) { w.U32(uint32(v >> 32)); w.U32(uint32(v)) }

// Bytes appends b.
func (w *Builder) Bytes(b []byte) { w.B = append(w.B, b...) }

// Zeros appends n zero bytes.
func (w *Builder) Zeros(n int) {
	for i := 0; i < n; i++ {
		w.B = append(w.B, 0)
	}
}

// Mark returns the current length, for a later Put16/Put24 of a length
// prefix once the body is known.
func (w *Builder) Mark() int { return len(w.B) }

// Put16 overwrites two bytes at off with v.
func (w *Builder) Put16(off int, v uint16) { w.B[off] = byte(v >> 8); w.B[off+1] = byte(v) }

// Put24 overwrites three bytes at off with the low 24 bits of v.
func (w *Builder) Put24(off int, v uint32) {
	w.B[off] = byte(v >> 16)
	w.B[off+1] = byte(v >> 8)
	w.B[off+2] = byte(v)
}

// Put32 overwrites four bytes at off with v.
func (w *Builder) Put32(off int, v uint32) {
	w.B[off] = byte(v >> 24)
	w.B[off+1] = byte(v >> 16)
	w.B[off+2] = byte(v >> 8)
	w.B[off+3] = byte(v)
}
