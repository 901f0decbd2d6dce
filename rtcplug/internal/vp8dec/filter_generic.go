//go:build !amd64 || purego

package vp8dec

// filterMB applies the normal loop filter to one macroblock; without a
// vector form of the edge functions it is filterMBGo.
func (d *Decoder) filterMB(mbx, mby, yoff, coff int, fp *filterParams, inner bool) {
	d.filterMBGo(mbx, mby, yoff, coff, fp, inner)
}
