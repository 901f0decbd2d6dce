//go:build amd64 && !purego

package vp8dec

import (
	"bytes"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
)

// edgePlane is a small plane around a luma macroblock: q0 of the edges is
// at row 4, column 8.
const (
	edgeStride = 40
	edgeRows   = 24
	edgeOff    = 4*edgeStride + 8
)

// fillEdge paints pixels that make every branch of the filters likely: a
// base level (often at the ends of the range, for the saturations), steps
// across the horizontal and the vertical edge, and noise of a random
// amplitude around the limits.
func fillEdge(rng *rand.Rand, p []byte) {
	base := rng.Intn(256)
	switch rng.Intn(4) {
	case 0:
		base = rng.Intn(8)
	case 1:
		base = 255 - rng.Intn(8)
	}
	amp := []int{1, 2, 4, 8, 16, 64, 256}[rng.Intn(7)]
	stepH, stepV := rng.Intn(2*amp+1)-amp, rng.Intn(2*amp+1)-amp
	for i := range p {
		v := base + rng.Intn(amp) - amp/2
		if i/edgeStride >= 4 {
			v += stepH
		}
		if i%edgeStride >= 8 {
			v += stepV
		}
		p[i] = uint8(min(max(v, 0), 255))
	}
}

// TestEdgeAsm runs the vector edge functions and the Go ones of filter.go
// on the same random pixels and limits and requires the same planes.
func TestEdgeAsm(t *testing.T) {
	rng := rand.New(rand.NewSource(6386))
	var y, u, v, gy, gu, gv [edgeStride * edgeRows]byte
	const s, off = edgeStride, edgeOff
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for i := 0; i < n; i++ {
		fp := params(rng.Intn(64), rng.Intn(8))
		fillEdge(rng, y[:])
		fillEdge(rng, u[:])
		fillEdge(rng, v[:])
		gy, gu, gv = y, u, v
		kind := i % 6
		switch kind {
		case 0:
			mbEdgeHLuma(&y[off], s, fp.mbLims)
			mbEdgeH(gy[:], off, s, 16, &fp)
		case 1:
			subEdgeHLuma(&y[off], s, fp.subLims)
			subEdgeH(gy[:], off, s, 16, &fp)
		case 2:
			mbEdgeHChroma(&u[off], &v[off], s, fp.mbLims)
			mbEdgeH(gu[:], off, s, 8, &fp)
			mbEdgeH(gv[:], off, s, 8, &fp)
		case 3:
			subEdgeHChroma(&u[off], &v[off], s, fp.subLims)
			subEdgeH(gu[:], off, s, 8, &fp)
			subEdgeH(gv[:], off, s, 8, &fp)
		case 4:
			mbEdgeV16(&y[off], &y[off+8*s], s, fp.mbLims)
			mbEdgeV(gy[:], off, s, 16, &fp)
			mbEdgeV16(&u[off], &v[off], s, fp.mbLims)
			mbEdgeV(gu[:], off, s, 8, &fp)
			mbEdgeV(gv[:], off, s, 8, &fp)
		case 5:
			subEdgeV16(&y[off], &y[off+8*s], s, fp.subLims)
			subEdgeV(gy[:], off, s, 16, &fp)
			subEdgeV16(&u[off], &v[off], s, fp.subLims)
			subEdgeV(gu[:], off, s, 8, &fp)
			subEdgeV(gv[:], off, s, 8, &fp)
		}
		if y != gy || u != gu || v != gv {
			t.Fatalf("case %d, limits %+v: vector and Go filters differ", kind, fp)
		}
	}
}

// TestFilterAsmFrames decodes the clips with the vector and the Go loop
// filter and requires the same pictures.
func TestFilterAsmFrames(t *testing.T) {
	paths := clips(t)
	paths = append(paths, repoTestdata("vp8-640x480.ivf"), repoTestdata("vp8-640x480-noise-key.ivf"), repoTestdata("vp8-1280x720-key.ivf"))
	n := 0
	for _, path := range paths {
		var da, dg Decoder
		dg.noAsm = true
		for i, fr := range testivf.Must(t, path) {
			if len(fr) == 0 || fr[0]&1 != 0 {
				continue
			}
			a, errA := da.Decode(fr)
			g, errG := dg.Decode(fr)
			if (errA == nil) != (errG == nil) {
				t.Fatalf("%s frame %d: errors %v, %v", filepath.Base(path), i, errA, errG)
			}
			if errA != nil {
				continue
			}
			if !bytes.Equal(rawYUV(a), rawYUV(g)) {
				t.Errorf("%s frame %d: vector and Go loop filters differ", filepath.Base(path), i)
			}
			n++
		}
	}
	// Mutated frames reach filter levels, sharpness and segment levels
	// the clips do not have.
	seeds := seedFrames(t)
	r := rand.New(rand.NewSource(3))
	var da, dg Decoder
	dg.noAsm = true
	iters := 2000
	if testing.Short() {
		iters = 200
	}
	for i := 0; i < iters; i++ {
		f := mutate(r, seeds[r.Intn(len(seeds))])
		a, errA := da.Decode(f)
		g, errG := dg.Decode(f)
		if (errA == nil) != (errG == nil) {
			t.Fatalf("mutation %d: errors %v, %v", i, errA, errG)
		}
		if errA == nil {
			if !bytes.Equal(rawYUV(a), rawYUV(g)) {
				t.Fatalf("mutation %d: vector and Go loop filters differ", i)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no pictures compared")
	}
}
