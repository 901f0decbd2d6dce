//go:build amd64 && !purego

package vp8dec

// The edge functions of filter_amd64.s are the normal loop filter of
// filter.go in SSE2, which every amd64 processor has: 16 positions along an
// edge at once, with the spec's signed 8-bit saturating arithmetic (RFC 6386
// section 15.3) done by the saturating byte instructions. They take the
// first pixel after the edge and a plane's stride; lims is
// filterParams.mbLims or subLims.
//
// ...H filter across a horizontal edge: the 16 luma pixels of a row at p,
// or the 8 pixels of a chroma row in each of u and v. ...V filter across a
// vertical edge in 16 rows: 8 from a, 8 from b (the luma rows 8 below a, or
// the other chroma plane).

//go:noescape
func mbEdgeHLuma(p *byte, s int, lims uint64)

//go:noescape
func mbEdgeHChroma(u, v *byte, s int, lims uint64)

//go:noescape
func mbEdgeV16(a, b *byte, s int, lims uint64)

//go:noescape
func subEdgeHLuma(p *byte, s int, lims uint64)

//go:noescape
func subEdgeHChroma(u, v *byte, s int, lims uint64)

//go:noescape
func subEdgeV16(a, b *byte, s int, lims uint64)

// filterMB applies the normal loop filter to the macroblock whose luma and
// chroma pixel (0, 0) are at yoff and coff, as filterMBGo does.
func (d *Decoder) filterMB(mbx, mby, yoff, coff int, fp *filterParams, inner bool) {
	if d.noAsm {
		d.filterMBGo(mbx, mby, yoff, coff, fp, inner)
		return
	}
	ys, cs := d.yStride, d.cStride
	// The edge functions read and write the macroblock, 4 pixels left of
	// it and, below the first row, 4 rows above it: these checks cover
	// every pixel they touch.
	ylo, clo := yoff-4, coff-4
	if mby > 0 {
		ylo -= 4 * ys
		clo -= 4 * cs
	}
	y := d.ybuf[ylo : yoff+15*ys+16]
	u := d.ubuf[clo : coff+7*cs+8]
	v := d.vbuf[clo : coff+7*cs+8]
	yo, co := yoff-ylo, coff-clo
	if mbx > 0 {
		mbEdgeV16(&y[yo], &y[yo+8*ys], ys, fp.mbLims)
		mbEdgeV16(&u[co], &v[co], cs, fp.mbLims)
	}
	if inner {
		subEdgeV16(&y[yo+4], &y[yo+8*ys+4], ys, fp.subLims)
		subEdgeV16(&y[yo+8], &y[yo+8*ys+8], ys, fp.subLims)
		subEdgeV16(&y[yo+12], &y[yo+8*ys+12], ys, fp.subLims)
		subEdgeV16(&u[co+4], &v[co+4], cs, fp.subLims)
	}
	if mby > 0 {
		mbEdgeHLuma(&y[yo], ys, fp.mbLims)
		mbEdgeHChroma(&u[co], &v[co], cs, fp.mbLims)
	}
	if inner {
		subEdgeHLuma(&y[yo+4*ys], ys, fp.subLims)
		subEdgeHLuma(&y[yo+8*ys], ys, fp.subLims)
		subEdgeHLuma(&y[yo+12*ys], ys, fp.subLims)
		subEdgeHChroma(&u[co+4*cs], &v[co+4*cs], cs, fp.subLims)
	}
}
