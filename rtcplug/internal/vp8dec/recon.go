package vp8dec

// reconstruct predicts one macroblock in place in the planes and adds its
// residual (RFC 6386 sections 12 and 14).
func (d *Decoder) reconstruct(mbx, mby int, m *mbModes, nz, ac uint32) {
	ys := d.yStride
	yoff := d.yOrig + 16*mby*ys + 16*mbx
	c := d.coeffs[:]
	yb := d.ybuf
	if m.ymode == modeB {
		for i := 0; i < 16; i++ {
			x, y := i&3, i>>2
			off := yoff + 4*y*ys + 4*x
			// Section 12.3: the right column of subblocks takes its
			// above-right pixels from the row above the macroblock.
			ar := off - ys + 4
			if x == 3 {
				ar = yoff - ys + 16
			}
			predict4(yb, off, ys, ar, m.bmodes[i])
			if nz&(1<<uint(i)) != 0 {
				addResidual(yb, off, ys, (*[16]int16)(c[16*i:]), ac&(1<<uint(i)) != 0)
			}
		}
	} else {
		predict16(yb, yoff, ys, 16, m.ymode, mbx > 0, mby > 0)
		if nz&(1<<blockY2) != 0 {
			y2 := (*[16]int16)(c[16*blockY2:])
			if ac&(1<<blockY2) != 0 {
				invWHT(y2, c)
			} else {
				// Section 14.3 with only a DC: every output is equal.
				v := int16((int32(y2[0]) + 3) >> 3)
				for i := 0; i < 16; i++ {
					c[16*i] = v
				}
			}
			*y2 = [16]int16{}
			for i := 0; i < 16; i++ {
				off := yoff + 4*(i>>2)*ys + 4*(i&3)
				addResidual(yb, off, ys, (*[16]int16)(c[16*i:]), ac&(1<<uint(i)) != 0)
			}
		} else if nz&0xffff != 0 {
			for i := 0; i < 16; i++ {
				if ac&(1<<uint(i)) != 0 {
					off := yoff + 4*(i>>2)*ys + 4*(i&3)
					addResidual(yb, off, ys, (*[16]int16)(c[16*i:]), true)
				}
			}
		}
	}

	cs := d.cStride
	coff := d.cOrig + 8*mby*cs + 8*mbx
	predict16(d.ubuf, coff, cs, 8, m.uvmode, mbx > 0, mby > 0)
	predict16(d.vbuf, coff, cs, 8, m.uvmode, mbx > 0, mby > 0)
	if nz&0xff0000 != 0 {
		for i := 16; i < 24; i++ {
			if nz&(1<<uint(i)) == 0 {
				continue
			}
			p := d.ubuf
			if i >= blockV {
				p = d.vbuf
			}
			j := i & 3
			off := coff + 4*(j>>1)*cs + 4*(j&1)
			addResidual(p, off, cs, (*[16]int16)(c[16*i:]), ac&(1<<uint(i)) != 0)
		}
	}
}

// addResidual adds the inverse transform of b to the 4x4 pixels at off and
// clears b. full says whether b may have more than a DC coefficient.
func addResidual(p []byte, off, stride int, b *[16]int16, full bool) {
	if full {
		idctAdd(p, off, stride, b)
		*b = [16]int16{}
		return
	}
	dc := b[0]
	if dc == 0 {
		return
	}
	b[0] = 0
	// A DC-only inverse DCT is the same value everywhere (section 14.4).
	v := (int32(dc) + 4) >> 3
	_ = p[off+3*stride+3]
	for y := 0; y < 4; y++ {
		r := p[off+y*stride : off+y*stride+4]
		r[0] = clip255(int32(r[0]) + v)
		r[1] = clip255(int32(r[1]) + v)
		r[2] = clip255(int32(r[2]) + v)
		r[3] = clip255(int32(r[3]) + v)
	}
}

func clip255(v int32) uint8 {
	if uint32(v) > 255 {
		return uint8(^v >> 31)
	}
	return uint8(v)
}

// Constants of the inverse DCT (RFC 6386 section 14.4): sqrt(2)*cos(pi/8)
// less one, and sqrt(2)*sin(pi/8), in 16-bit fixed point.
const (
	idctC1 = 20091
	idctS1 = 35468
)

// idctAdd is the exact inverse DCT of RFC 6386 section 14.4, vertical pass
// first, with 16-bit intermediates as in the reference decoder, added to the
// prediction at off.
func idctAdd(p []byte, off, stride int, b *[16]int16) {
	var t [16]int16
	for i := 0; i < 4; i++ {
		i0, i1, i2, i3 := int32(b[i]), int32(b[4+i]), int32(b[8+i]), int32(b[12+i])
		a1 := i0 + i2
		b1 := i0 - i2
		c1 := (i1*idctS1)>>16 - (i3 + (i3*idctC1)>>16)
		d1 := i1 + (i1*idctC1)>>16 + (i3*idctS1)>>16
		t[i] = int16(a1 + d1)
		t[12+i] = int16(a1 - d1)
		t[4+i] = int16(b1 + c1)
		t[8+i] = int16(b1 - c1)
	}
	_ = p[off+3*stride+3]
	for y := 0; y < 4; y++ {
		i0, i1, i2, i3 := int32(t[4*y]), int32(t[4*y+1]), int32(t[4*y+2]), int32(t[4*y+3])
		a1 := i0 + i2
		b1 := i0 - i2
		c1 := (i1*idctS1)>>16 - (i3 + (i3*idctC1)>>16)
		d1 := i1 + (i1*idctC1)>>16 + (i3*idctS1)>>16
		r := p[off+y*stride : off+y*stride+4]
		r[0] = clip255(int32(r[0]) + int32(int16((a1+d1+4)>>3)))
		r[3] = clip255(int32(r[3]) + int32(int16((a1-d1+4)>>3)))
		r[1] = clip255(int32(r[1]) + int32(int16((b1+c1+4)>>3)))
		r[2] = clip255(int32(r[2]) + int32(int16((b1-c1+4)>>3)))
	}
}

// invWHT is the inverse Walsh-Hadamard transform of RFC 6386 section 14.3;
// output i becomes the DC of luma block i.
func invWHT(in *[16]int16, c []int16) {
	var t [16]int16
	for i := 0; i < 4; i++ {
		i0, i1, i2, i3 := int32(in[i]), int32(in[4+i]), int32(in[8+i]), int32(in[12+i])
		a1 := i0 + i3
		b1 := i1 + i2
		c1 := i1 - i2
		d1 := i0 - i3
		t[i] = int16(a1 + b1)
		t[4+i] = int16(c1 + d1)
		t[8+i] = int16(a1 - b1)
		t[12+i] = int16(d1 - c1)
	}
	_ = c[16*15]
	for y := 0; y < 4; y++ {
		i0, i1, i2, i3 := int32(t[4*y]), int32(t[4*y+1]), int32(t[4*y+2]), int32(t[4*y+3])
		a1 := i0 + i3
		b1 := i1 + i2
		c1 := i1 - i2
		d1 := i0 - i3
		c[16*(4*y)] = int16((a1 + b1 + 3) >> 3)
		c[16*(4*y+1)] = int16((c1 + d1 + 3) >> 3)
		c[16*(4*y+2)] = int16((a1 - b1 + 3) >> 3)
		c[16*(4*y+3)] = int16((d1 - c1 + 3) >> 3)
	}
}
