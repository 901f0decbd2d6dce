package h264dec

import (
	"encoding/binary"
	"math/bits"
)

// bitReader reads an RBSP (emulation prevention already removed) most
// significant bit first, as the syntax of ITU-T H.264 §7.2 describes. Reading
// past the end yields zero bits and is detected by overrun(), so parsers check
// once per syntax structure instead of on every read.
type bitReader struct {
	buf  []byte
	pos  int // bit position
	size int // size in bits
	stop int // position of rbsp_stop_one_bit, -1 if none
}

func (r *bitReader) init(b []byte) {
	r.buf = b
	r.pos = 0
	r.size = len(b) * 8
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	r.stop = -1
	if n > 0 {
		r.stop = (n-1)*8 + 7 - bits.TrailingZeros8(b[n-1])
	}
}

func (r *bitReader) overrun() bool { return r.pos > r.size }

// peek32 returns the next 32 bits, zero-padded past the end.
func (r *bitReader) peek32() uint32 {
	i := r.pos >> 3
	var v uint64
	if i+8 <= len(r.buf) {
		v = binary.BigEndian.Uint64(r.buf[i:])
	} else {
		for k := 0; k < 8; k++ {
			v <<= 8
			if i+k < len(r.buf) {
				v |= uint64(r.buf[i+k])
			}
		}
	}
	v <<= uint(r.pos & 7)
	return uint32(v >> 32)
}

func (r *bitReader) skip(n int) { r.pos += n }

// u reads n bits, 0 <= n <= 32 (§7.2 u(n)).
func (r *bitReader) u(n int) uint32 {
	if n == 0 {
		return 0
	}
	v := r.peek32() >> uint(32-n)
	r.pos += n
	return v
}

func (r *bitReader) flag() bool { return r.u(1) == 1 }

// ue reads an Exp-Golomb code (§9.1). Codes longer than 32 bits are invalid
// for every syntax element we parse; they mark the reader as overrun.
func (r *bitReader) ue() uint32 {
	lz := bits.LeadingZeros32(r.peek32())
	if lz >= 32 {
		r.pos = r.size + 1
		return 0
	}
	r.pos += lz
	v := uint64(1)<<uint(lz) | uint64(r.u(lz+1)&(1<<uint(lz)-1))
	return uint32(v - 1)
}

// se reads a signed Exp-Golomb code (§9.1.1).
func (r *bitReader) se() int32 {
	k := r.ue()
	if k&1 == 1 {
		return int32((k + 1) >> 1)
	}
	return -int32(k >> 1)
}

// moreRBSPData implements more_rbsp_data() (§7.2): true when anything but
// the rbsp_trailing_bits remains.
func (r *bitReader) moreRBSPData() bool { return r.pos < r.stop }

// unescape removes emulation_prevention_three_byte (§7.4.1) from a NAL unit's
// payload into dst (reused) and returns it.
func unescape(dst, nal []byte) []byte {
	dst = dst[:0]
	zeros := 0
	for _, b := range nal {
		if zeros >= 2 && b == 3 {
			zeros = 0
			continue
		}
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
		dst = append(dst, b)
	}
	return dst
}

// nextNAL returns the NAL unit of an Annex B byte stream (§B.2) that starts
// at or after offset i, and the offset to continue from. ok is false when no
// NAL unit is left. Trailing zero bytes (trailing_zero_8bits, the first byte
// of a four-byte start code) are trimmed.
func nextNAL(b []byte, i int) (nal []byte, next int, ok bool) {
	start := -1
	for ; i+2 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			start = i + 3
			break
		}
	}
	if start < 0 {
		return nil, len(b), false
	}
	// 00 00 00 and 00 00 01 cannot occur inside a NAL unit (§7.4.1), so
	// either ends it.
	end := len(b)
	for j := start; j+2 < len(b); j++ {
		if b[j] == 0 && b[j+1] == 0 && b[j+2] <= 1 {
			end = j
			break
		}
	}
	nal = b[start:end]
	for len(nal) > 0 && nal[len(nal)-1] == 0 {
		nal = nal[:len(nal)-1]
	}
	return nal, end, true
}
