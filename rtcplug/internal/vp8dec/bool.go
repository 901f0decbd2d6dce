package vp8dec

import (
	"encoding/binary"
	"math/bits"
)

// boolDecoder is the boolean entropy decoder of RFC 6386 section 7. The
// unread bits sit at the top of a 64-bit window that is refilled up to eight
// bytes at a time; past the end of its partition the stream reads as zero
// bits, as in the reference decoder, so a short partition is not an error.
type boolDecoder struct {
	buf   []byte
	pos   int
	value uint64 // next bits of the stream, most significant first
	nbits int    // how many bits of the stream are loaded; < 8 only at the end
	rng   uint32 // range minus one, in [127, 254] between calls
	wild  bool   // decoded a coefficient beyond maxCoeff
}

func (d *boolDecoder) init(b []byte) {
	*d = boolDecoder{buf: b, rng: 254}
	d.fill()
}

// fill loads as many whole bytes as fit below the loaded bits. A fast load
// may also set some bits below nbits; they are the stream's own next bits,
// so the next fill ORs the same values over them.
func (d *boolDecoder) fill() {
	if d.pos+8 <= len(d.buf) {
		x := binary.BigEndian.Uint64(d.buf[d.pos:])
		d.value |= x >> uint(d.nbits)
		n := (64 - d.nbits) >> 3
		d.pos += n
		d.nbits += n << 3
		return
	}
	d.fillTail()
}

// fillTail loads the last bytes one at a time. Past them the window shifts
// in zeros and nbits goes below 8, even negative.
func (d *boolDecoder) fillTail() {
	for d.nbits <= 56 && d.pos < len(d.buf) {
		d.value |= uint64(d.buf[d.pos]) << uint(56-d.nbits)
		d.pos++
		d.nbits += 8
	}
}

// exhausted reports whether the next bool would use bits beyond the end of
// the partition: the reference decoder's "bool error", after which it stops
// reading coefficients (libvpx vp8dx_bool_error).
func (d *boolDecoder) exhausted() bool {
	return d.pos == len(d.buf) && d.nbits < 8
}

// readBool decodes one bool whose probability of being false is prob/256
// (RFC 6386 section 7.3).
func (d *boolDecoder) readBool(prob uint8) bool {
	if d.nbits < 8 {
		d.fill()
	}
	var b bool
	d.value, d.rng, d.nbits, b = decide(d.value, d.rng, d.nbits, prob)
	return b
}

// normShift[r] is the shift that brings a range of r+1 (r in [0, 254]) back
// into [128, 255] (RFC 6386 section 7.3), normRange[r] the shifted range
// minus one.
var normShift, normRange = func() (s, r [256]uint8) {
	for i := 0; i < 255; i++ {
		n := bits.LeadingZeros8(uint8(i + 1))
		s[i] = uint8(n)
		r[i] = uint8((i+1)<<n - 1)
	}
	r[255] = 254
	return s, r
}()

// readFlag is L(1): one bool at probability one half.
func (d *boolDecoder) readFlag() bool { return d.readBool(128) }

// readLiteral is L(n): an n-bit unsigned value, most significant bit first.
func (d *boolDecoder) readLiteral(n int) int {
	v := 0
	for ; n > 0; n-- {
		v <<= 1
		if d.readBool(128) {
			v |= 1
		}
	}
	return v
}

// readSigned is an n-bit magnitude followed by a sign bit (1 = negative).
func (d *boolDecoder) readSigned(n int) int {
	v := d.readLiteral(n)
	if d.readBool(128) {
		return -v
	}
	return v
}

// readOptionalSigned is a flag followed, when set, by readSigned(n).
func (d *boolDecoder) readOptionalSigned(n int) int {
	if !d.readBool(128) {
		return 0
	}
	return d.readSigned(n)
}
