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

// TestPCMCABAC decodes CABAC pictures with I_PCM macroblocks and compares
// with ffmpeg: the engine must stop, skip the alignment and restart after
// the samples (§9.3.1.2), and I_PCM neighbours must give the right context
// increments (§9.3.3.1.1). "all" is I_PCM only; "mixed" alternates I_PCM
// with Intra16x16 macroblocks without residual, in two slices.
func TestPCMCABAC(t *testing.T) {
	for _, c := range []struct {
		name   string
		mixed  bool
		slices int
	}{{"all", false, 1}, {"mixed", true, 2}} {
		t.Run(c.name, func(t *testing.T) {
			au := cabacPCMPicture(c.mixed, c.slices)
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
		})
	}
}

func cabacPCMPicture(mixed bool, slices int) []byte {
	const wMbs, hMbs = 4, 3
	const qpDelta = 25 // slice QP 51: edges next to I_PCM (QP 0) are filtered
	au := append(buildSPS(spsOpts{profile: 77, wMbs: wMbs, hMbs: hMbs}), buildPPS(true, 1)...)
	rng := rand.New(rand.NewSource(3))
	pcm := func(mb int) bool { return !mixed || (mb+mb/wMbs)%2 == 0 }
	per := (wMbs*hMbs + slices - 1) / slices
	for s := 0; s < slices; s++ {
		first := s * per
		last := min(first+per, wMbs*hMbs) - 1
		var w bitWriter
		writeSliceHeaderAt(&w, uint32(first), 7, qpDelta, 0)
		for w.nbit%8 != 0 { // cabac_alignment_one_bit
			w.u(1, 1)
		}
		var e cabacEncoder
		e.w = &w
		var cs cabacState
		cs.initContexts(26 + qpDelta)
		e.ctx = cs.ctx
		e.init()
		for mb := first; mb <= last; mb++ {
			// Neighbours in this slice; both kinds here count for mb_type
			// (§9.3.3.1.1.3: only I_NxN does not).
			hasA := mb%wMbs > 0 && mb-1 >= first
			hasB := mb-wMbs >= first
			inc := 0
			if hasA {
				inc++
			}
			if hasB {
				inc++
			}
			e.decision(ctxMbTypeI+inc, 1)
			if pcm(mb) {
				e.terminate(1) // I_PCM
				w.align()
				for i := 0; i < 384; i++ {
					w.u(8, uint32(100+i%16+rng.Intn(6)))
				}
				e.init()
			} else {
				e.terminate(0)
				e.decision(ctxMbTypeI+3, 0) // no luma AC
				e.decision(ctxMbTypeI+4, 0) // no chroma
				e.decision(ctxMbTypeI+6, 1) // prediction mode 2 (DC): bits 1 0
				e.decision(ctxMbTypeI+7, 0)
				// intra_chroma_pred_mode 0: neighbours are I_PCM or use mode 0.
				e.decision(ctxChromaPred, 0)
				// mb_qp_delta 0: the previous one was 0 or absent.
				e.decision(ctxQPDelta, 0)
				// coded_block_flag of the DC block: condTermFlagN is 1 for an
				// unavailable or I_PCM neighbour, 0 for an Intra16x16 one
				// without coded DC (§9.3.3.1.1.9).
				a, b := 1, 1
				if hasA && !pcm(mb-1) {
					a = 0
				}
				if hasB && !pcm(mb-wMbs) {
					b = 0
				}
				e.decision(ctxCBF+a+2*b, 0)
			}
			if mb == last {
				e.terminate(1) // end_of_slice_flag; its last bit is the stop bit
				w.align()
			} else {
				e.terminate(0)
			}
		}
		au = append(au, nal(0x65, w.b)...)
	}
	return au
}
