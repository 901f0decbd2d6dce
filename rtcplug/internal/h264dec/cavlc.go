package h264dec

// CAVLC slice data and residual parsing, ITU-T H.264 §7.3.4, §7.3.5 and
// §9.2.

// Table 9-4 (ChromaArrayType 1 or 2): coded_block_pattern of Intra_4x4 and
// Intra_8x8 macroblocks by codeNum.
var intraCBP = [48]uint8{
	47, 31, 15, 0, 23, 27, 29, 30, 7, 11, 13, 14, 39, 43, 45, 46,
	16, 3, 5, 10, 12, 19, 21, 26, 28, 35, 37, 42, 44, 1, 2, 4,
	8, 17, 18, 20, 24, 6, 9, 22, 25, 32, 33, 34, 36, 40, 38, 41}

func (d *Decoder) sliceDataCAVLC(r *bitReader) error {
	mb := d.hdr.firstMb
	qp := d.hdr.qp
	for {
		if mb >= len(d.mbs) {
			return invalid("slice data beyond the picture")
		}
		if d.mbs[mb].slice != 0 {
			return unsupported("overlapping slices (ASO)")
		}
		if err := d.macroblockCAVLC(r, mb, &qp); err != nil {
			return err
		}
		if r.overrun() {
			return invalid("slice data truncated at macroblock %d", mb)
		}
		mb++
		if !r.moreRBSPData() {
			return nil
		}
	}
}

// beginMb records the slice-level facts of macroblock mb.
func (d *Decoder) beginMb(mb int) *mbInfo {
	m := &d.mbs[mb]
	m.slice = d.sliceNum
	m.deblockIdc = uint8(d.hdr.disableDeblock)
	m.alphaOff, m.betaOff = int8(d.hdr.alphaOffset), int8(d.hdr.betaOffset)
	m.nz = [24]uint8{}
	m.cbfDC = 0
	d.decoded++
	return m
}

func (d *Decoder) macroblockCAVLC(r *bitReader, mb int, qp *int) error {
	m := d.beginMb(mb)
	c := &d.cur
	t := r.ue()
	if t > 25 {
		return invalid("mb_type %d in I slice", t)
	}
	if t == 25 {
		// I_PCM (§7.3.5): byte-aligned raw samples.
		r.pos = (r.pos + 7) &^ 7
		if r.pos+384*8 > r.size {
			return invalid("truncated I_PCM")
		}
		copy(c.pcm[:], r.buf[r.pos>>3:])
		r.pos += 384 * 8
		c.typ = mbPCM
		d.finishPCM(mb, m, *qp)
		return nil
	}
	c.t8 = false
	if t == 0 {
		c.typ = mbI4
		if d.pps.transform8x8 && r.flag() {
			c.typ, c.t8 = mbI8, true
		}
		n := 16
		if c.t8 {
			n = 4
		}
		for i := 0; i < n; i++ {
			if r.flag() {
				c.modes[i] = -1
			} else {
				c.modes[i] = int8(r.u(3))
			}
		}
	} else {
		c.typ = mbI16
		c.i16mode = int(t-1) % 4
	}
	cm := r.ue()
	if cm > 3 {
		return invalid("intra_chroma_pred_mode %d", cm)
	}
	c.chromaMode = int(cm)
	if c.typ == mbI16 {
		c.cbp = int((t-1)/4%3) << 4
		if t >= 13 {
			c.cbp |= 15
		}
	} else {
		k := r.ue()
		if k > 47 {
			return invalid("coded_block_pattern %d", k)
		}
		c.cbp = int(intraCBP[k])
	}
	c.reset()
	if c.cbp != 0 || c.typ == mbI16 {
		dq := r.se()
		if dq < -26 || dq > 25 {
			return invalid("mb_qp_delta %d", dq)
		}
		*qp = (*qp + int(dq) + 52) % 52
	}
	c.qp = *qp
	if r.overrun() {
		return invalid("truncated macroblock header")
	}
	if err := d.residualCAVLC(r, mb, m); err != nil {
		return err
	}
	d.reconstruct(mb, m)
	return nil
}

// nC derives the coeff_token table selector (§9.2.1) for the 4x4 block at
// raster position (x, y) of component comp (0 luma, 1 Cb, 2 Cr).
func (d *Decoder) nC(mb int, m *mbInfo, comp, x, y int) int {
	w := d.sps.widthMbs
	size, base := 4, 0
	if comp > 0 {
		size, base = 2, 16+(comp-1)*4
	}
	var nA, nB int
	availA, availB := true, true
	if x > 0 {
		nA = int(m.nz[base+y*size+x-1])
	} else if mb%w > 0 && d.mbs[mb-1].slice == m.slice {
		nA = int(d.mbs[mb-1].nz[base+y*size+size-1])
	} else {
		availA = false
	}
	if y > 0 {
		nB = int(m.nz[base+(y-1)*size+x])
	} else if mb >= w && d.mbs[mb-w].slice == m.slice {
		nB = int(d.mbs[mb-w].nz[base+(size-1)*size+x])
	} else {
		availB = false
	}
	switch {
	case availA && availB:
		return (nA + nB + 1) >> 1
	case availA:
		return nA
	case availB:
		return nB
	}
	return 0
}

func coeffTokenTable(nC int) *vlcTable {
	switch {
	case nC < 0:
		return coeffTokenTables[4]
	case nC < 2:
		return coeffTokenTables[0]
	case nC < 4:
		return coeffTokenTables[1]
	case nC < 8:
		return coeffTokenTables[2]
	}
	return coeffTokenTables[3]
}

// residualBlock parses residual_block_cavlc() (§7.3.5.3.2) into levels (scan
// order, maxNum entries) and returns TotalCoeff.
func residualBlock(r *bitReader, nC int, levels []int32, maxNum int) (int, error) {
	tok, ok := coeffTokenTable(nC).read(r)
	if !ok {
		return 0, invalid("coeff_token")
	}
	total, t1 := tok>>2, tok&3
	if total == 0 {
		return 0, nil
	}
	if total > maxNum {
		return 0, invalid("TotalCoeff %d > %d", total, maxNum)
	}
	var level [16]int32
	suffixLength := 0
	if total > 10 && t1 < 3 {
		suffixLength = 1
	}
	for i := 0; i < total; i++ {
		if i < t1 {
			level[i] = 1 - 2*int32(r.u(1))
			continue
		}
		prefix := 0
		for r.u(1) == 0 {
			prefix++
			if prefix > 28 {
				return 0, invalid("level_prefix")
			}
		}
		code := min(15, prefix) << uint(suffixLength)
		size := suffixLength
		if prefix == 14 && suffixLength == 0 {
			size = 4
		}
		if prefix >= 15 {
			size = prefix - 3
		}
		if size > 0 {
			code += int(r.u(size))
		}
		if prefix >= 15 && suffixLength == 0 {
			code += 15
		}
		if prefix >= 16 {
			code += 1<<uint(prefix-3) - 4096
		}
		if i == t1 && t1 < 3 {
			code += 2
		}
		if code&1 == 0 {
			level[i] = int32(code+2) >> 1
		} else {
			level[i] = int32(-code-1) >> 1
		}
		if suffixLength == 0 {
			suffixLength = 1
		}
		a := level[i]
		if a < 0 {
			a = -a
		}
		if a > 3<<uint(suffixLength-1) && suffixLength < 6 {
			suffixLength++
		}
	}
	zerosLeft := 0
	if total < maxNum {
		var tz int
		if maxNum == 4 {
			tz, ok = totalZerosChromaDCTables[total-1].read(r)
		} else {
			tz, ok = totalZerosTables[total-1].read(r)
		}
		if !ok || total+tz > maxNum {
			return 0, invalid("total_zeros")
		}
		zerosLeft = tz
	}
	var run [16]int
	for i := 0; i < total-1; i++ {
		if zerosLeft > 0 {
			rb, ok := runBeforeTables[min(zerosLeft, 7)-1].read(r)
			if !ok || rb > zerosLeft {
				return 0, invalid("run_before")
			}
			run[i] = rb
			zerosLeft -= rb
		}
	}
	run[total-1] = zerosLeft
	k := -1
	for i := total - 1; i >= 0; i-- {
		k += run[i] + 1
		levels[k] = level[i]
	}
	return total, nil
}

// residualCAVLC parses residual() (§7.3.5.3) of the current macroblock.
func (d *Decoder) residualCAVLC(r *bitReader, mb int, m *mbInfo) error {
	c := &d.cur
	var lv [16]int32
	if c.typ == mbI16 {
		lv = [16]int32{}
		if _, err := residualBlock(r, d.nC(mb, m, 0, 0, 0), lv[:], 16); err != nil {
			return err
		}
		for k := 0; k < 16; k++ {
			c.lumaDC[zigzag4x4[k]] = lv[k]
		}
	}
	for b8 := 0; b8 < 4; b8++ {
		if c.cbp&(1<<uint(b8)) == 0 {
			continue
		}
		for b4 := 0; b4 < 4; b4++ {
			x, y := (b8&1)*2+(b4&1), (b8>>1)*2+(b4>>1)
			nc := d.nC(mb, m, 0, x, y)
			lv = [16]int32{}
			var n int
			var err error
			if c.typ == mbI16 {
				n, err = residualBlock(r, nc, lv[:15], 15)
			} else {
				n, err = residualBlock(r, nc, lv[:], 16)
			}
			if err != nil {
				return err
			}
			m.nz[y*4+x] = uint8(n)
			if n == 0 {
				continue
			}
			switch {
			case c.t8:
				// 8x8 blocks arrive as four interleaved 4x4 parts (§7.3.5.3.2).
				for k := 0; k < 16; k++ {
					c.luma8[b8][zigzag8x8[4*k+b4]] = lv[k]
				}
				c.hasLuma |= 1 << uint(b8)
			case c.typ == mbI16:
				for k := 0; k < 15; k++ {
					c.luma[y*4+x][zigzag4x4[k+1]] = lv[k]
				}
				c.hasLuma |= 1 << uint(y*4+x)
			default:
				for k := 0; k < 16; k++ {
					c.luma[y*4+x][zigzag4x4[k]] = lv[k]
				}
				c.hasLuma |= 1 << uint(y*4+x)
			}
		}
	}
	if c.cbp>>4 == 0 {
		return nil
	}
	for comp := 0; comp < 2; comp++ {
		lv = [16]int32{}
		if _, err := residualBlock(r, -1, lv[:4], 4); err != nil {
			return err
		}
		copy(c.chromaDC[comp][:], lv[:4])
	}
	if c.cbp>>4 < 2 {
		return nil
	}
	for comp := 0; comp < 2; comp++ {
		for b := 0; b < 4; b++ {
			lv = [16]int32{}
			n, err := residualBlock(r, d.nC(mb, m, comp+1, b&1, b>>1), lv[:15], 15)
			if err != nil {
				return err
			}
			m.nz[16+comp*4+b] = uint8(n)
			if n > 0 {
				for k := 0; k < 15; k++ {
					c.chromaAC[comp][b][zigzag4x4[k+1]] = lv[k]
				}
				c.hasChroma |= 1 << uint(comp*4+b)
			}
		}
	}
	return nil
}
