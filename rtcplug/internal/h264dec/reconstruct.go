package h264dec

// Macroblock reconstruction: prediction mode derivation (§8.3.1.1,
// §8.3.2.1), intra prediction, scaling and transform (§8.5).

// mbAvail reports which neighbouring macroblocks are available (§6.4.10):
// inside the picture and in the current slice.
type mbAvail struct{ left, top, topRight, topLeft bool }

func (d *Decoder) avail(mb int) (a mbAvail) {
	w := d.sps.widthMbs
	s := d.mbs[mb].slice
	x, y := mb%w, mb/w
	a.left = x > 0 && d.mbs[mb-1].slice == s
	a.top = y > 0 && d.mbs[mb-w].slice == s
	a.topRight = y > 0 && x < w-1 && d.mbs[mb-w+1].slice == s
	a.topLeft = x > 0 && y > 0 && d.mbs[mb-w-1].slice == s
	return
}

// raster 4x4 position of luma4x4BlkIdx (§6.4.3) and back.
var (
	blkX = [16]uint8{0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3}
	blkY = [16]uint8{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}
	// blkOf maps a raster 4x4 position to luma4x4BlkIdx.
	blkOf = [16]uint8{0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15}
)

func (d *Decoder) finishPCM(mb int, m *mbInfo, qp int) {
	c := &d.cur
	w := d.sps.widthMbs
	mx, my := mb%w, mb/w
	yo := my*16*d.yStride + mx*16
	for i := 0; i < 16; i++ {
		copy(d.y[yo+i*d.yStride:yo+i*d.yStride+16], c.pcm[i*16:i*16+16])
	}
	co := my*8*d.cStride + mx*8
	for i := 0; i < 8; i++ {
		copy(d.cb[co+i*d.cStride:co+i*d.cStride+8], c.pcm[256+i*8:256+i*8+8])
		copy(d.cr[co+i*d.cStride:co+i*d.cStride+8], c.pcm[320+i*8:320+i*8+8])
	}
	m.typ = mbPCM
	m.t8 = false
	m.qp = int8(qp)
	m.qpDb = 0
	m.qpc[0] = int8(chromaQP(0, d.pps.chromaQPOffset[0]))
	m.qpc[1] = int8(chromaQP(0, d.pps.chromaQPOffset[1]))
	m.cbp = 0x2f
	m.chromaMode = 0
	m.cbfDC = 7
	for i := range m.modes {
		m.modes[i] = predDC
	}
	for i := range m.nz {
		m.nz[i] = 16
	}
}

// predModeOf returns the Intra4x4/8x8 mode a neighbouring block offers for
// prediction: DC unless the macroblock is coded Intra_NxN.
func predModeOf(m *mbInfo, pos int) int {
	if m.typ == mbI4 || m.typ == mbI8 {
		return int(m.modes[pos])
	}
	return predDC
}

func (d *Decoder) reconstruct(mb int, m *mbInfo) {
	c := &d.cur
	w := d.sps.widthMbs
	mx, my := mb%w, mb/w
	av := d.avail(mb)
	m.typ = uint8(c.typ)
	m.t8 = c.t8
	m.qp = int8(c.qp)
	m.qpDb = int8(c.qp)
	qpc0 := chromaQP(c.qp, d.pps.chromaQPOffset[0])
	qpc1 := chromaQP(c.qp, d.pps.chromaQPOffset[1])
	m.qpc = [2]int8{int8(qpc0), int8(qpc1)}
	m.cbp = uint8(c.cbp)
	m.chromaMode = uint8(c.chromaMode)
	ys := d.yStride
	yo := my*16*ys + mx*16
	var left, top *mbInfo
	if av.left {
		left = &d.mbs[mb-1]
	}
	if av.top {
		top = &d.mbs[mb-w]
	}
	switch c.typ {
	case mbI4:
		for bi := 0; bi < 16; bi++ {
			x, y := int(blkX[bi]), int(blkY[bi])
			pos := y*4 + x
			// §8.3.1.1: predicted mode from the blocks left (A) and above (B).
			var mA, mB int
			ok := true
			switch {
			case x > 0:
				mA = int(m.modes[pos-1])
			case left != nil:
				mA = predModeOf(left, pos+3)
			default:
				ok = false
			}
			switch {
			case y > 0:
				mB = int(m.modes[pos-4])
			case top != nil:
				mB = predModeOf(top, pos+12)
			default:
				ok = false
			}
			mode := intraMode(mA, mB, ok, int(c.modes[bi]))
			m.modes[pos] = int8(mode)
			px, py := x*4, y*4
			var e edges
			d.lumaEdges(&e, yo, px, py, 4, av, d.topRight4(bi, av))
			dst := d.y[yo+py*ys+px:]
			predictNxN(&e, mode, 4, dst, ys)
			if c.hasLuma&(1<<uint(pos)) != 0 {
				scale4x4(&c.luma[pos], &d.ls.s4[0][c.qp%6], c.qp, 0)
				idct4x4Add(&c.luma[pos], dst, ys)
			}
		}
	case mbI8:
		for b8 := 0; b8 < 4; b8++ {
			x8, y8 := b8&1, b8>>1
			pos := y8*8 + x8*2 // raster 4x4 position of its top-left 4x4 block
			var mA, mB int
			ok := true
			switch {
			case x8 > 0:
				mA = int(m.modes[pos-1])
			case left != nil:
				// An Intra4x4 neighbour offers the mode of 4x4 block n = 1 of
				// its 8x8 block (n = 2 above), §8.3.2.1.
				if left.typ == mbI4 {
					b8A := b8 + 1
					mA = int(left.modes[int(blkY[b8A*4+1])*4+int(blkX[b8A*4+1])])
				} else {
					mA = predModeOf(left, pos+3)
				}
			default:
				ok = false
			}
			switch {
			case y8 > 0:
				mB = int(m.modes[pos-4])
			case top != nil:
				if top.typ == mbI4 {
					b8B := b8 + 2
					mB = int(top.modes[int(blkY[b8B*4+2])*4+int(blkX[b8B*4+2])])
				} else {
					mB = predModeOf(top, pos+12)
				}
			default:
				ok = false
			}
			mode := intraMode(mA, mB, ok, int(c.modes[b8]))
			m.modes[pos], m.modes[pos+1], m.modes[pos+4], m.modes[pos+5] = int8(mode), int8(mode), int8(mode), int8(mode)
			px, py := x8*8, y8*8
			var tr bool
			switch b8 {
			case 0:
				tr = av.top
			case 1:
				tr = av.topRight
			case 2:
				tr = true
			}
			var e edges
			d.lumaEdges(&e, yo, px, py, 8, av, tr)
			filter8x8Edges(&e)
			dst := d.y[yo+py*ys+px:]
			predictNxN(&e, mode, 8, dst, ys)
			if c.hasLuma&(1<<uint(b8)) != 0 {
				scale8x8(&c.luma8[b8], &d.ls.s8[c.qp%6], c.qp)
				idct8x8Add(&c.luma8[b8], dst, ys)
			}
		}
	case mbI16:
		for i := range m.modes {
			m.modes[i] = predDC
		}
		var topRow, leftCol [16]byte
		var tl int32
		if av.top {
			copy(topRow[:], d.y[yo-ys:yo-ys+16])
		}
		if av.left {
			for i := 0; i < 16; i++ {
				leftCol[i] = d.y[yo+i*ys-1]
			}
		}
		if av.topLeft {
			tl = int32(d.y[yo-ys-1])
		}
		dst := d.y[yo:]
		predict16x16(topRow[:], leftCol[:], tl, av.top, av.left, c.i16mode, 16, dst, ys)
		ls := &d.ls.s4[0][c.qp%6]
		lumaDC(&c.lumaDC, ls[0], c.qp)
		for pos := 0; pos < 16; pos++ {
			blk := &c.luma[pos]
			blk[0] = c.lumaDC[pos]
			if c.hasLuma&(1<<uint(pos)) != 0 {
				scale4x4(blk, ls, c.qp, 1)
			} else if blk[0] == 0 {
				continue
			}
			x, y := pos&3, pos>>2
			idct4x4Add(blk, dst[y*4*ys+x*4:], ys)
		}
	}
	d.reconstructChroma(mb, av, [2]int{qpc0, qpc1})
}

// topRight4 reports whether p[4..7,-1] of 4x4 block bi is available
// (§6.4.11.4: blocks later in decoding order are not).
func (d *Decoder) topRight4(bi int, av mbAvail) bool {
	x, y := int(blkX[bi]), int(blkY[bi])
	if y == 0 {
		if x < 3 {
			return av.top
		}
		return av.topRight
	}
	if x == 3 {
		return false
	}
	return int(blkOf[(y-1)*4+x+1]) < bi
}

// lumaEdges gathers the neighbouring samples of the n x n luma block at
// (px, py) of the macroblock at offset yo.
func (d *Decoder) lumaEdges(e *edges, yo, px, py, n int, av mbAvail, topRight bool) {
	ys := d.yStride
	e.hasLeft = px > 0 || av.left
	e.hasTop = py > 0 || av.top
	switch {
	case px > 0 && py > 0:
		e.hasTopLeft = true
	case px > 0:
		e.hasTopLeft = av.top
	case py > 0:
		e.hasTopLeft = av.left
	default:
		e.hasTopLeft = av.topLeft
	}
	o := yo + py*ys + px
	if e.hasTop {
		row := d.y[o-ys:]
		for i := 0; i < n; i++ {
			e.top[1+i] = int32(row[i])
		}
		if topRight {
			for i := n; i < 2*n; i++ {
				e.top[1+i] = int32(row[i])
			}
		} else {
			for i := n; i < 2*n; i++ {
				e.top[1+i] = e.top[n]
			}
		}
	}
	if e.hasLeft {
		for i := 0; i < n; i++ {
			e.left[1+i] = int32(d.y[o+i*ys-1])
		}
	}
	if e.hasTopLeft {
		e.top[0] = int32(d.y[o-ys-1])
		e.left[0] = e.top[0]
	}
}

func (d *Decoder) reconstructChroma(mb int, av mbAvail, qpc [2]int) {
	c := &d.cur
	w := d.sps.widthMbs
	mx, my := mb%w, mb/w
	cs := d.cStride
	co := my*8*cs + mx*8
	for comp := 0; comp < 2; comp++ {
		pl := d.cb
		if comp == 1 {
			pl = d.cr
		}
		var topRow, leftCol [8]byte
		var tl int32
		if av.top {
			copy(topRow[:], pl[co-cs:co-cs+8])
		}
		if av.left {
			for i := 0; i < 8; i++ {
				leftCol[i] = pl[co+i*cs-1]
			}
		}
		if av.topLeft {
			tl = int32(pl[co-cs-1])
		}
		dst := pl[co:]
		switch c.chromaMode {
		case 0:
			predictChromaDC(topRow[:], leftCol[:], av.top, av.left, dst, cs)
		case 1:
			predict16x16(topRow[:], leftCol[:], tl, av.top, av.left, 1, 8, dst, cs)
		case 2:
			predict16x16(topRow[:], leftCol[:], tl, av.top, av.left, 0, 8, dst, cs)
		case 3:
			predict16x16(topRow[:], leftCol[:], tl, av.top, av.left, 3, 8, dst, cs)
		}
		if c.cbp>>4 == 0 {
			continue
		}
		q := qpc[comp]
		ls := &d.ls.s4[1+comp][q%6]
		chromaDC(&c.chromaDC[comp], ls[0], q)
		for b := 0; b < 4; b++ {
			blk := &c.chromaAC[comp][b]
			blk[0] = c.chromaDC[comp][b]
			if c.hasChroma&(1<<uint(comp*4+b)) != 0 {
				scale4x4(blk, ls, q, 1)
			} else if blk[0] == 0 {
				continue
			}
			idct4x4Add(blk, dst[(b>>1)*4*cs+(b&1)*4:], cs)
		}
	}
}

// intraMode derives an Intra4x4/Intra8x8 prediction mode (§8.3.1.1,
// §8.3.2.1): the smaller of the neighbours' modes (DC when one is not
// available), replaced by rem when the stream sent one (rem ≥ 0; modes
// from rem up skip the predicted one).
func intraMode(mA, mB int, ok bool, rem int) int {
	pred := predDC
	if ok {
		pred = min(mA, mB)
	}
	switch {
	case rem < 0:
		return pred
	case rem < pred:
		return rem
	}
	return rem + 1
}
