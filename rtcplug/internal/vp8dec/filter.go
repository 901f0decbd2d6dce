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
				simpleEdge(d.ybuf, yoff, 1, ys, fp.mbLimit)
			}
			if mi.inner {
				simpleEdge(d.ybuf, yoff+4, 1, ys, fp.subLimit)
				simpleEdge(d.ybuf, yoff+8, 1, ys, fp.subLimit)
				simpleEdge(d.ybuf, yoff+12, 1, ys, fp.subLimit)
			}
			if mby > 0 {
				simpleEdge(d.ybuf, yoff, ys, 1, fp.mbLimit)
			}
			if mi.inner {
				simpleEdge(d.ybuf, yoff+4*ys, ys, 1, fp.subLimit)
				simpleEdge(d.ybuf, yoff+8*ys, ys, 1, fp.subLimit)
				simpleEdge(d.ybuf, yoff+12*ys, ys, 1, fp.subLimit)
			}
			continue
		}
		coff := d.cOrig + 8*mby*cs + 8*mbx
		if mbx > 0 {
			mbEdge(d.ybuf, yoff, 1, ys, 16, fp)
			mbEdge(d.ubuf, coff, 1, cs, 8, fp)
			mbEdge(d.vbuf, coff, 1, cs, 8, fp)
		}
		if mi.inner {
			subEdge(d.ybuf, yoff+4, 1, ys, 16, fp)
			subEdge(d.ybuf, yoff+8, 1, ys, 16, fp)
			subEdge(d.ybuf, yoff+12, 1, ys, 16, fp)
			subEdge(d.ubuf, coff+4, 1, cs, 8, fp)
			subEdge(d.vbuf, coff+4, 1, cs, 8, fp)
		}
		if mby > 0 {
			mbEdge(d.ybuf, yoff, ys, 1, 16, fp)
			mbEdge(d.ubuf, coff, cs, 1, 8, fp)
			mbEdge(d.vbuf, coff, cs, 1, 8, fp)
		}
		if mi.inner {
			subEdge(d.ybuf, yoff+4*ys, ys, 1, 16, fp)
			subEdge(d.ybuf, yoff+8*ys, ys, 1, 16, fp)
			subEdge(d.ybuf, yoff+12*ys, ys, 1, 16, fp)
			subEdge(d.ubuf, coff+4*cs, cs, 1, 8, fp)
			subEdge(d.vbuf, coff+4*cs, cs, 1, 8, fp)
		}
	}
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// clampS8 saturates to a signed 8-bit value.
func clampS8(v int32) int32 {
	if v < -128 {
		return -128
	}
	if v > 127 {
		return 127
	}
	return v
}

// s8 maps a pixel to the signed range the filters work in, and u8 back.
func s8(v uint8) int32 { return int32(v) - 128 }
func u8(v int32) uint8 { return uint8(v + 128) }

// simpleEdge is the simple loop filter of RFC 6386 section 15.2 across the
// edge before pixel off; step crosses the edge, pitch runs along its 16
// pixels.
func simpleEdge(p []byte, off, step, pitch int, limit int32) {
	for i := 0; i < 16; i++ {
		q := off + i*pitch
		p1, p0, q0, q1 := p[q-2*step], p[q-step], p[q], p[q+step]
		if abs32(int32(p0)-int32(q0))*2+abs32(int32(p1)-int32(q1))>>1 > limit {
			continue
		}
		a := clampS8(s8(p1) - s8(q1))
		a = clampS8(a + 3*(s8(q0)-s8(p0)))
		f1 := clampS8(a+4) >> 3
		f2 := clampS8(a+3) >> 3
		p[q] = u8(clampS8(s8(q0) - f1))
		p[q-step] = u8(clampS8(s8(p0) + f2))
	}
}

// mbEdge is the normal loop filter across a macroblock edge (RFC 6386
// section 15.3), adjusting up to three pixels on each side.
func mbEdge(p []byte, off, step, pitch, n int, fp *filterParams) {
	for i := 0; i < n; i++ {
		q := off + i*pitch
		p3, p2, p1, p0 := p[q-4*step], p[q-3*step], p[q-2*step], p[q-step]
		q0, q1, q2, q3 := p[q], p[q+step], p[q+2*step], p[q+3*step]
		if !normalMask(p3, p2, p1, p0, q0, q1, q2, q3, fp.interior, fp.mbLimit) {
			continue
		}
		ps2, ps1, ps0 := s8(p2), s8(p1), s8(p0)
		qs0, qs1, qs2 := s8(q0), s8(q1), s8(q2)
		w := clampS8(ps1 - qs1)
		w = clampS8(w + 3*(qs0-ps0))
		if hev(p1, p0, q0, q1, fp.hevThresh) {
			// High edge variance: only the pixels next to the edge move.
			f1 := clampS8(w+4) >> 3
			f2 := clampS8(w+3) >> 3
			p[q] = u8(clampS8(qs0 - f1))
			p[q-step] = u8(clampS8(ps0 + f2))
			continue
		}
		a := clampS8((27*w + 63) >> 7)
		p[q] = u8(clampS8(qs0 - a))
		p[q-step] = u8(clampS8(ps0 + a))
		a = clampS8((18*w + 63) >> 7)
		p[q+step] = u8(clampS8(qs1 - a))
		p[q-2*step] = u8(clampS8(ps1 + a))
		a = clampS8((9*w + 63) >> 7)
		p[q+2*step] = u8(clampS8(qs2 - a))
		p[q-3*step] = u8(clampS8(ps2 + a))
	}
}

// subEdge is the normal loop filter across an inner (subblock) edge (RFC
// 6386 section 15.3), adjusting up to two pixels on each side.
func subEdge(p []byte, off, step, pitch, n int, fp *filterParams) {
	for i := 0; i < n; i++ {
		q := off + i*pitch
		p3, p2, p1, p0 := p[q-4*step], p[q-3*step], p[q-2*step], p[q-step]
		q0, q1, q2, q3 := p[q], p[q+step], p[q+2*step], p[q+3*step]
		if !normalMask(p3, p2, p1, p0, q0, q1, q2, q3, fp.interior, fp.subLimit) {
			continue
		}
		ps1, ps0, qs0, qs1 := s8(p1), s8(p0), s8(q0), s8(q1)
		h := hev(p1, p0, q0, q1, fp.hevThresh)
		var a int32
		if h {
			a = clampS8(ps1 - qs1)
		}
		a = clampS8(a + 3*(qs0-ps0))
		f1 := clampS8(a+4) >> 3
		f2 := clampS8(a+3) >> 3
		p[q] = u8(clampS8(qs0 - f1))
		p[q-step] = u8(clampS8(ps0 + f2))
		if !h {
			a = (f1 + 1) >> 1
			p[q+step] = u8(clampS8(qs1 - a))
			p[q-2*step] = u8(clampS8(ps1 + a))
		}
	}
}

func normalMask(p3, p2, p1, p0, q0, q1, q2, q3 uint8, interior, edge int32) bool {
	return abs32(int32(p0)-int32(q0))*2+abs32(int32(p1)-int32(q1))>>1 <= edge &&
		abs32(int32(p3)-int32(p2)) <= interior &&
		abs32(int32(p2)-int32(p1)) <= interior &&
		abs32(int32(p1)-int32(p0)) <= interior &&
		abs32(int32(q1)-int32(q0)) <= interior &&
		abs32(int32(q2)-int32(q1)) <= interior &&
		abs32(int32(q3)-int32(q2)) <= interior
}

func hev(p1, p0, q0, q1 uint8, thresh int32) bool {
	return abs32(int32(p1)-int32(p0)) > thresh || abs32(int32(q1)-int32(q0)) > thresh
}
