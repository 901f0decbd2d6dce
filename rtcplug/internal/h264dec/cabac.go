package h264dec

import "math/bits"

// CABAC parsing for I slices, ITU-T H.264 §9.3.

// Context index offsets (Table 9-34) used by I slices.
const (
	ctxMbTypeI      = 3
	ctxQPDelta      = 60
	ctxChromaPred   = 64
	ctxPrevIntra    = 68
	ctxRemIntra     = 69
	ctxCBPLuma      = 73
	ctxCBPChroma    = 77
	ctxCBF          = 85
	ctxSig          = 105
	ctxLast         = 166
	ctxAbs          = 227
	ctxTransform8x8 = 399
	ctxSig8x8       = 402
	ctxLast8x8      = 417
	ctxAbs8x8       = 426
)

// ctxBlockCatOffset (Table 9-40) for coded_block_flag, significant and
// last flags, and coeff_abs_level_minus1, by ctxBlockCat 0..4.
var (
	catOffCBF   = [5]int{0, 4, 8, 12, 16}
	catOffSig   = [5]int{0, 15, 29, 44, 47}
	catOffAbs   = [5]int{0, 10, 20, 30, 39}
	catMaxCoeff = [6]int{16, 15, 16, 4, 15, 64}
)

type cabacState struct {
	r   *bitReader
	rng uint32
	off uint32
	// Bits are read through a cache; the bit position is
	// bytePos*8 - nbits (bytePos may pass the end: zeros are read there).
	bytePos int
	cache   uint64 // MSB-aligned
	nbits   int
	ctx     [numCtx]uint8 // pStateIdx<<1 | valMPS
	lastDQ  int32         // mb_qp_delta of the previous macroblock of the slice
}

// init implements §9.3.1.1 (context variables) and §9.3.1.2 (engine).
func (c *cabacState) initContexts(qp int) {
	for i := range c.ctx {
		m, n := int(cabacMN[i][0]), int(cabacMN[i][1])
		pre := int(clip3(1, 126, int32((m*qp)>>4+n)))
		if pre <= 63 {
			c.ctx[i] = uint8(63-pre) << 1
		} else {
			c.ctx[i] = uint8(pre-64)<<1 | 1
		}
	}
}

// initEngine starts the engine at the reader's (byte-aligned) position.
func (c *cabacState) initEngine() {
	c.bytePos = c.r.pos >> 3
	c.cache, c.nbits = 0, 0
	c.rng = 510
	c.off = c.read(9)
}

// sync moves the bit reader to the engine's position.
func (c *cabacState) sync() { c.r.pos = c.bytePos*8 - c.nbits }

// read returns the next n <= 32 bits.
func (c *cabacState) read(n int) uint32 {
	if c.nbits < n {
		for c.nbits <= 56 {
			if c.bytePos < len(c.r.buf) {
				c.cache |= uint64(c.r.buf[c.bytePos]) << uint(56-c.nbits)
			}
			c.bytePos++
			c.nbits += 8
		}
	}
	v := uint32(c.cache >> uint(64-n))
	c.cache <<= uint(n)
	c.nbits -= n
	return v
}

// decision implements DecodeDecision (§9.3.3.2.1).
func (c *cabacState) decision(ctxIdx int) int {
	s := c.ctx[ctxIdx]
	state, mps := s>>1, int(s&1)
	lps := uint32(rangeTabLPS[state][(c.rng>>6)&3])
	c.rng -= lps
	var bin int
	if c.off >= c.rng {
		bin = 1 - mps
		c.off -= c.rng
		c.rng = lps
		if state == 0 {
			mps = 1 - mps
		}
		c.ctx[ctxIdx] = transIdxLPS[state]<<1 | uint8(mps)
	} else {
		bin = mps
		if state < 62 {
			state++
		}
		c.ctx[ctxIdx] = state<<1 | uint8(mps)
	}
	if c.rng < 256 {
		// RenormD (§9.3.3.2.2): shift until codIRange >= 256.
		n := bits.LeadingZeros32(c.rng) - 23
		c.rng <<= uint(n)
		c.off = c.off<<uint(n) | c.read(n)
	}
	return bin
}

// bypass implements DecodeBypass (§9.3.3.2.3).
func (c *cabacState) bypass() int {
	c.off = c.off<<1 | c.read(1)
	if c.off >= c.rng {
		c.off -= c.rng
		return 1
	}
	return 0
}

// terminate implements DecodeTerminate (§9.3.3.2.2.3).
func (c *cabacState) terminate() int {
	c.rng -= 2
	if c.off >= c.rng {
		return 1
	}
	if c.rng < 256 {
		n := bits.LeadingZeros32(c.rng) - 23
		c.rng <<= uint(n)
		c.off = c.off<<uint(n) | c.read(n)
	}
	return 0
}

func (d *Decoder) sliceDataCABAC(r *bitReader) error {
	c := &d.cabac
	c.r = r
	// cabac_alignment_one_bit (§7.3.4).
	r.pos = (r.pos + 7) &^ 7
	c.initContexts(d.hdr.qp)
	c.initEngine()
	c.lastDQ = 0
	mb := d.hdr.firstMb
	qp := d.hdr.qp
	for {
		if mb >= len(d.mbs) {
			return invalid("slice data beyond the picture")
		}
		if d.mbs[mb].slice != 0 {
			return unsupported("overlapping slices (ASO)")
		}
		if err := d.macroblockCABAC(mb, &qp); err != nil {
			return err
		}
		c.sync()
		if r.overrun() {
			return invalid("slice data truncated at macroblock %d", mb)
		}
		mb++
		if c.terminate() == 1 { // end_of_slice_flag
			return nil
		}
	}
}

// neighbours returns the left (A) and top (B) macroblocks when available.
func (d *Decoder) neighbours(mb int) (a, b *mbInfo) {
	w := d.sps.widthMbs
	s := d.mbs[mb].slice
	if mb%w > 0 && d.mbs[mb-1].slice == s {
		a = &d.mbs[mb-1]
	}
	if mb >= w && d.mbs[mb-w].slice == s {
		b = &d.mbs[mb-w]
	}
	return
}

func (d *Decoder) macroblockCABAC(mb int, qp *int) error {
	m := d.beginMb(mb)
	c := &d.cur
	e := &d.cabac
	r := e.r
	A, B := d.neighbours(mb)
	// mb_type (§9.3.3.1.1.3, Table 9-36).
	inc := 0
	if A != nil && A.typ != mbI4 && A.typ != mbI8 {
		inc++
	}
	if B != nil && B.typ != mbI4 && B.typ != mbI8 {
		inc++
	}
	c.t8 = false
	if e.decision(ctxMbTypeI+inc) == 0 {
		c.typ = mbI4
	} else if e.terminate() == 1 {
		// I_PCM: pcm_alignment_zero_bit, samples, then a fresh engine.
		e.sync()
		r.pos = (r.pos + 7) &^ 7
		if r.pos+384*8 > r.size {
			return invalid("truncated I_PCM")
		}
		copy(c.pcm[:], r.buf[r.pos>>3:])
		r.pos += 384 * 8
		c.typ = mbPCM
		d.finishPCM(mb, m, *qp)
		e.initEngine()
		e.lastDQ = 0
		return nil
	} else {
		c.typ = mbI16
		luma := e.decision(ctxMbTypeI + 3)
		chroma := 0
		if e.decision(ctxMbTypeI+4) == 1 {
			chroma = 1 + e.decision(ctxMbTypeI+5)
			c.i16mode = e.decision(ctxMbTypeI+6)<<1 | e.decision(ctxMbTypeI+7)
		} else {
			c.i16mode = e.decision(ctxMbTypeI+6)<<1 | e.decision(ctxMbTypeI+7)
		}
		c.cbp = chroma << 4
		if luma == 1 {
			c.cbp |= 15
		}
	}
	if c.typ == mbI4 {
		if d.pps.transform8x8 {
			inc := 0
			if A != nil && A.t8 {
				inc++
			}
			if B != nil && B.t8 {
				inc++
			}
			if e.decision(ctxTransform8x8+inc) == 1 {
				c.typ, c.t8 = mbI8, true
			}
		}
		n := 16
		if c.t8 {
			n = 4
		}
		for i := 0; i < n; i++ {
			if e.decision(ctxPrevIntra) == 1 {
				c.modes[i] = -1
			} else {
				v := e.decision(ctxRemIntra)
				v |= e.decision(ctxRemIntra) << 1
				v |= e.decision(ctxRemIntra) << 2
				c.modes[i] = int8(v)
			}
		}
	}
	// intra_chroma_pred_mode: TU, cMax 3 (§9.3.3.1.1.8).
	inc = 0
	if A != nil && A.typ != mbPCM && A.chromaMode != 0 {
		inc++
	}
	if B != nil && B.typ != mbPCM && B.chromaMode != 0 {
		inc++
	}
	cm := 0
	if e.decision(ctxChromaPred+inc) == 1 {
		cm = 1
		for cm < 3 && e.decision(ctxChromaPred+3) == 1 {
			cm++
		}
	}
	c.chromaMode = cm
	if c.typ != mbI16 {
		c.cbp = d.cbpCABAC(A, B)
	}
	c.reset()
	dq := int32(0)
	if c.cbp != 0 || c.typ == mbI16 {
		// mb_qp_delta (§9.3.3.1.1.5), unary with mapped signs (Table 9-3).
		inc := 0
		if e.lastDQ != 0 {
			inc = 1
		}
		k := 0
		if e.decision(ctxQPDelta+inc) == 1 {
			k = 1
			for e.decision(ctxQPDelta+2+min(k-1, 1)) == 1 {
				k++
				if k > 52 {
					return invalid("mb_qp_delta")
				}
			}
		}
		if k&1 == 1 {
			dq = int32(k+1) / 2
		} else {
			dq = -int32(k / 2)
		}
		if dq < -26 || dq > 25 {
			return invalid("mb_qp_delta %d", dq)
		}
		*qp = (*qp + int(dq) + 52) % 52
	}
	e.lastDQ = dq
	c.qp = *qp
	e.sync()
	if r.overrun() {
		return invalid("truncated macroblock header")
	}
	d.residualCABAC(mb, m, A, B)
	d.reconstruct(mb, m)
	if c.t8 {
		// For neighbouring 4x4 blocks, an 8x8 block counts as coded when its
		// coded_block_pattern bit is set (§9.3.3.1.1.9).
		for b8 := 0; b8 < 4; b8++ {
			var v uint8
			if c.cbp&(1<<uint(b8)) != 0 {
				v = 1
			}
			p := (b8>>1)*8 + (b8&1)*2
			m.nz[p], m.nz[p+1], m.nz[p+4], m.nz[p+5] = v, v, v, v
		}
	}
	return nil
}

// cbpCABAC decodes coded_block_pattern (§9.3.3.1.1.4): 4 luma bins, then a
// TU(2) chroma part.
func (d *Decoder) cbpCABAC(A, B *mbInfo) int {
	e := &d.cabac
	cbp := 0
	for b8 := 0; b8 < 4; b8++ {
		x, y := b8&1, b8>>1
		var a, b int // condTermFlagN
		if x > 0 {
			a = (cbp>>uint(b8-1)&1 ^ 1)
		} else if A != nil && A.typ != mbPCM {
			a = int(A.cbp>>uint(b8+1)&1) ^ 1
		}
		if y > 0 {
			b = (cbp>>uint(b8-2)&1 ^ 1)
		} else if B != nil && B.typ != mbPCM {
			b = int(B.cbp>>uint(b8+2)&1) ^ 1
		}
		cbp |= e.decision(ctxCBPLuma+a+2*b) << uint(b8)
	}
	var a, b int
	if A != nil && (A.typ == mbPCM || A.cbp>>4 != 0) {
		a = 1
	}
	if B != nil && (B.typ == mbPCM || B.cbp>>4 != 0) {
		b = 1
	}
	if e.decision(ctxCBPChroma+a+2*b) == 0 {
		return cbp
	}
	a, b = 0, 0
	if A != nil && (A.typ == mbPCM || A.cbp>>4 == 2) {
		a = 1
	}
	if B != nil && (B.typ == mbPCM || B.cbp>>4 == 2) {
		b = 1
	}
	return cbp | (1+e.decision(ctxCBPChroma+4+a+2*b))<<4
}

// cbfInc derives ctxIdxInc of coded_block_flag from the two neighbouring
// blocks' condTermFlags (§9.3.3.1.1.9).
func cbfInc(a, b int) int { return a + 2*b }

// residualCABAC parses residual() with CABAC for the current macroblock.
func (d *Decoder) residualCABAC(mb int, m *mbInfo, A, B *mbInfo) {
	c := &d.cur
	var lv [64]int32
	if c.typ == mbI16 {
		a, b := 1, 1
		if A != nil {
			a = 0
			if A.typ == mbPCM || A.typ == mbI16 && A.cbfDC&1 != 0 {
				a = 1
			}
		}
		if B != nil {
			b = 0
			if B.typ == mbPCM || B.typ == mbI16 && B.cbfDC&1 != 0 {
				b = 1
			}
		}
		if d.cabac.decision(ctxCBF+catOffCBF[0]+cbfInc(a, b)) == 1 {
			m.cbfDC |= 1
			lv = [64]int32{}
			d.coeffsCABAC(0, lv[:16])
			for k := 0; k < 16; k++ {
				c.lumaDC[zigzag4x4[k]] = lv[k]
			}
		}
	}
	for b8 := 0; b8 < 4; b8++ {
		if c.cbp&(1<<uint(b8)) == 0 {
			continue
		}
		if c.t8 {
			lv = [64]int32{}
			d.coeffsCABAC(5, lv[:64])
			for k := 0; k < 64; k++ {
				c.luma8[b8][zigzag8x8[k]] = lv[k]
			}
			c.hasLuma |= 1 << uint(b8)
			continue
		}
		for b4 := 0; b4 < 4; b4++ {
			x, y := (b8&1)*2+(b4&1), (b8>>1)*2+(b4>>1)
			pos := y*4 + x
			a, b := d.cbfLuma(m, A, B, x, y)
			cat := 2
			if c.typ == mbI16 {
				cat = 1
			}
			if d.cabac.decision(ctxCBF+catOffCBF[cat]+cbfInc(a, b)) == 0 {
				continue
			}
			lv = [64]int32{}
			n := catMaxCoeff[cat]
			cnt := d.coeffsCABAC(cat, lv[:n])
			m.nz[pos] = uint8(cnt)
			if cat == 1 {
				for k := 0; k < 15; k++ {
					c.luma[pos][zigzag4x4[k+1]] = lv[k]
				}
			} else {
				for k := 0; k < 16; k++ {
					c.luma[pos][zigzag4x4[k]] = lv[k]
				}
			}
			c.hasLuma |= 1 << uint(pos)
		}
	}
	if c.cbp>>4 == 0 {
		return
	}
	for comp := 0; comp < 2; comp++ {
		bit := uint8(2 << uint(comp))
		a, b := 1, 1
		if A != nil {
			a = 0
			if A.typ == mbPCM || A.cbp>>4 != 0 && A.cbfDC&bit != 0 {
				a = 1
			}
		}
		if B != nil {
			b = 0
			if B.typ == mbPCM || B.cbp>>4 != 0 && B.cbfDC&bit != 0 {
				b = 1
			}
		}
		if d.cabac.decision(ctxCBF+catOffCBF[3]+cbfInc(a, b)) == 1 {
			m.cbfDC |= bit
			lv = [64]int32{}
			d.coeffsCABAC(3, lv[:4])
			copy(c.chromaDC[comp][:], lv[:4])
		}
	}
	if c.cbp>>4 < 2 {
		return
	}
	for comp := 0; comp < 2; comp++ {
		base := 16 + comp*4
		for blk := 0; blk < 4; blk++ {
			x, y := blk&1, blk>>1
			a, b := 1, 1
			switch {
			case x > 0:
				a = b2i(m.nz[base+blk-1] != 0)
			case A != nil:
				a = b2i(A.typ == mbPCM || A.cbp>>4 == 2 && A.nz[base+blk+1] != 0)
			}
			switch {
			case y > 0:
				b = b2i(m.nz[base+blk-2] != 0)
			case B != nil:
				b = b2i(B.typ == mbPCM || B.cbp>>4 == 2 && B.nz[base+blk+2] != 0)
			}
			if d.cabac.decision(ctxCBF+catOffCBF[4]+cbfInc(a, b)) == 0 {
				continue
			}
			lv = [64]int32{}
			cnt := d.coeffsCABAC(4, lv[:15])
			m.nz[base+blk] = uint8(cnt)
			for k := 0; k < 15; k++ {
				c.chromaAC[comp][blk][zigzag4x4[k+1]] = lv[k]
			}
			c.hasChroma |= 1 << uint(comp*4+blk)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cbfLuma returns condTermFlagA/B for a luma 4x4 block at raster (x, y).
func (d *Decoder) cbfLuma(m, A, B *mbInfo, x, y int) (a, b int) {
	cond := func(n *mbInfo, pos int) int {
		if n == nil {
			return 1 // unavailable, current macroblock intra
		}
		cbp := int(n.cbp)
		if n == m {
			cbp = d.cur.cbp
		} else if n.typ == mbPCM {
			return 1
		}
		b8 := (pos>>3)*2 + (pos&3)>>1
		if cbp&(1<<uint(b8)) == 0 {
			return 0
		}
		return b2i(n.nz[pos] != 0)
	}
	if x > 0 {
		a = cond(m, y*4+x-1)
	} else {
		a = cond(A, y*4+3)
	}
	if y > 0 {
		b = cond(m, (y-1)*4+x)
	} else {
		b = cond(B, 12+x)
	}
	return
}

// coeffsCABAC parses the significance map and levels of one block of
// ctxBlockCat cat (§7.3.5.3.3) into lv (scan order) and returns the count
// of non-zero coefficients.
func (d *Decoder) coeffsCABAC(cat int, lv []int32) int {
	e := &d.cabac
	maxN := len(lv)
	var sigBase, lastBase, absBase int
	if cat == 5 {
		sigBase, lastBase, absBase = ctxSig8x8, ctxLast8x8, ctxAbs8x8
	} else {
		sigBase = ctxSig + catOffSig[cat]
		lastBase = ctxLast + catOffSig[cat]
		absBase = ctxAbs + catOffAbs[cat]
	}
	var sig [64]bool
	n := maxN
	for i := 0; i < maxN-1; i++ {
		si, li := i, i
		switch cat {
		case 3:
			si, li = min(i, 2), min(i, 2)
		case 5:
			si, li = int(sig8x8Frame[i]), int(last8x8[i])
		}
		if e.decision(sigBase+si) == 1 {
			sig[i] = true
			if e.decision(lastBase+li) == 1 {
				n = i + 1
				break
			}
		}
	}
	if n == maxN {
		sig[maxN-1] = true
	}
	gt1, eq1 := 0, 0
	count := 0
	maxGt1 := 4
	if cat == 3 {
		maxGt1 = 3
	}
	for i := n - 1; i >= 0; i-- {
		if !sig[i] {
			continue
		}
		count++
		// coeff_abs_level_minus1: UEG0, uCoff 14 (§9.3.2.3, §9.3.3.1.3).
		inc := 0
		if gt1 == 0 {
			inc = min(4, 1+eq1)
		}
		v := int32(0)
		if e.decision(absBase+inc) == 1 {
			v = 1
			inc2 := 5 + min(maxGt1, gt1)
			for v < 14 && e.decision(absBase+inc2) == 1 {
				v++
			}
			if v == 14 {
				// Exp-Golomb suffix, k = 0, in bypass bins.
				k := 0
				for e.bypass() == 1 {
					v += 1 << uint(k)
					k++
					if k > 24 {
						e.bytePos = len(e.r.buf) + 8 // marks the slice as overrun
						return count
					}
				}
				for k > 0 {
					k--
					v += int32(e.bypass()) << uint(k)
				}
			}
		}
		lvl := v + 1
		if lvl == 1 {
			eq1++
		} else {
			gt1++
		}
		if e.bypass() == 1 {
			lvl = -lvl
		}
		lv[i] = lvl
	}
	return count
}
