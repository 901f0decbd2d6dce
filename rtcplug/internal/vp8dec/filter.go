package vp8dec

// filterParams are the per-level limits of RFC 6386 section 15.
type filterParams struct {
	mbLimit, subLimit, interior, hevThresh int32
	// The same limits packed for the vector edge functions: edge limit,
	// interior limit and hev threshold in bytes 0, 1 and 2.
	mbLims, subLims uint64
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
	mbLimit, subLimit := (level+2)*2+interior, level*2+interior
	return filterParams{
		mbLimit:   int32(mbLimit),
		subLimit:  int32(subLimit),
		interior:  int32(interior),
		hevThresh: int32(hev),
		mbLims:    uint64(mbLimit | interior<<8 | hev<<16),
		subLims:   uint64(subLimit | interior<<8 | hev<<16),
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
		d.filterMB(mbx, mby, yoff, d.cOrig+8*mby*cs+8*mbx, fp, mi.inner)
	}
}

// filterMBGo applies the normal loop filter to the macroblock whose luma
// and chroma pixel (0, 0) are at yoff and coff, in the order of filterRow.
func (d *Decoder) filterMBGo(mbx, mby, yoff, coff int, fp *filterParams, inner bool) {
	ys, cs := d.yStride, d.cStride
	if mbx > 0 {
		mbEdgeV(d.ybuf, yoff, ys, 16, fp)
		mbEdgeV(d.ubuf, coff, cs, 8, fp)
		mbEdgeV(d.vbuf, coff, cs, 8, fp)
	}
	if inner {
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
	if inner {
		subEdgeH(d.ybuf, yoff+4*ys, ys, 16, fp)
		subEdgeH(d.ybuf, yoff+8*ys, ys, 16, fp)
		subEdgeH(d.ybuf, yoff+12*ys, ys, 16, fp)
		subEdgeH(d.ubuf, coff+4*cs, cs, 8, fp)
		subEdgeH(d.vbuf, coff+4*cs, cs, 8, fp)
	}
}

func abs32(v int32) int32 {
	m := v >> 31
	return (v ^ m) - m
}

// clampS8 saturates to a signed 8-bit value. The filters mask their inputs
// before clamping, so saturation is rare and the branch well predicted.
func clampS8(v int32) int32 {
	if uint32(v+128) > 255 {
		return 127 ^ v>>31
	}
	return v
}

// pix saturates to a pixel value; adding to a pixel p the value f clamped
// the reference decoder's way (signed p-128, saturated, plus 128) is
// pix(p+f).
func pix(v int32) uint8 {
	if uint32(v) > 255 {
		return uint8(^v >> 31)
	}
	return uint8(v)
}

// hevMask is all ones at high edge variance (section 15.3), else zero.
func hevMask(p1, p0, q0, q1, hevT int32) int32 {
	return (hevT - max(abs32(p1-p0), abs32(q1-q0))) >> 31
}

// The edge filters below come in two orientations with the same body:
// ...H filters across a horizontal edge (the pixels of a column, rows
// apart), ...V across a vertical edge (the pixels of a row). Pixels are
// named p3 p2 p1 p0 | q0 q1 q2 q3 across the edge; the filters work on
// their signed values (pixel - 128). The bodies have no data-dependent
// branches: a position that is not filtered gets a filter value of zero,
// which moves no pixel, and the pixels are stored back unchanged.

// simpleH and simpleV are the simple loop filter of RFC 6386 section 15.2
// across the 16 pixels of a luma edge; off is the first pixel after it.
func simpleH(p []byte, off, s int, limit int32) {
	r1, r0 := p[off-2*s:off-2*s+16], p[off-s:off-s+16]
	s0, s1 := p[off:off+16], p[off+s:off+s+16]
	for i := 0; i < 16; i++ {
		p1, p0, q0, q1 := int32(r1[i]), int32(r0[i]), int32(s0[i]), int32(s1[i])
		m := ^(limit - (abs32(p0-q0)*2 + abs32(p1-q1)>>1)) >> 31
		a := clampS8(clampS8((p1-q1)&m) + 3*((q0-p0)&m))
		s0[i] = pix(q0 - min(a+4, 127)>>3)
		r0[i] = pix(p0 + min(a+3, 127)>>3)
	}
}

func simpleV(p []byte, off, s int, limit int32) {
	for y := 0; y < 16; y++ {
		r := (*[4]byte)(p[off+y*s-2 : off+y*s+2])
		p1, p0, q0, q1 := int32(r[0]), int32(r[1]), int32(r[2]), int32(r[3])
		m := ^(limit - (abs32(p0-q0)*2 + abs32(p1-q1)>>1)) >> 31
		a := clampS8(clampS8((p1-q1)&m) + 3*((q0-p0)&m))
		r[2] = pix(q0 - min(a+4, 127)>>3)
		r[1] = pix(p0 + min(a+3, 127)>>3)
	}
}

// mbEdgeH and mbEdgeV are the normal loop filter across a macroblock edge
// (RFC 6386 section 15.3), adjusting up to three pixels each side, over n
// pixels (16 luma, 8 chroma). At high edge variance only the pixels next to
// the edge move, by the filter value w; otherwise three each side, by 27,
// 18 and 9 /128 of w. One of the two adjustments is always zero, so both are
// applied with one saturation.
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
		// All ones when the position is filtered (section 15.3: every
		// interior difference within interior, the edge within limit).
		in := max(abs32(p3-p2), abs32(p2-p1), abs32(p1-p0), abs32(q1-q0), abs32(q2-q1), abs32(q3-q2))
		m := ^((interior - in) | (limit - (abs32(p0-q0)*2 + abs32(p1-q1)>>1))) >> 31
		hev := hevMask(p1, p0, q0, q1, hevT)
		w := clampS8(clampS8((p1-q1)&m) + 3*((q0-p0)&m))
		f := w & hev
		w &^= hev
		// |27w+63|>>7 stays within 27: no saturation needed.
		u := (27*w + 63) >> 7
		b0[i] = pix(q0 - min(f+4, 127)>>3 - u)
		a0[i] = pix(p0 + min(f+3, 127)>>3 + u)
		u = (18*w + 63) >> 7
		b1[i] = pix(q1 - u)
		a1[i] = pix(p1 + u)
		u = (9*w + 63) >> 7
		b2[i] = pix(q2 - u)
		a2[i] = pix(p2 + u)
	}
}

func mbEdgeV(p []byte, off, s, n int, fp *filterParams) {
	interior, limit, hevT := fp.interior, fp.mbLimit, fp.hevThresh
	for y := 0; y < n; y++ {
		r := (*[8]byte)(p[off+y*s-4 : off+y*s+4])
		p3, p2, p1, p0 := int32(r[0]), int32(r[1]), int32(r[2]), int32(r[3])
		q0, q1, q2, q3 := int32(r[4]), int32(r[5]), int32(r[6]), int32(r[7])
		// All ones when the position is filtered (section 15.3: every
		// interior difference within interior, the edge within limit).
		in := max(abs32(p3-p2), abs32(p2-p1), abs32(p1-p0), abs32(q1-q0), abs32(q2-q1), abs32(q3-q2))
		m := ^((interior - in) | (limit - (abs32(p0-q0)*2 + abs32(p1-q1)>>1))) >> 31
		hev := hevMask(p1, p0, q0, q1, hevT)
		w := clampS8(clampS8((p1-q1)&m) + 3*((q0-p0)&m))
		f := w & hev
		w &^= hev
		u := (27*w + 63) >> 7
		r[4] = pix(q0 - min(f+4, 127)>>3 - u)
		r[3] = pix(p0 + min(f+3, 127)>>3 + u)
		u = (18*w + 63) >> 7
		r[5] = pix(q1 - u)
		r[2] = pix(p1 + u)
		u = (9*w + 63) >> 7
		r[6] = pix(q2 - u)
		r[1] = pix(p2 + u)
	}
}

// subEdgeH and subEdgeV are the normal loop filter across an inner
// (subblock) edge (RFC 6386 section 15.3), adjusting up to two pixels each
// side: the outer ones only without high edge variance.
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
		// All ones when the position is filtered (section 15.3: every
		// interior difference within interior, the edge within limit).
		in := max(abs32(p3-p2), abs32(p2-p1), abs32(p1-p0), abs32(q1-q0), abs32(q2-q1), abs32(q3-q2))
		m := ^((interior - in) | (limit - (abs32(p0-q0)*2 + abs32(p1-q1)>>1))) >> 31
		hev := hevMask(p1, p0, q0, q1, hevT)
		a := clampS8(clampS8((p1-q1)&(m&hev)) + 3*((q0-p0)&m))
		f1 := min(a+4, 127) >> 3
		b0[i] = pix(q0 - f1)
		a0[i] = pix(p0 + min(a+3, 127)>>3)
		u := (f1 + 1) >> 1 &^ hev
		b1[i] = pix(q1 - u)
		a1[i] = pix(p1 + u)
	}
}

func subEdgeV(p []byte, off, s, n int, fp *filterParams) {
	interior, limit, hevT := fp.interior, fp.subLimit, fp.hevThresh
	for y := 0; y < n; y++ {
		r := (*[8]byte)(p[off+y*s-4 : off+y*s+4])
		p3, p2, p1, p0 := int32(r[0]), int32(r[1]), int32(r[2]), int32(r[3])
		q0, q1, q2, q3 := int32(r[4]), int32(r[5]), int32(r[6]), int32(r[7])
		// All ones when the position is filtered (section 15.3: every
		// interior difference within interior, the edge within limit).
		in := max(abs32(p3-p2), abs32(p2-p1), abs32(p1-p0), abs32(q1-q0), abs32(q2-q1), abs32(q3-q2))
		m := ^((interior - in) | (limit - (abs32(p0-q0)*2 + abs32(p1-q1)>>1))) >> 31
		hev := hevMask(p1, p0, q0, q1, hevT)
		a := clampS8(clampS8((p1-q1)&(m&hev)) + 3*((q0-p0)&m))
		f1 := min(a+4, 127) >> 3
		r[4] = pix(q0 - f1)
		r[3] = pix(p0 + min(a+3, 127)>>3)
		u := (f1 + 1) >> 1 &^ hev
		r[5] = pix(q1 - u)
		r[2] = pix(p1 + u)
	}
}
