package vp8dec

import "encoding/binary"

// predict16 fills the n x n block at off (n = 16 for luma, 8 for chroma)
// with the macroblock-level prediction of RFC 6386 section 12.2. Outside the
// picture the borders supply 127 above and 129 left; DC prediction instead
// averages only the edges that exist, or is 128 with neither.
func predict16(p []byte, off, stride, n, mode int, haveLeft, haveAbove bool) {
	above := p[off-stride : off-stride+n]
	switch mode {
	case modeDC:
		sum, shift := 0, -1
		if haveAbove {
			for _, v := range above {
				sum += int(v)
			}
			shift++
		}
		if haveLeft {
			for y := 0; y < n; y++ {
				sum += int(p[off+y*stride-1])
			}
			shift++
		}
		v := byte(128)
		if shift >= 0 {
			// n is 16 or 8: the count of edge pixels is a power of two.
			shift += 3 + n>>4
			v = byte((sum + 1<<(shift-1)) >> shift)
		}
		fillRows(p, off, stride, n, v)
	case modeV:
		a := binary.LittleEndian.Uint64(above)
		if n == 16 {
			b := binary.LittleEndian.Uint64(above[8:])
			for y := 0; y < 16; y++ {
				r := p[off+y*stride : off+y*stride+16]
				binary.LittleEndian.PutUint64(r, a)
				binary.LittleEndian.PutUint64(r[8:], b)
			}
			return
		}
		for y := 0; y < n; y++ {
			binary.LittleEndian.PutUint64(p[off+y*stride:off+y*stride+8], a)
		}
	case modeH:
		for y := 0; y < n; y++ {
			r := p[off+y*stride-1 : off+y*stride+n]
			w := uint64(r[0]) * 0x0101010101010101
			binary.LittleEndian.PutUint64(r[1:], w)
			if n == 16 {
				binary.LittleEndian.PutUint64(r[9:], w)
			}
		}
	case modeTM:
		corner := int32(p[off-stride-1])
		for y := 0; y < n; y++ {
			r := p[off+y*stride-1 : off+y*stride+n]
			l := int32(r[0]) - corner
			for i, a := range above {
				r[i+1] = clip255(l + int32(a))
			}
		}
	}
}

// fillRows sets the n x n block at off (n = 16 or 8) to v, eight pixels a
// store.
func fillRows(p []byte, off, stride, n int, v byte) {
	w := uint64(v) * 0x0101010101010101
	if n == 16 {
		for y := 0; y < 16; y++ {
			r := p[off+y*stride : off+y*stride+16]
			binary.LittleEndian.PutUint64(r, w)
			binary.LittleEndian.PutUint64(r[8:], w)
		}
		return
	}
	for y := 0; y < n; y++ {
		binary.LittleEndian.PutUint64(p[off+y*stride:off+y*stride+8], w)
	}
}

func avg2(x, y uint8) uint8 { return uint8((uint32(x) + uint32(y) + 1) >> 1) }

func avg3(x, y, z uint8) uint8 { return uint8((uint32(x) + 2*uint32(y) + uint32(z) + 2) >> 2) }

// predict4 fills the 4x4 subblock at off with the subblock prediction of
// RFC 6386 section 12.3. ar is the index of its four above-right pixels.
func predict4(p []byte, off, stride, ar int, mode uint8) {
	top := p[off-stride-1 : off-stride+4]
	rt := p[ar : ar+4]
	P, A0, A1, A2, A3 := top[0], top[1], top[2], top[3], top[4]
	A4, A5, A6, A7 := rt[0], rt[1], rt[2], rt[3]
	_ = p[off+3*stride+3]
	L0, L1, L2, L3 := p[off-1], p[off+stride-1], p[off+2*stride-1], p[off+3*stride-1]
	r0 := p[off : off+4]
	r1 := p[off+stride : off+stride+4]
	r2 := p[off+2*stride : off+2*stride+4]
	r3 := p[off+3*stride : off+3*stride+4]
	set := func(r []byte, a, b, c, d uint8) { r[0], r[1], r[2], r[3] = a, b, c, d }
	switch mode {
	case bDC:
		s := uint32(A0) + uint32(A1) + uint32(A2) + uint32(A3) +
			uint32(L0) + uint32(L1) + uint32(L2) + uint32(L3)
		v := uint8((s + 4) >> 3)
		set(r0, v, v, v, v)
		set(r1, v, v, v, v)
		set(r2, v, v, v, v)
		set(r3, v, v, v, v)
	case bTM:
		a := [4]int32{int32(A0) - int32(P), int32(A1) - int32(P), int32(A2) - int32(P), int32(A3) - int32(P)}
		for y, l := range [4]uint8{L0, L1, L2, L3} {
			r := p[off+y*stride : off+y*stride+4]
			r[0] = clip255(int32(l) + a[0])
			r[1] = clip255(int32(l) + a[1])
			r[2] = clip255(int32(l) + a[2])
			r[3] = clip255(int32(l) + a[3])
		}
	case bVE:
		a, b, c, e := avg3(P, A0, A1), avg3(A0, A1, A2), avg3(A1, A2, A3), avg3(A2, A3, A4)
		set(r0, a, b, c, e)
		set(r1, a, b, c, e)
		set(r2, a, b, c, e)
		set(r3, a, b, c, e)
	case bHE:
		a, b, c, e := avg3(P, L0, L1), avg3(L0, L1, L2), avg3(L1, L2, L3), avg3(L2, L3, L3)
		set(r0, a, a, a, a)
		set(r1, b, b, b, b)
		set(r2, c, c, c, c)
		set(r3, e, e, e, e)
	case bLD:
		v0 := avg3(A0, A1, A2)
		v1 := avg3(A1, A2, A3)
		v2 := avg3(A2, A3, A4)
		v3 := avg3(A3, A4, A5)
		v4 := avg3(A4, A5, A6)
		v5 := avg3(A5, A6, A7)
		v6 := avg3(A6, A7, A7)
		set(r0, v0, v1, v2, v3)
		set(r1, v1, v2, v3, v4)
		set(r2, v2, v3, v4, v5)
		set(r3, v3, v4, v5, v6)
	case bRD:
		// Edge E: L3 L2 L1 L0 P A0 A1 A2 A3; the value on the diagonal
		// c-r = k is the smoothed E[4+k].
		m3 := avg3(L3, L2, L1)
		m2 := avg3(L2, L1, L0)
		m1 := avg3(L1, L0, P)
		z := avg3(L0, P, A0)
		p1 := avg3(P, A0, A1)
		p2 := avg3(A0, A1, A2)
		p3 := avg3(A1, A2, A3)
		set(r0, z, p1, p2, p3)
		set(r1, m1, z, p1, p2)
		set(r2, m2, m1, z, p1)
		set(r3, m3, m2, m1, z)
	case bVR:
		set(r0, avg2(P, A0), avg2(A0, A1), avg2(A1, A2), avg2(A2, A3))
		set(r1, avg3(L0, P, A0), avg3(P, A0, A1), avg3(A0, A1, A2), avg3(A1, A2, A3))
		set(r2, avg3(L1, L0, P), avg2(P, A0), avg2(A0, A1), avg2(A1, A2))
		set(r3, avg3(L2, L1, L0), avg3(L0, P, A0), avg3(P, A0, A1), avg3(A0, A1, A2))
	case bVL:
		set(r0, avg2(A0, A1), avg2(A1, A2), avg2(A2, A3), avg2(A3, A4))
		set(r1, avg3(A0, A1, A2), avg3(A1, A2, A3), avg3(A2, A3, A4), avg3(A3, A4, A5))
		set(r2, avg2(A1, A2), avg2(A2, A3), avg2(A3, A4), avg3(A4, A5, A6))
		set(r3, avg3(A1, A2, A3), avg3(A2, A3, A4), avg3(A3, A4, A5), avg3(A5, A6, A7))
	case bHD:
		set(r0, avg2(L0, P), avg3(L0, P, A0), avg3(P, A0, A1), avg3(A0, A1, A2))
		set(r1, avg2(L1, L0), avg3(L1, L0, P), avg2(L0, P), avg3(L0, P, A0))
		set(r2, avg2(L2, L1), avg3(L2, L1, L0), avg2(L1, L0), avg3(L1, L0, P))
		set(r3, avg2(L3, L2), avg3(L3, L2, L1), avg2(L2, L1), avg3(L2, L1, L0))
	case bHU:
		set(r0, avg2(L0, L1), avg3(L0, L1, L2), avg2(L1, L2), avg3(L1, L2, L3))
		set(r1, avg2(L1, L2), avg3(L1, L2, L3), avg2(L2, L3), avg3(L2, L3, L3))
		set(r2, avg2(L2, L3), avg3(L2, L3, L3), L3, L3)
		set(r3, L3, L3, L3, L3)
	}
}
