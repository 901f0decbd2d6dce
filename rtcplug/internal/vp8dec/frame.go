package vp8dec

// mbModes is the prediction record of one macroblock (RFC 6386 section 11).
type mbModes struct {
	segment int
	skip    bool
	ymode   int
	uvmode  int
	bmodes  [16]uint8
}

// decodeFrame decodes every macroblock in raster order. The loop filter
// runs one macroblock row behind reconstruction: filtering row r changes
// only rows r and above, and row r+1 must be predicted from row r before it
// is filtered (RFC 6386 section 15: prediction uses unfiltered pixels).
func (d *Decoder) decodeFrame() {
	for i := range d.aboveNz {
		d.aboveNz[i] = 0
	}
	for i := range d.aboveBmode {
		d.aboveBmode[i] = bDC
	}
	filter := d.filterLevel != 0
	var m mbModes
	for mby := 0; mby < d.mbh; mby++ {
		tp := &d.parts[mby&(d.nparts-1)]
		var leftNz [9]uint8
		var leftBmode [4]uint8
		if mby > 0 {
			// The rightmost macroblock's above-right pixels repeat the
			// last pixel of the row above (RFC 6386 section 12.3).
			row := d.yOrig + (16*mby-1)*d.yStride + 16*d.mbw
			v := d.ybuf[row-1]
			d.ybuf[row], d.ybuf[row+1], d.ybuf[row+2], d.ybuf[row+3] = v, v, v, v
		}
		info := d.lfInfo[(mby&1)*d.mbw : (mby&1)*d.mbw+d.mbw]
		for mbx := 0; mbx < d.mbw; mbx++ {
			d.parseModes(&m, d.aboveBmode[4*mbx:4*mbx+4], &leftBmode)
			var nz, ac uint32
			inner := m.ymode == modeB
			if !m.skip {
				// A partition read past its end stops the reference
				// decoder's coefficient reading; the macroblock then
				// keeps its contexts, has no residual, and does not count
				// as skipped for the loop filter.
				if !tp.exhausted() {
					nz, ac = d.decodeTokens(tp, &m, d.aboveNz[9*mbx:9*mbx+9], &leftNz)
				}
				inner = inner || nz != 0 || tp.exhausted()
			} else {
				// RFC 6386 section 13.1; the Y2 contexts are left alone
				// by a macroblock that has no Y2 block.
				a := d.aboveNz[9*mbx : 9*mbx+9]
				for i := 0; i < 8; i++ {
					a[i], leftNz[i] = 0, 0
				}
				if m.ymode != modeB {
					a[8], leftNz[8] = 0, 0
				}
			}
			d.reconstruct(mbx, mby, &m, nz, ac)
			lvl := d.lfLevel[m.segment][1]
			if m.ymode == modeB {
				lvl = d.lfLevel[m.segment][0]
			}
			info[mbx] = mbFilterInfo{level: lvl, inner: inner}
		}
		if filter && mby > 0 {
			d.filterRow(mby - 1)
		}
	}
	if filter {
		d.filterRow(d.mbh - 1)
	}
}

// parseModes reads a key frame macroblock header from the first partition
// (RFC 6386 sections 10 and 11). above and left are the subblock modes
// bordering the macroblock and are updated for the next ones.
func (d *Decoder) parseModes(m *mbModes, above []uint8, left *[4]uint8) {
	br := &d.fp
	m.segment = 0
	if d.segUpdateMap {
		if !br.readBool(d.segProbs[0]) {
			if br.readBool(d.segProbs[1]) {
				m.segment = 1
			}
		} else {
			m.segment = 2
			if br.readBool(d.segProbs[2]) {
				m.segment = 3
			}
		}
	}
	m.skip = d.skipEnabled && br.readBool(d.skipProb)

	if !br.readBool(kfYmodeProbs[0]) {
		m.ymode = modeB
		_ = above[3]
		for i := 0; i < 16; i++ {
			a := above[i&3]
			l := left[i>>2]
			b := readBmode(br, kfBmodeProbs[(int(a)*10+int(l))*9:][:9])
			m.bmodes[i] = b
			above[i&3] = b
			left[i>>2] = b
		}
	} else {
		var b uint8
		if !br.readBool(kfYmodeProbs[1]) {
			if !br.readBool(kfYmodeProbs[2]) {
				m.ymode, b = modeDC, bDC
			} else {
				m.ymode, b = modeV, bVE
			}
		} else {
			if !br.readBool(kfYmodeProbs[3]) {
				m.ymode, b = modeH, bHE
			} else {
				m.ymode, b = modeTM, bTM
			}
		}
		// Section 11.3: a 16x16 mode counts as its 4x4 counterpart for
		// the contexts of later subblock modes.
		above[0], above[1], above[2], above[3] = b, b, b, b
		left[0], left[1], left[2], left[3] = b, b, b, b
	}

	switch {
	case !br.readBool(kfUVModeProbs[0]):
		m.uvmode = modeDC
	case !br.readBool(kfUVModeProbs[1]):
		m.uvmode = modeV
	case !br.readBool(kfUVModeProbs[2]):
		m.uvmode = modeH
	default:
		m.uvmode = modeTM
	}
}

// readBmode walks the subblock mode tree of RFC 6386 section 11.2.
func readBmode(br *boolDecoder, p []uint8) uint8 {
	_ = p[8]
	if !br.readBool(p[0]) {
		return bDC
	}
	if !br.readBool(p[1]) {
		return bTM
	}
	if !br.readBool(p[2]) {
		return bVE
	}
	if !br.readBool(p[3]) {
		if !br.readBool(p[4]) {
			return bHE
		}
		if !br.readBool(p[5]) {
			return bRD
		}
		return bVR
	}
	if !br.readBool(p[6]) {
		return bLD
	}
	if !br.readBool(p[7]) {
		return bVL
	}
	if !br.readBool(p[8]) {
		return bHD
	}
	return bHU
}

// Block indices within coeffs: 16 Y, 4 U, 4 V, then Y2.
const (
	blockU  = 16
	blockV  = 20
	blockY2 = 24
)

// decodeTokens reads the residual of one macroblock (RFC 6386 section 13)
// into d.coeffs, dequantized. It returns two bit masks over the 25 blocks:
// nz has bit i set when block i has any token before dct_eob, ac when it
// has tokens beyond the first position (so more than a DC to transform).
func (d *Decoder) decodeTokens(br *boolDecoder, m *mbModes, above []uint8, left *[9]uint8) (nz, ac uint32) {
	_ = above[8]
	q := &d.dq[m.segment]
	c := d.coeffs[:]
	firstY := 0
	yType := 3
	if m.ymode != modeB {
		ctx := above[8] + left[8]
		n := br.decodeBlock(&d.bandProbs[1], int(ctx), 0, (*[16]int16)(c[blockY2*16:]), q.y2dc, q.y2ac)
		f := b2u(n > 0)
		above[8], left[8] = f, f
		if n > 0 {
			nz |= 1 << blockY2
			if n > 1 {
				ac |= 1 << blockY2
			}
		}
		firstY = 1
		yType = 0
	}
	for i := 0; i < 16; i++ {
		x, y := i&3, i>>2
		ctx := above[x] + left[y]
		n := br.decodeBlock(&d.bandProbs[yType], int(ctx), firstY, (*[16]int16)(c[i*16:]), q.y1dc, q.y1ac)
		f := b2u(n > 0)
		above[x], left[y] = f, f
		if n > 0 {
			nz |= 1 << uint(i)
			if n > 1 {
				ac |= 1 << uint(i)
			}
		}
	}
	for i := 16; i < 24; i++ {
		// U blocks use contexts 4-5, V blocks 6-7.
		j := i - 16
		ax := 4 + (j>>2)*2 + j&1
		ly := 4 + (j>>2)*2 + (j>>1)&1
		ctx := above[ax] + left[ly]
		n := br.decodeBlock(&d.bandProbs[2], int(ctx), 0, (*[16]int16)(c[i*16:]), q.uvdc, q.uvac)
		f := b2u(n > 0)
		above[ax], left[ly] = f, f
		if n > 0 {
			nz |= 1 << uint(i)
			if n > 1 {
				ac |= 1 << uint(i)
			}
		}
	}
	return nz, ac
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// maxCoeff bounds the dequantized coefficients of a sane stream; beyond it
// the 16-bit transforms of decoders overflow, each in its own way.
const maxCoeff = 8191

// decide is one bool decision on an explicit decoder state (value, range
// minus one), returning the new state (n counts the loaded bits) and the
// bool. Small enough to inline into the token loop, which refills the window
// itself. Keeping range minus one saves the two adjustments of split =
// 1 + ((range-1)*prob)>>8 on the chain from one decision to the next, and
// the normalization is two independent table loads instead of a bit scan.
func decide(v uint64, r uint32, n int, prob uint8) (uint64, uint32, int, bool) {
	sp := (r * uint32(prob)) >> 8 // split - 1
	b := v>>56 > uint64(sp)
	if b {
		r -= sp + 1
		v -= uint64(sp+1) << 56
	} else {
		r = sp
	}
	s := normShift[uint8(r)]
	// s is at most 7; the mask spares the compiler's large-shift check.
	return v << (uint(s) & 63), uint32(normRange[uint8(r)]), n - int(s), b
}

// decideSign is decide at probability one half, for the sign of a token:
// a coin toss, so the outcome is applied by masks rather than by a branch
// that would mispredict half the time, and the split needs no
// multiplication. It returns -1 for a set bool (negative), else 0.
func decideSign(v uint64, r uint32, n int) (uint64, uint32, int, int32) {
	sp := r >> 1
	m := int32(sp-uint32(v>>56)) >> 31
	r = sp ^ ((sp ^ (r - sp - 1)) & uint32(m))
	v -= uint64(sp+1) << 56 & uint64(int64(m))
	s := normShift[uint8(r)]
	return v << (uint(s) & 63), uint32(normRange[uint8(r)]), n - int(s), m
}

// decodeBlock reads the tokens of one 4x4 block (RFC 6386 section 13.2) and
// stores the dequantized values at their raster positions in dst. It returns
// 0 when the first token is dct_eob, else the position after the last token
// read. Values are kept in 16 bits as in the reference decoder.
//
// The decoder state lives in locals; the window is refilled once per token
// to at least 40 bits, enough for the common tokens (each decision shifts
// at most 7 bits): dct_eob, DCT_0, DCT_1 to DCT_4 and the sign take at most
// five decisions. Longer tokens refill as they go.
func (br *boolDecoder) decodeBlock(pp *[16]*[3][11]uint8, ctx, first int, dst *[16]int16, dcq, acq int32) int {
	v, n, rg := br.value, br.nbits, br.rng
	var b bool
	i := first
	p := &pp[i&15][ctx]
	if n < 40 {
		br.value, br.nbits = v, n
		br.fill()
		v, n = br.value, br.nbits
	}
	if v, rg, n, b = decide(v, rg, n, p[0]); !b {
		br.value, br.nbits, br.rng = v, n, rg
		return 0
	}
	for {
		if n < 40 {
			br.value, br.nbits = v, n
			br.fill()
			v, n = br.value, br.nbits
		}
		if v, rg, n, b = decide(v, rg, n, p[1]); !b {
			// DCT_0: the next token cannot be dct_eob.
			i++
			if i == 16 {
				break
			}
			p = &pp[i][0]
			continue
		}
		var x int32
		next := 2
		if v, rg, n, b = decide(v, rg, n, p[2]); !b {
			x = 1
			next = 1
		} else if v, rg, n, b = decide(v, rg, n, p[3]); !b {
			if v, rg, n, b = decide(v, rg, n, p[4]); !b {
				x = 2
			} else {
				v, rg, n, b = decide(v, rg, n, p[5])
				x = 3 + int32(b2u(b))
			}
		} else {
			br.value, br.nbits, br.rng = v, n, rg
			x = br.readLarge(p)
			v, n, rg = br.value, br.nbits, br.rng
			if n < 8 {
				br.fill()
				v, n = br.value, br.nbits
			}
		}
		var neg int32
		v, rg, n, neg = decideSign(v, rg, n)
		x = (x ^ neg) - neg
		dq := acq
		if i == 0 {
			dq = dcq
		}
		x *= dq
		if uint32(x+maxCoeff) > 2*maxCoeff {
			br.wild = true
		}
		dst[zigzag[i&15]] = int16(x)
		i++
		if i == 16 {
			break
		}
		p = &pp[i][next]
		if n < 8 {
			br.value, br.nbits = v, n
			br.fill()
			v, n = br.value, br.nbits
		}
		if v, rg, n, b = decide(v, rg, n, p[0]); !b {
			break
		}
	}
	br.value, br.nbits, br.rng = v, n, rg
	return i
}

// readLarge reads the rest of a token from dct_cat1 up, after the decision
// at p[3] (RFC 6386 section 13.2), and returns its absolute value.
func (br *boolDecoder) readLarge(p *[11]uint8) int32 {
	if !br.readBool(p[6]) {
		if !br.readBool(p[7]) {
			return 5 + int32(b2u(br.readBool(159)))
		}
		v := 7 + 2*int32(b2u(br.readBool(165)))
		return v + int32(b2u(br.readBool(145)))
	}
	var v int32
	var ep []uint8
	if !br.readBool(p[8]) {
		if !br.readBool(p[9]) {
			v, ep = 11, cat3Probs[:]
		} else {
			v, ep = 19, cat4Probs[:]
		}
	} else {
		if !br.readBool(p[10]) {
			v, ep = 35, cat5Probs[:]
		} else {
			v, ep = 67, cat6Probs[:]
		}
	}
	e := int32(0)
	for _, pr := range ep {
		e = e<<1 | int32(b2u(br.readBool(pr)))
	}
	return v + e
}
