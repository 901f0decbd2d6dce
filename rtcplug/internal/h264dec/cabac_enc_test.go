package h264dec

import (
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cabacEncoder is the arithmetic encoder of §9.3.4, to build CABAC slices
// with I_PCM macroblocks, which x264 does not produce.
type cabacEncoder struct {
	w           *bitWriter
	low, rng    uint32
	first       bool
	outstanding int
	ctx         [numCtx]uint8
}

func (e *cabacEncoder) init() {
	e.low, e.rng, e.first, e.outstanding = 0, 510, true, 0
}

func (e *cabacEncoder) putBit(b uint32) {
	if e.first {
		e.first = false
	} else {
		e.w.u(1, b)
	}
	for ; e.outstanding > 0; e.outstanding-- {
		e.w.u(1, 1-b)
	}
}

func (e *cabacEncoder) renorm() {
	for e.rng < 256 {
		switch {
		case e.low < 256:
			e.putBit(0)
		case e.low >= 512:
			e.low -= 512
			e.putBit(1)
		default:
			e.low -= 256
			e.outstanding++
		}
		e.rng <<= 1
		e.low <<= 1
	}
}

func (e *cabacEncoder) decision(ctxIdx int, bin int) {
	s := e.ctx[ctxIdx]
	state, mps := s>>1, int(s&1)
	lps := uint32(rangeTabLPS[state][(e.rng>>6)&3])
	e.rng -= lps
	if bin != mps {
		e.low += e.rng
		e.rng = lps
		if state == 0 {
			mps = 1 - mps
		}
		e.ctx[ctxIdx] = transIdxLPS[state]<<1 | uint8(mps)
	} else {
		e.ctx[ctxIdx] = min(state+1, 62)<<1 | uint8(mps)
	}
	e.renorm()
}

func (e *cabacEncoder) terminate(bin int) {
	e.rng -= 2
	if bin == 0 {
		e.renorm()
		return
	}
	e.low += e.rng
	// EncodeFlush (§9.3.4.5).
	e.rng = 2
	e.renorm()
	e.putBit(e.low >> 9 & 1)
	e.w.u(2, (e.low>>7)&3|1)
}

// TestPCMCABAC decodes a CABAC picture made of I_PCM macroblocks and
// compares with ffmpeg: the engine must stop, skip the alignment, and
// restart after the samples (§9.3.1.2).
func TestPCMCABAC(t *testing.T) {
	const wMbs, hMbs = 3, 2
	var w bitWriter
	writeSliceHeader(&w, 7, 0)
	for w.nbit%8 != 0 { // cabac_alignment_one_bit
		w.u(1, 1)
	}
	var e cabacEncoder
	e.w = &w
	var cs cabacState
	cs.initContexts(26)
	e.ctx = cs.ctx
	e.init()
	rng := rand.New(rand.NewSource(3))
	for mb := 0; mb < wMbs*hMbs; mb++ {
		inc := 0 // neighbours are I_PCM, which count (§9.3.3.1.1.3)
		if mb%wMbs > 0 {
			inc++
		}
		if mb >= wMbs {
			inc++
		}
		e.decision(ctxMbTypeI+inc, 1)
		e.terminate(1) // I_PCM
		w.align()
		for i := 0; i < 384; i++ {
			w.u(8, uint32(90+i%32+rng.Intn(4)))
		}
		e.init()
		if mb == wMbs*hMbs-1 {
			e.terminate(1) // end_of_slice_flag; its last bit is the stop bit
			w.align()
		} else {
			e.terminate(0)
		}
	}
	au := append(append(buildSPS(spsOpts{profile: 77, wMbs: wMbs, hMbs: hMbs}), buildPPS(true, 1)...), nal(0x65, w.b)...)
	ff := needFFmpeg(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "pcm.264")
	if err := os.WriteFile(in, au, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pcm.yuv")
	if b, err := exec.Command(ff, "-loglevel", "error", "-y", "-i", in, "-pix_fmt", "yuv420p", "-f", "rawvideo", out).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	ref, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkStream(t, au, ref)
}
