// Package jpeg is a baseline JPEG encoder (ITU-T T.81) for the 4:2:0
// pictures a VP8 decoder produces: it reads the Y, Cb and Cr planes as they
// are (no colour conversion, no resampling), transforms with an integer AAN
// DCT whose scale factors are folded into the quantizer, and codes with the
// Annex K Huffman tables. An Encoder keeps its buffers, so encoding pictures
// of one size allocates nothing after the first.
//
// The output is a plain sequential baseline JPEG with a JFIF header: three
// components, Y sampled 2x2 against Cb and Cr, which every decoder reads.
package jpeg

import (
	"errors"
	"image"
	"io"
	"math/bits"
)

// ErrUnsupported is returned for pictures that are not 4:2:0 YCbCr or whose
// size is outside what a baseline JPEG carries.
var ErrUnsupported = errors.New("jpeg: only 4:2:0 YCbCr pictures of 1..65535 pixels a side")

// Encoder encodes pictures; its zero value is ready. It is not safe for
// concurrent use: keep one per goroutine.
type Encoder struct {
	out     []byte
	quality int
	// recip[t][i] is 2^recipShift / divisor of coefficient i (natural order)
	// of table t, the divisor folding in the DCT's scale factors.
	recip [2][64]int32
	// dqt holds the quantization tables as written, in zigzag order.
	dqt [2][64]uint8
	blk [64]int
	// bit writer
	acc   uint64
	nbits uint
}

// huffCode[t][sym] is a code in its low 24 bits and its length in the high 8.
var huffCode = func() (c [4][256]uint32) {
	for t, s := range huffSpecs {
		code, k := uint32(0), 0
		for n := 1; n <= 16; n++ {
			for range s.counts[n-1] {
				c[t][s.syms[k]] = uint32(n)<<24 | code
				code++
				k++
			}
			code <<= 1
		}
	}
	return c
}()

// aan[k] is the scale of output k of the AAN transform: cos(k*pi/16)*sqrt(2),
// 1 for k = 0 (Arai, Agui, Nakajima 1988; see the IJG "fast" DCT notes).
var aan = [8]float64{1, 1.387039845, 1.306562965, 1.175875602, 1, 0.785694958, 0.541196100, 0.275899379}

const (
	// constBits is the fixed-point precision of the DCT's multipliers.
	constBits = 14
	// inBits scales the samples up before the transform to keep precision
	// through the integer butterflies.
	inBits = 3
	// recipShift is the precision of the quantizer's reciprocals.
	recipShift = 26
)

// Fixed-point multipliers of the AAN butterflies.
const (
	c0707 = 11585 // 0.707106781 * 2^14
	c0382 = 6270  // 0.382683433 * 2^14
	c0541 = 8867  // 0.541196100 * 2^14
	c1306 = 21407 // 1.306562965 * 2^14
)

// setQuality scales the Annex K tables the way the IJG library does (so
// "quality 75" means what it means elsewhere) and derives the reciprocals.
func (e *Encoder) setQuality(q int) {
	if q == e.quality {
		return
	}
	e.quality = q
	q = min(max(q, 1), 100)
	scale := 200 - 2*q
	if q < 50 {
		scale = 5000 / q
	}
	for t := range 2 {
		for i := range 64 {
			v := (int(baseQuant[t][i])*scale + 50) / 100
			v = min(max(v, 1), 255)
			u, w := i>>3, i&7
			div := float64(v) * aan[u] * aan[w] * 8 * float64(int(1)<<inBits)
			e.recip[t][i] = int32(float64(int64(1)<<recipShift)/div + 0.5)
		}
		for z := range 64 {
			e.dqt[t][z] = uint8(min(max((int(baseQuant[t][zigzag[z]])*scale+50)/100, 1), 255))
		}
	}
}

// Encode writes img as a baseline JPEG of the given quality (1..100, as for
// image/jpeg) to w.
func (e *Encoder) Encode(w io.Writer, img *image.YCbCr, quality int) error {
	b, err := e.Append(e.out[:0], img, quality)
	if err != nil {
		return err
	}
	e.out = b[:0]
	_, err = w.Write(b)
	return err
}

// Append appends the JPEG of img to dst.
func (e *Encoder) Append(dst []byte, img *image.YCbCr, quality int) ([]byte, error) {
	r := img.Rect
	wd, ht := r.Dx(), r.Dy()
	if img.SubsampleRatio != image.YCbCrSubsampleRatio420 || wd < 1 || ht < 1 || wd > 65535 || ht > 65535 {
		return dst, ErrUnsupported
	}
	e.setQuality(quality)
	dst = e.header(dst, wd, ht)
	e.acc, e.nbits = 0, 0
	var dcY, dcCb, dcCr int32
	yp, cb, cr := img.Y[img.YOffset(r.Min.X, r.Min.Y):], img.Cb[img.COffset(r.Min.X, r.Min.Y):], img.Cr[img.COffset(r.Min.X, r.Min.Y):]
	cw, ch := (wd+1)/2, (ht+1)/2
	for my := 0; my < ht; my += 16 {
		for mx := 0; mx < wd; mx += 16 {
			for b := range 4 {
				x, y := mx+(b&1)*8, my+(b>>1)*8
				e.load(yp, img.YStride, x, y, wd, ht)
				dst = e.block(dst, 0, &dcY)
			}
			e.load(cb, img.CStride, mx/2, my/2, cw, ch)
			dst = e.block(dst, 1, &dcCb)
			e.load(cr, img.CStride, mx/2, my/2, cw, ch)
			dst = e.block(dst, 1, &dcCr)
		}
	}
	dst = e.flush(dst)
	return append(dst, 0xff, 0xd9), nil // EOI
}

// load fills e.blk with the 8x8 samples at (x, y) of a w x h plane, level
// shifted (T.81 A.3.1) and scaled by 2^inBits; samples past the right or
// bottom edge repeat the last column or row.
func (e *Encoder) load(p []byte, stride, x, y, w, h int) {
	if x+8 <= w && y+8 <= h {
		for j := range 8 {
			row := p[(y+j)*stride+x:]
			row = row[:8]
			d := e.blk[j*8 : j*8+8 : j*8+8]
			d[0] = (int(row[0]) - 128) << inBits
			d[1] = (int(row[1]) - 128) << inBits
			d[2] = (int(row[2]) - 128) << inBits
			d[3] = (int(row[3]) - 128) << inBits
			d[4] = (int(row[4]) - 128) << inBits
			d[5] = (int(row[5]) - 128) << inBits
			d[6] = (int(row[6]) - 128) << inBits
			d[7] = (int(row[7]) - 128) << inBits
		}
		return
	}
	for j := range 8 {
		yy := min(y+j, h-1)
		for i := range 8 {
			xx := min(x+i, w-1)
			e.blk[j*8+i] = (int(p[yy*stride+xx]) - 128) << inBits
		}
	}
}

// fdct is the AAN forward DCT of one row or column (stride s), in place,
// unnormalized: output k is scaled by aan[k]*... and corrected in the
// quantizer.
func fdct(d []int, s int) {
	d0, d1, d2, d3 := d[0], d[s], d[2*s], d[3*s]
	d4, d5, d6, d7 := d[4*s], d[5*s], d[6*s], d[7*s]
	t0, t7 := d0+d7, d0-d7
	t1, t6 := d1+d6, d1-d6
	t2, t5 := d2+d5, d2-d5
	t3, t4 := d3+d4, d3-d4

	t10, t13 := t0+t3, t0-t3
	t11, t12 := t1+t2, t1-t2
	d[0] = t10 + t11
	d[4*s] = t10 - t11
	z1 := (t12 + t13) * c0707 >> constBits
	d[2*s] = t13 + z1
	d[6*s] = t13 - z1

	t10 = t4 + t5
	t11 = t5 + t6
	t12 = t6 + t7
	z5 := (t10 - t12) * c0382 >> constBits
	z2 := t10*c0541>>constBits + z5
	z4 := t12*c1306>>constBits + z5
	z3 := t11 * c0707 >> constBits
	z11, z13 := t7+z3, t7-z3
	d[5*s] = z13 + z2
	d[3*s] = z13 - z2
	d[s] = z11 + z4
	d[7*s] = z11 - z4
}

// block transforms, quantizes and codes e.blk with table t (0 luma, 1
// chroma); dc is the component's DC predictor (T.81 F.1.1.5.1).
func (e *Encoder) block(dst []byte, t int, dc *int32) []byte {
	blk := &e.blk
	for j := 0; j < 64; j += 8 {
		fdct(blk[j:j+8:j+8], 1)
	}
	for i := range 8 {
		fdct(blk[i:i+57:i+57], 8)
	}
	rc := &e.recip[t]
	var q [64]int32
	for z := range 64 {
		i := zigzag[z] & 63
		v := blk[i]
		sg := v >> 63 // 0 or -1
		m := ((v^sg)-sg)*int(rc[i]) + 1<<(recipShift-1)
		q[z] = int32(((m >> recipShift) ^ sg) - sg)
	}
	dcT, acT := &huffCode[2*t], &huffCode[2*t+1]
	diff := q[0] - *dc
	*dc = q[0]
	dst = e.emit(dst, dcT, 0, diff)
	run := uint32(0)
	for z := 1; z < 64; z++ {
		v := q[z]
		if v == 0 {
			run++
			continue
		}
		for run > 15 {
			c := acT[0xf0]
			dst = e.put(dst, c&0xffffff, uint(c>>24))
			run -= 16
		}
		dst = e.emit(dst, acT, run<<4, v)
		run = 0
	}
	if run > 0 {
		c := acT[0x00] // EOB
		dst = e.put(dst, c&0xffffff, uint(c>>24))
	}
	return dst
}

// emit codes value v as its size category (with run in the high nibble)
// followed by its magnitude bits (T.81 F.1.2.1.1, F.1.2.2.1).
func (e *Encoder) emit(dst []byte, tab *[256]uint32, run uint32, v int32) []byte {
	a := v
	if v < 0 {
		a = -v
		v-- // ones' complement of the magnitude in the low bits
	}
	size := uint(bits.Len32(uint32(a)))
	c := tab[run|uint32(size)]
	n := uint(c >> 24)
	return e.put(dst, (c&0xffffff)<<size|uint32(v)&(1<<size-1), n+size)
}

// put appends the n low bits of b (n <= 32) to the entropy-coded data,
// stuffing a zero byte after every 0xFF (T.81 F.1.2.3).
func (e *Encoder) put(dst []byte, b uint32, n uint) []byte {
	e.acc = e.acc<<n | uint64(b)
	e.nbits += n
	if e.nbits < 32 {
		return dst
	}
	e.nbits -= 32
	w := uint32(e.acc >> e.nbits)
	// No 0xFF byte in w: no byte of ^w is zero.
	if (^w-0x01010101)&w&0x80808080 == 0 {
		return append(dst, byte(w>>24), byte(w>>16), byte(w>>8), byte(w))
	}
	for s := 24; s >= 0; s -= 8 {
		c := byte(w >> s)
		dst = append(dst, c)
		if c == 0xff {
			dst = append(dst, 0)
		}
	}
	return dst
}

// flush writes the remaining bits, padded with ones to a byte (T.81 F.1.2.3).
func (e *Encoder) flush(dst []byte) []byte {
	for e.nbits >= 8 {
		e.nbits -= 8
		c := byte(e.acc >> e.nbits)
		dst = append(dst, c)
		if c == 0xff {
			dst = append(dst, 0)
		}
	}
	if e.nbits > 0 {
		pad := 8 - e.nbits
		c := byte(e.acc<<pad) | byte(1<<pad-1)
		dst = append(dst, c)
		if c == 0xff {
			dst = append(dst, 0)
		}
	}
	e.acc, e.nbits = 0, 0
	return dst
}

// header appends SOI, JFIF APP0, DQT, SOF0, DHT and SOS.
func (e *Encoder) header(dst []byte, w, h int) []byte {
	dst = append(dst, 0xff, 0xd8) // SOI
	// APP0 JFIF 1.01, no density, no thumbnail.
	dst = append(dst, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0)
	// DQT: two 8-bit tables (T.81 B.2.4.1).
	dst = append(dst, 0xff, 0xdb, 0, 2+2*65)
	for t := range 2 {
		dst = append(dst, byte(t))
		dst = append(dst, e.dqt[t][:]...)
	}
	// SOF0: baseline, 8-bit, three components; Y 2x2, Cb and Cr 1x1 (B.2.2).
	dst = append(dst, 0xff, 0xc0, 0, 17, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 3,
		1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	// DHT: the four Annex K tables (B.2.4.2).
	n := 2
	for _, s := range huffSpecs {
		n += 17 + len(s.syms)
	}
	dst = append(dst, 0xff, 0xc4, byte(n>>8), byte(n))
	for i, s := range huffSpecs {
		dst = append(dst, byte(i&1)<<4|byte(i>>1)) // class (0 DC, 1 AC), id
		dst = append(dst, s.counts[:]...)
		dst = append(dst, s.syms...)
	}
	// SOS: the three components in one interleaved scan (B.2.3).
	return append(dst, 0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0)
}
