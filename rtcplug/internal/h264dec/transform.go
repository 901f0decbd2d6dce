package h264dec

// Scaling and transform processes, ITU-T H.264 §8.5.

// Zig-zag scans for frame macroblocks (§8.5.6, Figure 8-8 and §8.5.7):
// scan index -> raster index.
var zigzag4x4 = [16]uint8{0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15}

// zigzag8x8 walks the anti-diagonals alternately, as Table 8-13 lists.
var zigzag8x8 = func() (z [64]uint8) {
	i := 0
	for s := 0; s < 15; s++ {
		for k := 0; k <= s; k++ {
			x, y := k, s-k
			if s%2 == 1 {
				x, y = s-k, k
			}
			if x < 8 && y < 8 {
				z[i] = uint8(y*8 + x)
				i++
			}
		}
	}
	return
}()

// normAdjust4x4 and normAdjust8x8 (§8.5.9, equations 8-315 and 8-318).
var (
	v4 = [6][3]int32{{10, 16, 13}, {11, 18, 14}, {13, 20, 16}, {14, 23, 18}, {16, 25, 20}, {18, 29, 23}}
	v8 = [6][6]int32{
		{20, 18, 32, 19, 25, 24}, {22, 19, 35, 21, 28, 26}, {26, 23, 42, 24, 33, 31},
		{28, 25, 45, 26, 35, 33}, {32, 28, 51, 30, 40, 38}, {36, 32, 58, 34, 46, 43}}
)

func normAdjust4x4(m, i, j int) int32 {
	switch {
	case i%2 == 0 && j%2 == 0:
		return v4[m][0]
	case i%2 == 1 && j%2 == 1:
		return v4[m][1]
	}
	return v4[m][2]
}

func normAdjust8x8(m, i, j int) int32 {
	switch {
	case i%4 == 0 && j%4 == 0:
		return v8[m][0]
	case i%2 == 1 && j%2 == 1:
		return v8[m][1]
	case i%4 == 2 && j%4 == 2:
		return v8[m][2]
	case (i%4 == 0 && j%2 == 1) || (i%2 == 1 && j%4 == 0):
		return v8[m][3]
	case (i%4 == 0 && j%4 == 2) || (i%4 == 2 && j%4 == 0):
		return v8[m][4]
	}
	return v8[m][5]
}

// levelScale holds LevelScale4x4 for the intra Y, Cb, Cr lists and
// LevelScale8x8 for intra Y, in raster order (§8.5.9).
type levelScale struct {
	s4 [3][6][16]int32
	s8 [6][64]int32
}

func (ls *levelScale) init(l *scalingLists) {
	for c := 0; c < 3; c++ {
		for m := 0; m < 6; m++ {
			for k := 0; k < 16; k++ {
				p := int(zigzag4x4[k])
				ls.s4[c][m][p] = int32(l.l4[c][k]) * normAdjust4x4(m, p/4, p%4)
			}
		}
	}
	for m := 0; m < 6; m++ {
		for k := 0; k < 64; k++ {
			p := int(zigzag8x8[k])
			ls.s8[m][p] = int32(l.l8[0][k]) * normAdjust8x8(m, p/8, p%8)
		}
	}
}

// scale4x4 applies §8.5.12.1 to the coefficients of a 4x4 block, except the
// DC ones when hasDC is false (they come from the DC transform).
func scale4x4(c *[16]int32, ls *[16]int32, qp int, from int) {
	q := qp / 6
	if q >= 4 {
		sh := uint(q - 4)
		for i := from; i < 16; i++ {
			if c[i] != 0 {
				c[i] = (c[i] * ls[i]) << sh
			}
		}
		return
	}
	sh := uint(4 - q)
	add := int32(1) << (sh - 1)
	for i := from; i < 16; i++ {
		if c[i] != 0 {
			c[i] = (c[i]*ls[i] + add) >> sh
		}
	}
}

// scale8x8 applies §8.5.13.1.
func scale8x8(c *[64]int32, ls *[64]int32, qp int) {
	q := qp / 6
	if q >= 6 {
		sh := uint(q - 6)
		for i := range c {
			if c[i] != 0 {
				c[i] = (c[i] * ls[i]) << sh
			}
		}
		return
	}
	sh := uint(6 - q)
	add := int32(1) << (sh - 1)
	for i := range c {
		if c[i] != 0 {
			c[i] = (c[i]*ls[i] + add) >> sh
		}
	}
}

// lumaDC applies the inverse Hadamard transform and scaling of Intra16x16
// DC coefficients (§8.5.10). c is in raster order of the 4x4 DC matrix.
func lumaDC(c *[16]int32, ls0 int32, qp int) {
	var t [16]int32
	for i := 0; i < 4; i++ {
		a, b, cc, d := c[i*4], c[i*4+1], c[i*4+2], c[i*4+3]
		t[i*4] = a + b + cc + d
		t[i*4+1] = a + b - cc - d
		t[i*4+2] = a - b - cc + d
		t[i*4+3] = a - b + cc - d
	}
	for j := 0; j < 4; j++ {
		a, b, cc, d := t[j], t[4+j], t[8+j], t[12+j]
		c[j] = a + b + cc + d
		c[4+j] = a + b - cc - d
		c[8+j] = a - b - cc + d
		c[12+j] = a - b + cc - d
	}
	if qp >= 36 {
		sh := uint(qp/6 - 6)
		for i := range c {
			c[i] = (c[i] * ls0) << sh
		}
		return
	}
	sh := uint(6 - qp/6)
	add := int32(1) << (sh - 1)
	for i := range c {
		c[i] = (c[i]*ls0 + add) >> sh
	}
}

// chromaDC applies the 2x2 transform and scaling of 4:2:0 chroma DC
// coefficients (§8.5.11).
func chromaDC(c *[4]int32, ls0 int32, qp int) {
	a, b, cc, d := c[0], c[1], c[2], c[3]
	f0, f1, f2, f3 := a+b+cc+d, a-b+cc-d, a+b-cc-d, a-b-cc+d
	sh := uint(qp / 6)
	c[0] = ((f0 * ls0) << sh) >> 5
	c[1] = ((f1 * ls0) << sh) >> 5
	c[2] = ((f2 * ls0) << sh) >> 5
	c[3] = ((f3 * ls0) << sh) >> 5
}

func clip1(v int32) uint8 {
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// idct4x4Add runs the 4x4 inverse transform (§8.5.12.2) and adds the
// residual to the predicted samples at dst (§8.5.14).
func idct4x4Add(c *[16]int32, dst []byte, stride int) {
	var t [16]int32
	for i := 0; i < 4; i++ {
		d0, d1, d2, d3 := c[i*4], c[i*4+1], c[i*4+2], c[i*4+3]
		e0, e1 := d0+d2, d0-d2
		e2, e3 := (d1>>1)-d3, d1+(d3>>1)
		t[i*4] = e0 + e3
		t[i*4+1] = e1 + e2
		t[i*4+2] = e1 - e2
		t[i*4+3] = e0 - e3
	}
	for j := 0; j < 4; j++ {
		f0, f1, f2, f3 := t[j], t[4+j], t[8+j], t[12+j]
		g0, g1 := f0+f2, f0-f2
		g2, g3 := (f1>>1)-f3, f1+(f3>>1)
		h := [4]int32{g0 + g3, g1 + g2, g1 - g2, g0 - g3}
		for i := 0; i < 4; i++ {
			p := i*stride + j
			dst[p] = clip1(int32(dst[p]) + (h[i]+32)>>6)
		}
	}
}

// idct8x8Add runs the 8x8 inverse transform (§8.5.13.2) and adds.
func idct8x8Add(c *[64]int32, dst []byte, stride int) {
	var t [64]int32
	tr := func(d0, d1, d2, d3, d4, d5, d6, d7 int32) (o [8]int32) {
		a0, a4 := d0+d4, d0-d4
		a2, a6 := (d2>>1)-d6, d2+(d6>>1)
		b0, b2, b4, b6 := a0+a6, a4+a2, a4-a2, a0-a6
		a1 := -d3 + d5 - d7 - (d7 >> 1)
		a3 := d1 + d7 - d3 - (d3 >> 1)
		a5 := -d1 + d7 + d5 + (d5 >> 1)
		a7 := d3 + d5 + d1 + (d1 >> 1)
		b1, b7 := a1+(a7>>2), a7-(a1>>2)
		b3, b5 := a3+(a5>>2), (a3>>2)-a5
		return [8]int32{b0 + b7, b2 + b5, b4 + b3, b6 + b1, b6 - b1, b4 - b3, b2 - b5, b0 - b7}
	}
	for i := 0; i < 8; i++ {
		r := c[i*8 : i*8+8]
		o := tr(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])
		copy(t[i*8:i*8+8], o[:])
	}
	for j := 0; j < 8; j++ {
		o := tr(t[j], t[8+j], t[16+j], t[24+j], t[32+j], t[40+j], t[48+j], t[56+j])
		for i := 0; i < 8; i++ {
			p := i*stride + j
			dst[p] = clip1(int32(dst[p]) + (o[i]+32)>>6)
		}
	}
}
