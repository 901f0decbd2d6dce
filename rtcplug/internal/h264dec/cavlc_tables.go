package h264dec

import (
	"math/bits"
	"strings"
)

// CAVLC code tables of ITU-T H.264 §9.2, transcribed as bit strings.
//
// coeff_token (Table 9-5): one string per nC range; codes are listed by
// TotalCoeff 0..16, and for each by TrailingOnes 0..min(TotalCoeff, 3).
var coeffTokenCodes = [...]string{
	// 0 <= nC < 2
	`1
	000101 01
	00000111 000100 001
	000000111 00000110 0000101 00011
	0000000111 000000110 00000101 000011
	00000000111 0000000110 000000101 0000100
	0000000001111 00000000110 0000000101 00000100
	0000000001011 0000000001110 00000000101 000000100
	0000000001000 0000000001010 0000000001101 0000000100
	00000000001111 00000000001110 0000000001001 00000000100
	00000000001011 00000000001010 00000000001101 0000000001100
	000000000001111 000000000001110 00000000001001 00000000001100
	000000000001011 000000000001010 000000000001101 00000000001000
	0000000000001111 000000000000001 000000000001001 000000000001100
	0000000000001011 0000000000001110 0000000000001101 000000000001000
	0000000000000111 0000000000001010 0000000000001001 0000000000001100
	0000000000000100 0000000000000110 0000000000000101 0000000000001000`,
	// 2 <= nC < 4
	`11
	001011 10
	000111 00111 011
	0000111 001010 001001 0101
	00000111 000110 000101 0100
	00000100 0000110 0000101 00110
	000000111 00000110 00000101 001000
	00000001111 000000110 000000101 000100
	00000001011 00000001110 00000001101 0000100
	000000001111 00000001010 00000001001 000000100
	000000001011 000000001110 000000001101 00000001100
	000000001000 000000001010 000000001001 00000001000
	0000000001111 0000000001110 0000000001101 000000001100
	0000000001011 0000000001010 0000000001001 0000000001100
	0000000000111 00000000001011 0000000000110 0000000001000
	00000000001001 00000000001000 00000000001010 0000000000001
	00000000000111 00000000000110 00000000000101 00000000000100`,
	// 4 <= nC < 8
	`1111
	001111 1110
	001011 01111 1101
	001000 01100 01110 1100
	0001111 01010 01011 1011
	0001011 01000 01001 1010
	0001001 001110 001101 1001
	0001000 001010 001001 1000
	00001111 0001110 0001101 01101
	00001011 00001110 0001010 001100
	000001111 00001010 00001101 0001100
	000001011 000001110 00001001 00001100
	000001000 000001010 000001101 00001000
	0000001101 000000111 000001001 000001100
	0000001001 0000001100 0000001011 0000001010
	0000000101 0000001000 0000000111 0000000110
	0000000001 0000000100 0000000011 0000000010`,
	// 8 <= nC: a 6-bit fixed-length code, generated in fixedCoeffTokenCodes.
	``,
	// nC == -1 (chroma DC, 4:2:0)
	`01
	000111 1
	000100 000110 001
	000011 0000011 0000010 000101
	000010 00000011 00000010 0000000`,
}

// total_zeros for 4x4 blocks (Tables 9-7, 9-8), by tzVlcIndex 1..15; values
// 0, 1, 2 ... in order.
var totalZerosCodes = [15]string{
	"1 011 010 0011 0010 00011 00010 000011 000010 0000011 0000010 00000011 00000010 000000011 000000010 000000001",
	"111 110 101 100 011 0101 0100 0011 0010 00011 00010 000011 000010 000001 000000",
	"0101 111 110 101 0100 0011 100 011 0010 00011 00010 000001 00001 000000",
	"00011 111 0101 0100 110 101 100 0011 011 0010 00010 00001 00000",
	"0101 0100 0011 111 110 101 100 011 0010 00001 0001 00000",
	"000001 00001 111 110 101 100 011 010 0001 001 000000",
	"000001 00001 101 100 011 11 010 0001 001 000000",
	"000001 0001 00001 011 11 10 010 001 000000",
	"000001 000000 0001 11 10 001 01 00001",
	"00001 00000 001 11 10 01 0001",
	"0000 0001 001 010 1 011",
	"0000 0001 01 1 001",
	"000 001 1 01",
	"00 01 1",
	"0 1",
}

// total_zeros for 4:2:0 chroma DC (Table 9-9a), by tzVlcIndex 1..3.
var totalZerosChromaDCCodes = [3]string{
	"1 01 001 000",
	"1 01 00",
	"1 0",
}

// run_before (Table 9-10) by zerosLeft 1..6 and > 6.
var runBeforeCodes = [7]string{
	"1 0",
	"1 01 00",
	"11 10 01 00",
	"11 10 01 001 000",
	"11 10 011 010 001 000",
	"11 000 001 011 010 101 100",
	"111 110 101 100 011 010 001 0001 00001 000001 0000001 00000001 000000001 0000000001 00000000001",
}

// vlcEntry is a decoded value and its code length; length 0 marks an
// invalid code.
type vlcEntry struct {
	val int16
	len uint8
}

// vlcTable decodes a prefix code by its count of leading zeros and then the
// bits after the first one.
type vlcTable struct {
	maxLz   int
	allZero bool // a code of maxLz zeros exists
	sub     [17]struct {
		k int
		e []vlcEntry
	}
}

func newVLC(codes []string, vals []int16) *vlcTable {
	t := &vlcTable{}
	for _, c := range codes {
		z := strings.IndexByte(c, '1')
		if z < 0 {
			z = len(c)
			t.allZero = true
		}
		t.maxLz = max(t.maxLz, z)
		if z < len(c) {
			t.sub[z].k = max(t.sub[z].k, len(c)-z-1)
		}
	}
	for i := range t.sub {
		t.sub[i].e = make([]vlcEntry, 1<<uint(t.sub[i].k))
	}
	for n, c := range codes {
		z := strings.IndexByte(c, '1')
		if z < 0 {
			t.sub[len(c)].e[0] = vlcEntry{vals[n], uint8(len(c))}
			continue
		}
		s := &t.sub[z]
		rest := c[z+1:]
		var idx int
		for _, b := range rest {
			idx = idx<<1 | int(b-'0')
		}
		pad := s.k - len(rest)
		for j := 0; j < 1<<uint(pad); j++ {
			s.e[idx<<uint(pad)|j] = vlcEntry{vals[n], uint8(len(c))}
		}
	}
	return t
}

// read decodes one code; ok is false for an invalid code.
func (t *vlcTable) read(r *bitReader) (int, bool) {
	v := r.peek32()
	lz := bits.LeadingZeros32(v)
	if lz > t.maxLz {
		if !t.allZero {
			return 0, false
		}
		lz = t.maxLz
	}
	s := &t.sub[lz]
	var e vlcEntry
	if s.k == 0 {
		e = s.e[0]
	} else {
		e = s.e[(v<<uint(lz+1))>>uint(32-s.k)]
	}
	if e.len == 0 {
		return 0, false
	}
	r.pos += int(e.len)
	return int(e.val), true
}

func fields(s string) []string { return strings.Fields(s) }

// coeffTokenTables decode to TotalCoeff<<2 | TrailingOnes.
// Index: 0..3 by nC range as in coeffTokenCodes, 4 for chroma DC.
var coeffTokenTables = func() (t [5]*vlcTable) {
	for i, s := range coeffTokenCodes {
		var codes []string
		var vals []int16
		if i == 3 {
			// 8 <= nC: xxxxyy with xxxx = TotalCoeff-1, yy = TrailingOnes;
			// 000011 is TotalCoeff 0.
			codes = append(codes, "000011")
			vals = append(vals, 0)
			for tc := 1; tc <= 16; tc++ {
				for t1 := 0; t1 <= min(tc, 3); t1++ {
					c := (tc-1)<<2 | t1
					b := make([]byte, 6)
					for k := range b {
						b[k] = '0' + byte(c>>uint(5-k)&1)
					}
					codes = append(codes, string(b))
					vals = append(vals, int16(tc<<2|t1))
				}
			}
		} else {
			codes = fields(s)
			for tc := 0; len(vals) < len(codes); tc++ {
				for t1 := 0; t1 <= min(tc, 3); t1++ {
					vals = append(vals, int16(tc<<2|t1))
				}
			}
		}
		t[i] = newVLC(codes, vals)
	}
	return
}()

func seqVLC(s string) *vlcTable {
	codes := fields(s)
	vals := make([]int16, len(codes))
	for i := range vals {
		vals[i] = int16(i)
	}
	return newVLC(codes, vals)
}

var (
	totalZerosTables = func() (t [15]*vlcTable) {
		for i, s := range totalZerosCodes {
			t[i] = seqVLC(s)
		}
		return
	}()
	totalZerosChromaDCTables = func() (t [3]*vlcTable) {
		for i, s := range totalZerosChromaDCCodes {
			t[i] = seqVLC(s)
		}
		return
	}()
	runBeforeTables = func() (t [7]*vlcTable) {
		for i, s := range runBeforeCodes {
			t[i] = seqVLC(s)
		}
		return
	}()
)
