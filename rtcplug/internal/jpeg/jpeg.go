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
	"encoding/binary"
	"errors"
	"image"
	"io"
	"math/bits"
	"slices"
)

// ErrUnsupported is returned for pictures that are not 4:2:0 YCbCr or whose
// size is outside what a baseline JPEG carries.
var ErrUnsupported = errors.New("jpeg: only 4:2:0 YCbCr pictures of 1..65535 pixels a side, starting at even coordinates")

// Encoder encodes pictures; its zero value is ready. It is not safe for
// concurrent use: keep one per goroutine.
type Encoder struct {
	out     []byte
	quality int
	// recip[t][z] is 2^recipShift / divisor of coefficient z (zigzag order)
	// of table t, the divisor folding in the DCT's scale factors.
	recip [2][64]int
	// dqt holds the quantization tables as written, in zigzag order.
	dqt  [2][64]uint8
	blk  [8][8]int // the block being transformed
	q    [64]int   // quantized coefficients, zigzag order
	edge [64]byte  // a block past the picture's edge, edges repeated
	// Entropy coder: bits go into acc (its low 64-free bits are pending)
	// and leave eight bytes at a time to buf[pos:].
	buf  []byte
	pos  int
	acc  uint64
	free int
}

// huffCode[t][sym] is the code of symbol sym in table t, for a DC size or
// an AC run/size symbol (size in the low nibble) shifted left by that size,
// ready for the magnitude bits, in the low 32 bits; the length of both in
// the high 32.
var huffCode = func() (c [4][256]uint64) {
	for t, s := range huffSpecs {
		code, k := uint64(0), 0
		for n := 1; n <= 16; n++ {
			for range s.counts[n-1] {
				sym := s.syms[k]
				size := uint(sym & 15)
				c[t][sym] = code<<size | uint64(n+int(size))<<32
				code++
				k++
			}
			code <<= 1
		}
	}
	return c
}()

// sizeMask[s] keeps the low s bits.
var sizeMask = func() (m [16]uint64) {
	for s := range m {
		m[s] = 1<<s - 1
	}
	return m
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
	// Clamp first: a zero Encoder's quality 0 means "no tables yet".
	q = min(max(q, 1), 100)
	if q == e.quality {
		return
	}
	e.quality = q
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
			e.recip[t][unzig[i]] = int(float64(int64(1)<<recipShift)/div + 0.5)
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

// mcuMax bounds the bytes one MCU and the final flush can add: six blocks
// of at most 1,660 bits (a DC code of 11 bits with 11 magnitude bits, 63
// AC codes of 16 bits with 10) and the 63 bits pending before them, all
// doubled for byte stuffing, with room to spare.
const mcuMax = 6*2*208 + 32

// Append appends the JPEG of img to dst.
func (e *Encoder) Append(dst []byte, img *image.YCbCr, quality int) ([]byte, error) {
	r := img.Rect
	wd, ht := r.Dx(), r.Dy()
	// A picture starting at an odd pixel would pair its chroma samples with
	// the wrong luma (4:2:0 samples cover pixel pairs from even coordinates).
	if img.SubsampleRatio != image.YCbCrSubsampleRatio420 || wd < 1 || ht < 1 || wd > 65535 || ht > 65535 ||
		r.Min.X&1 != 0 || r.Min.Y&1 != 0 {
		return dst, ErrUnsupported
	}
	e.setQuality(quality)
	dst = e.header(dst, wd, ht)
	e.buf, e.pos, e.acc, e.free = dst[:cap(dst)], len(dst), 0, 64
	var dcY, dcCb, dcCr int
	yp, cb, cr := img.Y[img.YOffset(r.Min.X, r.Min.Y):], img.Cb[img.COffset(r.Min.X, r.Min.Y):], img.Cr[img.COffset(r.Min.X, r.Min.Y):]
	ys, cs := img.YStride, img.CStride
	cw, ch := (wd+1)/2, (ht+1)/2
	for my := 0; my < ht; my += 16 {
		for mx := 0; mx < wd; mx += 16 {
			if len(e.buf)-e.pos < mcuMax {
				e.grow()
			}
			// T.81 A.2.3: an MCU is the four Y blocks in raster order, then
			// one Cb and one Cr block.
			e.block(yp, ys, mx, my, wd, ht, 0, &dcY)
			e.block(yp, ys, mx+8, my, wd, ht, 0, &dcY)
			e.block(yp, ys, mx, my+8, wd, ht, 0, &dcY)
			e.block(yp, ys, mx+8, my+8, wd, ht, 0, &dcY)
			e.block(cb, cs, mx/2, my/2, cw, ch, 1, &dcCb)
			e.block(cr, cs, mx/2, my/2, cw, ch, 1, &dcCr)
		}
	}
	e.flush()
	// The caller owns dst now.
	dst, e.buf = e.buf[:e.pos], nil
	return append(dst, 0xff, 0xd9), nil // EOI
}

// grow makes room for at least one more MCU, keeping what is written.
func (e *Encoder) grow() {
	b := slices.Grow(e.buf[:e.pos], max(mcuMax, e.pos/2))
	e.buf = b[:cap(b)]
}

// block transforms, quantizes and codes the 8x8 block at (x, y) of a w x h
// plane with table t (0 luma, 1 chroma); dc is the component's DC
// predictor (T.81 F.1.1.5.1).
func (e *Encoder) block(p []byte, stride, x, y, w, h, t int, dc *int) {
	off := y*stride + x
	if x+8 > w || y+8 > h {
		e.fillEdge(p, stride, x, y, w, h)
		p, off, stride = e.edge[:], 0, 8
	}
	rowDCT(&e.blk, p, off, stride)
	colDCT(&e.blk)
	nz := quantize(&e.blk, &e.recip[t], &e.q)
	e.code(nz, dc, &huffCode[2*t], &huffCode[2*t+1])
}

// fillEdge copies the block at (x, y) to e.edge; samples past the right or
// bottom edge repeat the last column or row.
func (e *Encoder) fillEdge(p []byte, stride, x, y, w, h int) {
	for j := range 8 {
		yy := min(y+j, h-1)
		for i := range 8 {
			e.edge[j*8+i] = p[yy*stride+min(x+i, w-1)]
		}
	}
}

// levelShift is T.81 A.3.1's subtraction of 128 from every sample, scaled
// by 2^inBits and summed over a row: in the AAN butterflies a constant
// added to all eight inputs only reaches output 0, so the rows subtract it
// there instead of from each sample.
const levelShift = 8 * 128 << inBits

// rowDCT is the AAN forward DCT (Arai, Agui, Nakajima 1988) of the rows of
// the 8x8 block at p[off:] into blk, unnormalized: output k is scaled by
// aan[k], corrected in the quantizer.
func rowDCT(blk *[8][8]int, p []byte, off, stride int) {
	for j := range 8 {
		r := p[off : off+8 : off+8]
		off += stride
		d := &blk[j]
		x0, x1, x2, x3 := int(r[0]), int(r[1]), int(r[2]), int(r[3])
		x4, x5, x6, x7 := int(r[4]), int(r[5]), int(r[6]), int(r[7])
		t0, t7 := x0+x7, x0-x7
		t1, t6 := x1+x6, x1-x6
		t2, t5 := x2+x5, x2-x5
		t3, t4 := x3+x4, x3-x4

		t10, t13 := t0+t3, t0-t3
		t11, t12 := t1+t2, t1-t2
		d[0] = (t10+t11)<<inBits - levelShift
		d[4] = (t10 - t11) << inBits
		z1 := (t12 + t13) * c0707 >> rowBits
		t13 <<= inBits
		d[2] = t13 + z1
		d[6] = t13 - z1

		t10 = t4 + t5
		t11 = t5 + t6
		t12 = t6 + t7
		z5 := (t10 - t12) * c0382 >> rowBits
		z2 := t10*c0541>>rowBits + z5
		z4 := t12*c1306>>rowBits + z5
		z3 := t11 * c0707 >> rowBits
		t7 <<= inBits
		z11, z13 := t7+z3, t7-z3
		d[5] = z13 + z2
		d[3] = z13 - z2
		d[1] = z11 + z4
		d[7] = z11 - z4
	}
}

// rowBits: the rows work on unscaled samples and scale their sums by
// 2^inBits at the end; a product (x<<inBits)*c>>constBits is exactly
// x*c>>rowBits.
const rowBits = constBits - inBits

// colDCT transforms the columns of blk in place like rowDCT its rows.
func colDCT(blk *[8][8]int) {
	for i := range 8 {
		d0, d1, d2, d3 := blk[0][i], blk[1][i], blk[2][i], blk[3][i]
		d4, d5, d6, d7 := blk[4][i], blk[5][i], blk[6][i], blk[7][i]
		t0, t7 := d0+d7, d0-d7
		t1, t6 := d1+d6, d1-d6
		t2, t5 := d2+d5, d2-d5
		t3, t4 := d3+d4, d3-d4

		t10, t13 := t0+t3, t0-t3
		t11, t12 := t1+t2, t1-t2
		blk[0][i] = t10 + t11
		blk[4][i] = t10 - t11
		z1 := (t12 + t13) * c0707 >> constBits
		blk[2][i] = t13 + z1
		blk[6][i] = t13 - z1

		t10 = t4 + t5
		t11 = t5 + t6
		t12 = t6 + t7
		z5 := (t10 - t12) * c0382 >> constBits
		z2 := t10*c0541>>constBits + z5
		z4 := t12*c1306>>constBits + z5
		z3 := t11 * c0707 >> constBits
		z11, z13 := t7+z3, t7-z3
		blk[5][i] = z13 + z2
		blk[3][i] = z13 - z2
		blk[1][i] = z11 + z4
		blk[7][i] = z11 - z4
	}
}

// quantize divides the coefficients of b by the quantizer (multiplying by
// the reciprocals rc, in zigzag order) into q in zigzag order (T.81 A.3.6).
// Bit z of the result is set when q[z] is not zero. Unrolled so that every
// index is a constant.
func quantize(b *[8][8]int, rc *[64]int, q *[64]int) uint64 {
	var nz uint64
	nz = nz<<1 + quant(&q[63], b[7][7], rc[63])
	nz = nz<<1 + quant(&q[62], b[7][6], rc[62])
	nz = nz<<1 + quant(&q[61], b[6][7], rc[61])
	nz = nz<<1 + quant(&q[60], b[5][7], rc[60])
	nz = nz<<1 + quant(&q[59], b[6][6], rc[59])
	nz = nz<<1 + quant(&q[58], b[7][5], rc[58])
	nz = nz<<1 + quant(&q[57], b[7][4], rc[57])
	nz = nz<<1 + quant(&q[56], b[6][5], rc[56])
	nz = nz<<1 + quant(&q[55], b[5][6], rc[55])
	nz = nz<<1 + quant(&q[54], b[4][7], rc[54])
	nz = nz<<1 + quant(&q[53], b[3][7], rc[53])
	nz = nz<<1 + quant(&q[52], b[4][6], rc[52])
	nz = nz<<1 + quant(&q[51], b[5][5], rc[51])
	nz = nz<<1 + quant(&q[50], b[6][4], rc[50])
	nz = nz<<1 + quant(&q[49], b[7][3], rc[49])
	nz = nz<<1 + quant(&q[48], b[7][2], rc[48])
	nz = nz<<1 + quant(&q[47], b[6][3], rc[47])
	nz = nz<<1 + quant(&q[46], b[5][4], rc[46])
	nz = nz<<1 + quant(&q[45], b[4][5], rc[45])
	nz = nz<<1 + quant(&q[44], b[3][6], rc[44])
	nz = nz<<1 + quant(&q[43], b[2][7], rc[43])
	nz = nz<<1 + quant(&q[42], b[1][7], rc[42])
	nz = nz<<1 + quant(&q[41], b[2][6], rc[41])
	nz = nz<<1 + quant(&q[40], b[3][5], rc[40])
	nz = nz<<1 + quant(&q[39], b[4][4], rc[39])
	nz = nz<<1 + quant(&q[38], b[5][3], rc[38])
	nz = nz<<1 + quant(&q[37], b[6][2], rc[37])
	nz = nz<<1 + quant(&q[36], b[7][1], rc[36])
	nz = nz<<1 + quant(&q[35], b[7][0], rc[35])
	nz = nz<<1 + quant(&q[34], b[6][1], rc[34])
	nz = nz<<1 + quant(&q[33], b[5][2], rc[33])
	nz = nz<<1 + quant(&q[32], b[4][3], rc[32])
	nz = nz<<1 + quant(&q[31], b[3][4], rc[31])
	nz = nz<<1 + quant(&q[30], b[2][5], rc[30])
	nz = nz<<1 + quant(&q[29], b[1][6], rc[29])
	nz = nz<<1 + quant(&q[28], b[0][7], rc[28])
	nz = nz<<1 + quant(&q[27], b[0][6], rc[27])
	nz = nz<<1 + quant(&q[26], b[1][5], rc[26])
	nz = nz<<1 + quant(&q[25], b[2][4], rc[25])
	nz = nz<<1 + quant(&q[24], b[3][3], rc[24])
	nz = nz<<1 + quant(&q[23], b[4][2], rc[23])
	nz = nz<<1 + quant(&q[22], b[5][1], rc[22])
	nz = nz<<1 + quant(&q[21], b[6][0], rc[21])
	nz = nz<<1 + quant(&q[20], b[5][0], rc[20])
	nz = nz<<1 + quant(&q[19], b[4][1], rc[19])
	nz = nz<<1 + quant(&q[18], b[3][2], rc[18])
	nz = nz<<1 + quant(&q[17], b[2][3], rc[17])
	nz = nz<<1 + quant(&q[16], b[1][4], rc[16])
	nz = nz<<1 + quant(&q[15], b[0][5], rc[15])
	nz = nz<<1 + quant(&q[14], b[0][4], rc[14])
	nz = nz<<1 + quant(&q[13], b[1][3], rc[13])
	nz = nz<<1 + quant(&q[12], b[2][2], rc[12])
	nz = nz<<1 + quant(&q[11], b[3][1], rc[11])
	nz = nz<<1 + quant(&q[10], b[4][0], rc[10])
	nz = nz<<1 + quant(&q[9], b[3][0], rc[9])
	nz = nz<<1 + quant(&q[8], b[2][1], rc[8])
	nz = nz<<1 + quant(&q[7], b[1][2], rc[7])
	nz = nz<<1 + quant(&q[6], b[0][3], rc[6])
	nz = nz<<1 + quant(&q[5], b[0][2], rc[5])
	nz = nz<<1 + quant(&q[4], b[1][1], rc[4])
	nz = nz<<1 + quant(&q[3], b[2][0], rc[3])
	nz = nz<<1 + quant(&q[2], b[1][0], rc[2])
	nz = nz<<1 + quant(&q[1], b[0][1], rc[1])
	nz = nz<<1 + quant(&q[0], b[0][0], rc[0])
	return nz
}

// quant stores v times the reciprocal r, rounded half away from zero, at
// *q and returns 1 if that is not zero. For negative v,
// floor((v*r + half - 1) / 2^recipShift) is -round(-v*r / 2^recipShift),
// so the sign costs one addition.
func quant(q *int, v, r int) uint64 {
	x := (v*r + 1<<(recipShift-1) + v>>63) >> recipShift
	*q = x
	return uint64(x|-x) >> 63
}

// code writes the Huffman codes of e.q, whose nonzero coefficients are the
// set bits of nz, with DC table dcT and AC table acT (T.81 F.1.2). The
// common case of put is written out here: put itself is too big for the
// compiler to inline.
func (e *Encoder) code(nz uint64, dc *int, dcT, acT *[256]uint64) {
	acc, free := e.acc, e.free
	q := &e.q

	diff := q[0] - *dc
	*dc = q[0]
	c, n := magnitude(dcT, 0, diff)
	if free -= n; free >= 0 {
		acc = acc<<(uint(n)&63) | c
	} else {
		e.writeWord(acc<<(uint(n+free)&63) | c>>(uint(-free)&63))
		acc, free = c, free+64
	}

	// Each set bit of ac is a nonzero coefficient; the zeros between it and
	// the one before are its run (F.1.2.2). A run over 15 is preceded by up
	// to three ZRL codes of at most 11 bits each, written with the
	// coefficient's code in one put (at most 59 bits).
	ac, last := nz&^1, 0
	for ac != 0 {
		z := bits.TrailingZeros64(ac)
		ac &= ac - 1
		run := z - last - 1
		last = z
		c, n := magnitude(acT, uint8(run&15)<<4, q[z&63])
		if run > 15 {
			zrl := acT[0xf0]
			for ; run > 15; run -= 16 {
				c |= uint64(uint32(zrl)) << (uint(n) & 63)
				n += int(zrl >> 32)
			}
		}
		if free -= n; free >= 0 {
			acc = acc<<(uint(n)&63) | c
		} else {
			e.writeWord(acc<<(uint(n+free)&63) | c>>(uint(-free)&63))
			acc, free = c, free+64
		}
	}
	if last != 63 {
		c := acT[0x00] // EOB
		acc, free = e.put(acc, free, uint64(uint32(c)), int(c>>32))
	}
	e.acc, e.free = acc, free
}

// magnitude returns the code of v's size category (with run in the high
// nibble) followed by v's magnitude bits, and its length in bits (T.81
// F.1.2.1.1, F.1.2.2.1). The magnitude bits are the low size bits of v,
// minus one if negative.
func magnitude(tab *[256]uint64, run uint8, v int) (uint64, int) {
	sg := v >> 63
	size := uint8(bits.Len32(uint32((v ^ sg) - sg)))
	c := tab[run|size]
	return uint64(uint32(c)) | uint64(v+sg)&sizeMask[size&15], int(c >> 32)
}

// put appends the n low bits of b to acc; when it holds 64 bits, they go to
// buf[pos:]. The high bits of b already written leave acc as later bits
// come in.
func (e *Encoder) put(acc uint64, free int, b uint64, n int) (uint64, int) {
	free -= n
	if free >= 0 {
		return acc<<uint(n) | b, free
	}
	e.writeWord(acc<<uint(n+free) | b>>uint(-free))
	return b, free + 64
}

// writeWord writes w big-endian to e.buf, stuffing a zero byte after every
// 0xFF (T.81 F.1.2.3).
//
//go:noinline
func (e *Encoder) writeWord(w uint64) {
	buf, pos := e.buf, e.pos
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// No byte of w is 0xFF exactly when no byte of ^w is zero.
	if (^w-ones)&w&highs == 0 {
		binary.BigEndian.PutUint64(buf[pos:], w)
		e.pos = pos + 8
		return
	}
	for s := 56; s >= 0; s -= 8 {
		c := byte(w >> uint(s))
		buf[pos] = c
		pos++
		if c == 0xff {
			buf[pos] = 0
			pos++
		}
	}
	e.pos = pos
}

// flush writes the pending bits, padded with ones to a byte (T.81 F.1.2.3).
func (e *Encoder) flush() {
	n := 64 - e.free
	acc := e.acc << uint(e.free) // pending bits at the top
	if pad := -n & 7; pad != 0 {
		acc |= 1<<uint(e.free) - 1
		n += pad
	}
	for ; n > 0; n -= 8 {
		c := byte(acc >> 56)
		acc <<= 8
		e.buf[e.pos] = c
		e.pos++
		if c == 0xff {
			e.buf[e.pos] = 0
			e.pos++
		}
	}
	e.acc, e.free = 0, 64
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
