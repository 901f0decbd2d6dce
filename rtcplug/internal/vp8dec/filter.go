package vp8dec

// filterParams are the per-level limits of RFC 6386 section 15.
type filterParams struct {
	mbLimit, subLimit, interior, hevThresh int32
}

// params derives the edge limits for a filter level and the frame's
// sharpness (RFC 6386 sections 15.2 and 15.4; key frame thresholds).
func params(level, sharpness int) filterParams {
	interior := level
	if sharpness > 0 {
		if sharpness > 4 {
			interior >>= 2
		} else {
			interior >>= 1
		}
		if interior > 9-sharpness {
			interior = 9 - sharpness
		}
	}
	if interior < 1 {
		interior = 1
	}
	hev := 0
	if level >= 40 {
		hev = 2
	} else if level >= 15 {
		hev = 1
	}
	return filterParams{
		mbLimit:   int32((level+2)*2 + interior),
		subLimit:  int32(level*2 + interior),
		interior:  int32(interior),
		hevThresh: int32(hev),
	}
}

// filterRow applies the loop filter to macroblock row mby, each macroblock
// in raster order: left edge, inner vertical edges, top edge, inner
// horizontal edges (RFC 6386 section 15.1). Inner edges are skipped for
// macroblocks without coefficients unless they are B_PRED.
func (d *Decoder) filterRow(mby int) {
	info := d.lfInfo[(mby&1)*d.mbw : (mby&1)*d.mbw+d.mbw]
	ys, cs := d.yStride, d.cStride
	var cache [64]filterParams
	var have [64]bool
	for mbx, mi := range info {
		if mi.level == 0 {
			continue
		}
		if !have[mi.level] {
			cache[mi.level] = params(int(mi.level), d.sharpness)
			have[mi.level] = true
		}
		fp := &cache[mi.level]
		yoff := d.yOrig + 16*mby*ys + 16*mbx
		if d.simple {
			if mbx > 0 {
				simpleV(d.ybuf, yoff, ys, fp.mbLimit)
			}
			if mi.inner {
				simpleV(d.ybuf, yoff+4, ys, fp.subLimit)
				simpleV(d.ybuf, yoff+8, ys, fp.subLimit)
				simpleV(d.ybuf, yoff+12, ys, fp.subLimit)
			}
			if mby > 0 {
				simpleH(d.ybuf, yoff, ys, fp.mbLimit)
			}
			if mi.inner {
				simpleH(d.ybuf, yoff+4*ys, ys, fp.subLimit)
				simpleH(d.ybuf, yoff+8*ys, ys, fp.subLimit)
				simpleH(d.ybuf, yoff+12*ys, ys, fp.subLimit)
			}
			continue
		}
		coff := d.cOrig + 8*mby*cs + 8*mbx
		if mbx > 0 {
			mbEdgeV(d.ybuf, yoff, ys, 16, fp)
			mbEdgeV(d.ubuf, coff, cs, 8, fp)
			mbEdgeV(d.vbuf, coff, cs, 8, fp)
		}
		if mi.inner {
			subEdgeV(d.ybuf, yoff+4, ys, 16, fp)
			subEdgeV(d.ybuf, yoff+8, ys, 16, fp)
			subEdgeV(d.ybuf, yoff+12, ys, 16, fp)
			subEdgeV(d.ubuf, coff+4, cs, 8, fp)
			subEdgeV(d.vbuf, coff+4, cs, 8, fp)
		}
		if mby > 0 {
			mbEdgeH(d.ybuf, yoff, ys, 16, fp)
			mbEdgeH(d.ubuf, coff, cs, 8, fp)
			mbEdgeH(d.vbuf, coff, cs, 8, fp)
		}
		if mi.inner {
			subEdgeH(d.ybuf, yoff+4*ys, ys, 16, fp)
			subEdgeH(d.ybuf, yoff+8*ys, ys, 16, fp)
			subEdgeH(d.ybuf, yoff+12*ys, ys, 16, fp)
			subEdgeH(d.ubuf, coff+4*cs, cs, 8, fp)
			subEdgeH(d.vbuf, coff+4*cs, cs, 8, fp)
		}
	}
}

func abs32(v int32) int32 {
	m := v >> 31
	return (v ^ m) - m
}

// clampS8 saturates to a signed 8-bit value.
func clampS8(v int32) int32 {
	if v < -128 {
		v = -128
	}
	if v > 127 {
		v = 127
	}
	return v
}

// The edge filters below come in two orientations with the same body:
// ...H filters across a horizontal edge (the pixels of a column, rows
// apart), ...V across a vertical edge (the pixels of a row). Pixels are
// named p3 p2 p1 p0 | q0 q1 q2 q3 across the edge; the filters work on
// their signed values (pixel - 128). The bodies are written out in full so
// that nothing is called per pixel.

// simpleH and simpleV are the simple loop filter of RFC 6386 section 15.2
// across the 16 pixels of a luma edge; off is the first pixel after it.
func simpleH(p []byte, off, s int, limit int32) {
	r1, r0 := p[off-2*s:off-2*s+16], p[off-s:off-s+16]
	s0, s1 := p[off:off+16], p[off+s:off+s+16]
	for i := 0; i < 16; i++ {
		p1, p0, q0, q1 := int32(r1[i]), int32(r0[i]), int32(s0[i]), int32(s1[i])
		if abs32(p0-q0)*2+abs32(p1-q1)>>1 > limit {
			continue
		}
		a := clampS8(p1 - q1)
		a = clampS8(a + 3*(q0-p0))
		f1 := clampS8(a+4) >> 3
		f2 := clampS8(a+3) >> 3
		s0[i] = uint8(clampS8(q0-128-f1) + 128)
		r0[i] = uint8(clampS8(p0-128+f2) + 128)
	}
}

func simpleV(p []byte, off, s int, limit int32) {
	for y := 0; y < 16; y++ {
		r := (*[4]byte)(p[off+y*s-2 : off+y*s+2])
		p1, p0, q0, q1 := int32(r[0]), int32(r[1]), int32(r[2]), int32(r[3])
		if abs32(p0-q0)*2+abs32(p1-q1)>>1 > limit {
			continue
		}
		a := clampS8(p1 - q1)
		a = clampS8(a + 3*(q0-p0))
		f1 := clampS8(a+4) >> 3
		f2 := clampS8(a+3) >> 3
		r[2] = uint8(clampS8(q0-128-f1) + 128)
		r[1] = uint8(clampS8(p0-128+f2) + 128)
	}
}

// mbEdgeH and mbEdgeV are the normal loop filter across a macroblock edge
// (RFC 6386 section 15.3), adjusting up to three pixels each side, over n
// pixels (16 luma, 8 chroma).
func mbEdgeH(p []byte, off, s, n int, fp *filterParams) {
	interior, limit, hevT := fp.interior, fp.mbLimit, fp.hevThresh
	a3, a2 := p[off-4*s:off-4*s+n], p[off-3*s:off-3*s+n]
	a1, a0 := p[off-2*s:off-2*s+n], p[off-s:off-s+n]
	b0, b1 := p[off:off+n], p[off+s:off+s+n]
	b2, b3 := p[off+2*s:off+2*s+n], p[off+3*s:off+3*s+n]
	// Equal lengths let the compiler drop the bounds checks below.
	a2, a1, a0 = a2[:len(a3)], a1[:len(a3)], a0[:len(a3)]
	b0, b1, b2, b3 = b0[:len(a3)], b1[:len(a3)], b2[:len(a3)], b3[:len(a3)]
	for i := range a3 {
		p3, p2, p1, p0 := int32(a3[i]), int32(a2[i]), int32(a1[i]), int32(a0[i])
		q0, q1, q2, q3 := int32(b0[i]), int32(b1[i]), int32(b2[i]), int32(b3[i])
		if max(abs32(p3-p2), abs32(p2-p1), abs32(p1-p0), abs32(q1-q0), abs32(q2-q1), abs32(q3-q2)) > interior ||
			abs32(p0-q0)*2+abs32(p1-q1)>>1 > limit {
			continue
		}
		w := clampS8(p1 - q1)
		w = clampS8(w + 3*(q0-p0))
		if abs32(p1-p0) > hevT || abs32(q1-q0) > hevT {
			// High edge variance: only the pixels next to the edge move.
			f1 := clampS8(w+4) >> 3
			f2 := clampS8(w+3) >> 3
			b0[i] = uint8(clampS8(q0-128-f1) + 128)
			a0[i] = uint8(clampS8(p0-128+f2) + 128)
			continue
		}
		u := clampS8((27*w + 63) >> 7)
		b0[i] = uint8(clampS8(q0-128-u) + 128)
		a0[i] = uint8(clampS8(p0-128+u) + 128)
		u = clampS8((18*w + 63) >> 7)
		b1[i] = uint8(clampS8(q1-128-u) + 128)
		a1[i] = uint8(clampS8(p1-128+u) + 128)
		u = clampS8((9*w + 63) >> 7)
		b2[i] = uint8(clampS8(q2-128-u) + 128)
		a2[i] = uint8(clampS8(p2-128+u) + 128)
	}
}

func mbEdgeV(p []byte, off, s, n int, fp *filterParams) {
	interior, limit, hevT := fp.interior, fp.mbLimit, fp.hevThresh
	for y := 0; y < n; y++ {
		r := (*[8]byte)(p[off+y*s-4 : off+y*s+4])
		p3, p2, p1, p0 := int32(r[0]), int32(r[1]), int32(r[2]), int32(r[3])
		q0, q1, q2, q3 := int32(r[4]), int32(r[5]), int32(r[6]), int32(r[7])
		if max(abs32(p3-p2), abs32(p2-p1), abs32(p1-p0), abs32(q1-q0), abs32(q2-q1), abs32(q3-q2)) > interior ||
			abs32(p0-q0)*2+abs32(p1-q1)>>1 > limit {
			continue
		}
		w := clampS8(p1 - q1)
		w = clampS8(w + 3*(q0-p0))
		if abs32(p1-p0) > hevT || abs32(q1-q0) > hevT {
			f1 := clampS8(w+4) >> 3
			f2 := clampS8(w+3) >> 3
			r[4] = uint8(clampS8(q0-128-f1) + 128)
			r[3] = uint8(clampS8(p0-128+f2) + 128)
			continue
		}
		u := clampS8((27*w + 63) >> 7)
		r[4] = uint8(clampS8(q0-128-u) + 128)
		r[3] = uint8(clampS8(p0-128+u) + 128)
		u = clampS8((18*w + 63) >> 7)
		r[5] = uint8(clampS8(q1-128-u) + 128)
		r[2] = uint8(clampS8(p1-128+u) + 128)
		u = clampS8((9*w + 63) >> 7)
		r[6] = uint8(clampS8(q2-128-u) + 128)
		r[1] = uint8(clampS8(p2-128+u) + 128)
	}
}

// subEdgeH and subEdgeV are the normal loop filter across an inner
// (subblock) edge (RFC 6386 section 15.3), adjusting up to two pixels each
// side.
func subEdgeH(p []byte, off, s, n int, fp *filterParams) {
	interior, limit, hevT := fp.interior, fp.subLimit, fp.hevThresh
	a3, a2 := p[off-4*s:off-4*s+n], p[off-3*s:off-3*s+n]
	a1, a0 := p[off-2*s:off-2*s+n], p[off-s:off-s+n]
	b0, b1 := p[off:off+n], p[off+s:off+s+n]
	b2, b3 := p[off+2*s:off+2*s+n], p[off+3*s:off+3*s+n]
	// Equal lengths let the compiler drop the bounds checks below.
	a2, a1, a0 = a2[:len(a3)], a1[:len(a3)], a0[:len(a3)]
	b0, b1, b2, b3 = b0[:len(a3)], b1[:len(a3)], b2[:len(a3)], b3[:len(a3)]
	for i := range a3 {
		p3, p2, p1, p0 := int32(a3[i]), int32(a2[i]), int32(a1[i]), int32(a0[i])
		q0, q1, q2, q3 := int32(b0[i]), int32(b1[i]), int32(b2[i]), int32(b3[i])
		if max(abs32(p3-p2), abs32(p2-p1), abs32(p1-p0), abs32(q1-q0), abs32(q2-q1), abs32(q3-q2)) > interior ||
			abs32(p0-q0)*2+abs32(p1-q1)>>1 > limit {
			continue
		}
		hev := abs32(p1-p0) > hevT || abs32(q1-q0) > hevT
		var a int32
		if hev {
			a = clampS8(p1 - q1)
		}
		a = clampS8(a + 3*(q0-p0))
		f1 := clampS8(a+4) >> 3
		f2 := clampS8(a+3) >> 3
		b0[i] = uint8(clampS8(q0-128-f1) + 128)
		a0[i] = uint8(clampS8(p0-128+f2) + 128)
		if !hev {
			a = (f1 + 1) >> 1
			b1[i] = uint8(clampS8(q1-128-a) + 128)
			a1[i] = uint8(clampS8(p1-128+a) + 128)
		}
	}
}

func subEdgeV(p []byte, off, s, n int, fp *filterParams) {
	interior, limit, hevT := fp.interior, fp.subLimit, fp.hevThresh
	for y := 0; y < n; y++ {
		r := (*[8]byte)(p[off+y*s-4 : off+y*s+4])
		p3, p2, p1, p0 := int32(r[0]), int32(r[1]), int32(r[2]), int32(r[3])
		q0, q1, q2, q3 := int32(r[4]), int32(r[5]), int32(r[6]), int32(r[7])
		if max(abs32(p3-p2), abs32(p2-p1), abs32(p1-p0), abs32(q1-q0), abs32(q2-q1), abs32(q3-q2)) > interior ||
			abs32(p0-q0)*2+abs32(p1-q1)>>1 > limit {
			continue
		}
		hev := abs32(p1-p0) > hevT || abs32(q1-q0) > hevT
		var a int32
		if hev {
			a = clampS8(p1 - q1)
		}
		a = clampS8(a + 3*(q0-p0))
		f1 := clampS8(a+4) >> 3
		f2 := clampS8(a+3) >> 3
		r[4] = uint8(clampS8(q0-128-f1) + 128)
		r[3] = uint8(clampS8(p0-128+f2) + 128)
		if !hev {
			a = (f1 + 1) >> 1
			r[5] = uint8(clampS8(q1-128-a) + 128)
			r[2] = uint8(clampS8(p1-128+a) + 128)
		}
	}
}
