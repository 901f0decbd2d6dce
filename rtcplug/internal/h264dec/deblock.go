package h264dec

// Deblocking filter, ITU-T H.264 §8.7. In intra pictures every edge is an
// intra edge, so bS is 4 on macroblock edges and 3 inside (§8.7.2.1).

// Table 8-16: alpha' and beta' by indexA / indexB.
var (
	alphaTable = [52]uint8{
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		4, 4, 5, 6, 7, 8, 9, 10, 12, 13, 15, 17, 20, 22, 25, 28,
		32, 36, 40, 45, 50, 56, 63, 71, 80, 90, 101, 113, 127, 144, 162, 182,
		203, 226, 255, 255}
	betaTable = [52]uint8{
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 6, 6, 7, 7, 8, 8,
		9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16,
		17, 17, 18, 18}
	// Table 8-17: tC0 for bS = 1, 2, 3.
	tc0Table = [52][3]uint8{
		{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0},
		{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0},
		{0, 0, 0}, {0, 0, 1}, {0, 0, 1}, {0, 0, 1}, {0, 0, 1}, {0, 1, 1}, {0, 1, 1}, {1, 1, 1},
		{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 2}, {1, 1, 2}, {1, 1, 2}, {1, 1, 2}, {1, 2, 3},
		{1, 2, 3}, {2, 2, 3}, {2, 2, 4}, {2, 3, 4}, {2, 3, 4}, {3, 3, 5}, {3, 4, 6}, {3, 4, 6},
		{4, 5, 7}, {4, 5, 8}, {4, 6, 9}, {5, 7, 10}, {6, 8, 11}, {6, 8, 13}, {7, 10, 14}, {8, 11, 16},
		{9, 12, 18}, {10, 13, 20}, {11, 15, 23}, {13, 17, 25}}
)

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

func clip3(lo, hi, v int32) int32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// filterEdge filters n sample lines across one edge (§8.7.2.3, §8.7.2.4).
// p0 is at b[o-step], q0 at b[o]; lines advance by next.
func filterEdge(b []byte, o, step, next, n int, bS int, qp int, offA, offB int, chroma bool) {
	indexA := int(clip3(0, 51, int32(qp+offA)))
	indexB := int(clip3(0, 51, int32(qp+offB)))
	alpha := int32(alphaTable[indexA])
	beta := int32(betaTable[indexB])
	if alpha == 0 || beta == 0 {
		return
	}
	var tc0 int32
	if bS < 4 {
		tc0 = int32(tc0Table[indexA][bS-1])
	}
	for k := 0; k < n; k, o = k+1, o+next {
		p0, q0 := int32(b[o-step]), int32(b[o])
		p1, q1 := int32(b[o-2*step]), int32(b[o+step])
		if abs32(p0-q0) >= alpha || abs32(p1-p0) >= beta || abs32(q1-q0) >= beta {
			continue
		}
		if chroma {
			if bS < 4 {
				tc := tc0 + 1
				d := clip3(-tc, tc, ((q0-p0)<<2+(p1-q1)+4)>>3)
				b[o-step] = clip1(p0 + d)
				b[o] = clip1(q0 - d)
			} else {
				b[o-step] = uint8((2*p1 + p0 + q1 + 2) >> 2)
				b[o] = uint8((2*q1 + q0 + p1 + 2) >> 2)
			}
			continue
		}
		p2, q2 := int32(b[o-3*step]), int32(b[o+2*step])
		ap, aq := abs32(p2-p0), abs32(q2-q0)
		if bS < 4 {
			tc := tc0
			if ap < beta {
				tc++
			}
			if aq < beta {
				tc++
			}
			d := clip3(-tc, tc, ((q0-p0)<<2+(p1-q1)+4)>>3)
			b[o-step] = clip1(p0 + d)
			b[o] = clip1(q0 - d)
			if ap < beta {
				b[o-2*step] = uint8(p1 + clip3(-tc0, tc0, (p2+((p0+q0+1)>>1)-(p1<<1))>>1))
			}
			if aq < beta {
				b[o+step] = uint8(q1 + clip3(-tc0, tc0, (q2+((p0+q0+1)>>1)-(q1<<1))>>1))
			}
			continue
		}
		strong := abs32(p0-q0) < (alpha>>2)+2
		if ap < beta && strong {
			p3 := int32(b[o-4*step])
			b[o-step] = uint8((p2 + 2*p1 + 2*p0 + 2*q0 + q1 + 4) >> 3)
			b[o-2*step] = uint8((p2 + p1 + p0 + q0 + 2) >> 2)
			b[o-3*step] = uint8((2*p3 + 3*p2 + p1 + p0 + q0 + 4) >> 3)
		} else {
			b[o-step] = uint8((2*p1 + p0 + q1 + 2) >> 2)
		}
		if aq < beta && strong {
			q3 := int32(b[o+3*step])
			b[o] = uint8((p1 + 2*p0 + 2*q0 + 2*q1 + q2 + 4) >> 3)
			b[o+step] = uint8((p0 + q0 + q1 + q2 + 2) >> 2)
			b[o+2*step] = uint8((2*q3 + 3*q2 + q1 + q0 + p0 + 4) >> 3)
		} else {
			b[o] = uint8((2*q1 + q0 + p1 + 2) >> 2)
		}
	}
}

// deblockPicture runs §8.7 over every macroblock in raster order.
func (d *Decoder) deblockPicture() {
	w := d.sps.widthMbs
	ys, cs := d.yStride, d.cStride
	for mb := 0; mb < len(d.mbs); mb++ {
		m := &d.mbs[mb]
		if m.deblockIdc == 1 {
			continue
		}
		mx, my := mb%w, mb/w
		offA, offB := int(m.alphaOff), int(m.betaOff)
		left := mx > 0 && (m.deblockIdc == 0 || d.mbs[mb-1].slice == m.slice)
		top := my > 0 && (m.deblockIdc == 0 || d.mbs[mb-w].slice == m.slice)
		yo := my*16*ys + mx*16
		co := my*8*cs + mx*8
		// Vertical edges, then horizontal (§8.7).
		for e := 0; e < 4; e++ {
			if e == 0 && !left || e&1 == 1 && m.t8 {
				continue
			}
			bS, qp := 3, int(m.qpDb)
			if e == 0 {
				bS = 4
				qp = (int(d.mbs[mb-1].qpDb) + qp + 1) >> 1
			}
			filterEdge(d.y, yo+e*4, 1, ys, 16, bS, qp, offA, offB, false)
		}
		for e := 0; e < 4; e++ {
			if e == 0 && !top || e&1 == 1 && m.t8 {
				continue
			}
			bS, qp := 3, int(m.qpDb)
			if e == 0 {
				bS = 4
				qp = (int(d.mbs[mb-w].qpDb) + qp + 1) >> 1
			}
			filterEdge(d.y, yo+e*4*ys, ys, 1, 16, bS, qp, offA, offB, false)
		}
		for c := 0; c < 2; c++ {
			pl := d.cb
			if c == 1 {
				pl = d.cr
			}
			for e := 0; e < 2; e++ {
				if e == 0 && !left {
					continue
				}
				bS, qp := 3, int(m.qpc[c])
				if e == 0 {
					bS = 4
					qp = (int(d.mbs[mb-1].qpc[c]) + qp + 1) >> 1
				}
				filterEdge(pl, co+e*4, 1, cs, 8, bS, qp, offA, offB, true)
			}
			for e := 0; e < 2; e++ {
				if e == 0 && !top {
					continue
				}
				bS, qp := 3, int(m.qpc[c])
				if e == 0 {
					bS = 4
					qp = (int(d.mbs[mb-w].qpc[c]) + qp + 1) >> 1
				}
				filterEdge(pl, co+e*4*cs, cs, 1, 8, bS, qp, offA, offB, true)
			}
		}
	}
}
