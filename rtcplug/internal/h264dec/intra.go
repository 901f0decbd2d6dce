package h264dec

// Intra prediction, ITU-T H.264 §8.3.

// Intra4x4 / Intra8x8 prediction modes (Tables 8-2, 8-3).
const (
	predV = iota
	predH
	predDC
	predDDL
	predDDR
	predVR
	predHD
	predVL
	predHU
)

// edges holds the neighbouring samples of an NxN block: top[0] is p[-1,-1],
// top[1+x] is p[x,-1] for x = 0..2N-1; left[0] is p[-1,-1], left[1+y] is
// p[-1,y].
type edges struct {
	top, left       [17]int32
	hasTop, hasLeft bool
	hasTopLeft      bool
}

// predictNxN implements the Intra4x4 (§8.3.1.2) and Intra8x8 (§8.3.2.2)
// modes, which share their equations up to the block size n.
func predictNxN(e *edges, mode, n int, dst []byte, stride int) {
	T := func(x int) int32 { return e.top[x+1] }
	L := func(y int) int32 { return e.left[y+1] }
	put := func(x, y int, v int32) { dst[y*stride+x] = uint8(v) }
	switch mode {
	case predV:
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				put(x, y, T(x))
			}
		}
	case predH:
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				put(x, y, L(y))
			}
		}
	case predDC:
		var s int32
		sh := uint(2)
		if n == 8 {
			sh = 3
		}
		switch {
		case e.hasTop && e.hasLeft:
			for i := 0; i < n; i++ {
				s += T(i) + L(i)
			}
			s = (s + int32(n)) >> (sh + 1)
		case e.hasLeft:
			for i := 0; i < n; i++ {
				s += L(i)
			}
			s = (s + int32(n)/2) >> sh
		case e.hasTop:
			for i := 0; i < n; i++ {
				s += T(i)
			}
			s = (s + int32(n)/2) >> sh
		default:
			s = 128
		}
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				put(x, y, s)
			}
		}
	case predDDL:
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				if x == n-1 && y == n-1 {
					put(x, y, (T(2*n-2)+3*T(2*n-1)+2)>>2)
				} else {
					put(x, y, (T(x+y)+2*T(x+y+1)+T(x+y+2)+2)>>2)
				}
			}
		}
	case predDDR:
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				switch {
				case x > y:
					put(x, y, (T(x-y-2)+2*T(x-y-1)+T(x-y)+2)>>2)
				case x < y:
					put(x, y, (L(y-x-2)+2*L(y-x-1)+L(y-x)+2)>>2)
				default:
					put(x, y, (T(0)+2*T(-1)+L(0)+2)>>2)
				}
			}
		}
	case predVR:
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				z := 2*x - y
				switch {
				case z >= 0 && z&1 == 0:
					put(x, y, (T(x-(y>>1)-1)+T(x-(y>>1))+1)>>1)
				case z >= 0:
					put(x, y, (T(x-(y>>1)-2)+2*T(x-(y>>1)-1)+T(x-(y>>1))+2)>>2)
				case z == -1:
					put(x, y, (L(0)+2*L(-1)+T(0)+2)>>2)
				default:
					put(x, y, (L(y-2*x-1)+2*L(y-2*x-2)+L(y-2*x-3)+2)>>2)
				}
			}
		}
	case predHD:
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				z := 2*y - x
				switch {
				case z >= 0 && z&1 == 0:
					put(x, y, (L(y-(x>>1)-1)+L(y-(x>>1))+1)>>1)
				case z >= 0:
					put(x, y, (L(y-(x>>1)-2)+2*L(y-(x>>1)-1)+L(y-(x>>1))+2)>>2)
				case z == -1:
					put(x, y, (L(0)+2*L(-1)+T(0)+2)>>2)
				default:
					put(x, y, (T(x-2*y-1)+2*T(x-2*y-2)+T(x-2*y-3)+2)>>2)
				}
			}
		}
	case predVL:
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				i := x + (y >> 1)
				if y&1 == 0 {
					put(x, y, (T(i)+T(i+1)+1)>>1)
				} else {
					put(x, y, (T(i)+2*T(i+1)+T(i+2)+2)>>2)
				}
			}
		}
	case predHU:
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				z := x + 2*y
				i := y + (x >> 1)
				switch {
				case z > 2*n-3:
					put(x, y, L(n-1))
				case z == 2*n-3:
					put(x, y, (L(n-2)+3*L(n-1)+2)>>2)
				case z&1 == 0:
					put(x, y, (L(i)+L(i+1)+1)>>1)
				default:
					put(x, y, (L(i)+2*L(i+1)+L(i+2)+2)>>2)
				}
			}
		}
	}
}

// filter8x8Edges applies the reference sample filtering of §8.3.2.2.1.
func filter8x8Edges(e *edges) {
	var t, l [17]int32
	t, l = e.top, e.left
	if e.hasTop {
		if e.hasTopLeft {
			t[1] = (e.top[0] + 2*e.top[1] + e.top[2] + 2) >> 2
		} else {
			t[1] = (3*e.top[1] + e.top[2] + 2) >> 2
		}
		for x := 1; x < 15; x++ {
			t[x+1] = (e.top[x] + 2*e.top[x+1] + e.top[x+2] + 2) >> 2
		}
		t[16] = (e.top[15] + 3*e.top[16] + 2) >> 2
	}
	if e.hasTopLeft {
		var v int32
		switch {
		case e.hasTop && e.hasLeft:
			v = (e.top[1] + 2*e.top[0] + e.left[1] + 2) >> 2
		case e.hasTop:
			v = (3*e.top[0] + e.top[1] + 2) >> 2
		case e.hasLeft:
			v = (3*e.top[0] + e.left[1] + 2) >> 2
		default:
			v = e.top[0]
		}
		t[0], l[0] = v, v
	}
	if e.hasLeft {
		if e.hasTopLeft {
			l[1] = (e.left[0] + 2*e.left[1] + e.left[2] + 2) >> 2
		} else {
			l[1] = (3*e.left[1] + e.left[2] + 2) >> 2
		}
		for y := 1; y < 7; y++ {
			l[y+1] = (e.left[y] + 2*e.left[y+1] + e.left[y+2] + 2) >> 2
		}
		l[8] = (e.left[7] + 3*e.left[8] + 2) >> 2
	}
	e.top, e.left = t, l
}

// predict16x16 implements §8.3.3 (Intra16x16) and, with n == 8, the chroma
// horizontal, vertical and plane modes of §8.3.4. Modes are the luma ones:
// 0 vertical, 1 horizontal, 2 DC (luma only), 3 plane.
func predict16x16(top, left []byte, topLeft int32, hasTop, hasLeft bool, mode, n int, dst []byte, stride int) {
	switch mode {
	case 0:
		for y := 0; y < n; y++ {
			copy(dst[y*stride:y*stride+n], top[:n])
		}
	case 1:
		for y := 0; y < n; y++ {
			row := dst[y*stride : y*stride+n]
			for x := range row {
				row[x] = left[y]
			}
		}
	case 2:
		var s int32
		switch {
		case hasTop && hasLeft:
			for i := 0; i < 16; i++ {
				s += int32(top[i]) + int32(left[i])
			}
			s = (s + 16) >> 5
		case hasLeft:
			for i := 0; i < 16; i++ {
				s += int32(left[i])
			}
			s = (s + 8) >> 4
		case hasTop:
			for i := 0; i < 16; i++ {
				s += int32(top[i])
			}
			s = (s + 8) >> 4
		default:
			s = 128
		}
		for y := 0; y < 16; y++ {
			row := dst[y*stride : y*stride+16]
			for x := range row {
				row[x] = uint8(s)
			}
		}
	case 3:
		h2 := n / 2
		var H, V int32
		for i := 0; i < h2; i++ {
			tp, lp := topLeft, topLeft
			if h2-2-i >= 0 {
				tp, lp = int32(top[h2-2-i]), int32(left[h2-2-i])
			}
			H += int32(i+1) * (int32(top[h2+i]) - tp)
			V += int32(i+1) * (int32(left[h2+i]) - lp)
		}
		a := 16 * (int32(left[n-1]) + int32(top[n-1]))
		var b, c int32
		if n == 16 {
			b, c = (5*H+32)>>6, (5*V+32)>>6
		} else {
			b, c = (34*H+32)>>6, (34*V+32)>>6
		}
		o := int32(h2 - 1)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				dst[y*stride+x] = clip1((a + b*(int32(x)-o) + c*(int32(y)-o) + 16) >> 5)
			}
		}
	}
}

// predictChromaDC implements the chroma DC mode of §8.3.4.1-3 for one 8x8
// chroma block of 4:2:0.
func predictChromaDC(top, left []byte, hasTop, hasLeft bool, dst []byte, stride int) {
	for blk := 0; blk < 4; blk++ {
		xO, yO := (blk&1)*4, (blk>>1)*4
		var st, sl int32
		for i := 0; i < 4; i++ {
			if hasTop {
				st += int32(top[xO+i])
			}
			if hasLeft {
				sl += int32(left[yO+i])
			}
		}
		var s int32
		useTop, useLeft := hasTop, hasLeft
		if xO > 0 && yO == 0 {
			// Prefers the samples above.
			if hasTop {
				useLeft = false
			}
		} else if xO == 0 && yO > 0 {
			if hasLeft {
				useTop = false
			}
		}
		switch {
		case useTop && useLeft:
			s = (st + sl + 4) >> 3
		case useLeft:
			s = (sl + 2) >> 2
		case useTop:
			s = (st + 2) >> 2
		default:
			s = 128
		}
		for y := 0; y < 4; y++ {
			for x := 0; x < 4; x++ {
				dst[(yO+y)*stride+xO+x] = uint8(s)
			}
		}
	}
}
