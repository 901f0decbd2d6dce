package vp8dec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
)

// seedFrames are the key frames of the committed clips.
func seedFrames(t testing.TB) [][]byte {
	var all [][]byte
	files, _ := filepath.Glob(filepath.Join("testdata", "*.ivf"))
	for _, f := range files {
		all = append(all, testivf.Must(t, f)...)
	}
	return all
}

// mutate flips a few random bytes of a copy of frame, in the first
// partition (the header and modes: segmentation, filter deltas,
// probability updates, partition count) or in the token partitions.
func mutate(r *rand.Rand, frame []byte) []byte {
	f := append([]byte(nil), frame...)
	first := int(uint32(f[0])|uint32(f[1])<<8|uint32(f[2])<<16) >> 5
	n := 1 + r.Intn(4)
	for i := 0; i < n; i++ {
		var pos int
		switch k := r.Intn(4); {
		case k == 0 && first > 0:
			// The header proper: its first bytes.
			pos = 10 + r.Intn(min(first, 24))
		case k == 1 && first > 0:
			pos = 10 + r.Intn(first)
		default:
			if len(f) <= 10+first {
				continue
			}
			pos = 10 + first + r.Intn(len(f)-10-first)
		}
		if pos < len(f) {
			f[pos] ^= byte(1 + r.Intn(255))
		}
	}
	return f
}

// xImageDiverges reports whether the frame d decoded last is one where
// x/image/vp8 is known to differ from libvpx (and from this package):
//   - segmentation on without segment data: libvpx uses the key frame's
//     reset (zero deltas), x/image/vp8 absolute zeros;
//   - a segment quantizer index outside [0, 127], or a segment filter level
//     outside [0, 63] with filter deltas on: libvpx clamps before adding
//     the deltas, x/image/vp8 (and ffmpeg for the quantizer) after;
//   - mode data that runs on past the first partition's size: libvpx reads
//     on into the following bytes, x/image/vp8 (and ffmpeg) stop;
//   - a partition starting with 0xff, which breaks the bool decoder's
//     invariant (value below range): libvpx carries on with the same
//     arithmetic as this package, x/image/vp8 (and ffmpeg) with their own;
//   - filter level sums beyond 8 bits: x/image/vp8 adds the deltas in int8
//     and wraps;
//   - coefficients beyond maxCoeff, where every decoder's 16-bit transforms
//     overflow differently.
func xImageDiverges(d *Decoder) bool {
	if d.wild {
		return true
	}
	if consumed := 8*d.fp.pos - d.fp.nbits; consumed > 8*d.firstSize-16 {
		return true
	}
	if len(d.fp.buf) > 0 && d.fp.buf[0] == 0xff {
		return true
	}
	for i := 0; i < d.nparts; i++ {
		if d.parts[i].buf[0] == 0xff {
			return true
		}
	}
	if d.lfDeltas {
		for s := 0; s < 4; s++ {
			base := d.filterLevel
			if d.segEnabled {
				base = d.segLF[s]
				if !d.segAbs {
					base += d.filterLevel
				}
			}
			for _, v := range []int{base + d.refDelta[0], base + d.refDelta[0] + d.modeDelta[0]} {
				if v < -128 || v > 127 {
					return true
				}
			}
		}
	}
	if !d.segEnabled {
		return false
	}
	if !d.segUpdateData {
		return true
	}
	for s := 0; s < 4; s++ {
		q, lf := d.segQuant[s], d.segLF[s]
		if !d.segAbs {
			q += d.baseQ
			lf += d.filterLevel
		}
		if q < 0 || q > 127 || (d.lfDeltas && (lf < 0 || lf > 63)) {
			return true
		}
	}
	return false
}

// TestDifferential decodes mutated key frames with this package and with
// x/image/vp8 and requires identical pictures whenever both succeed, apart
// from the cases where x/image/vp8 is known to differ from libvpx. The
// mutations reach header paths no encoder of the committed clips emits.
func TestDifferential(t *testing.T) {
	seeds := seedFrames(t)
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	r := rand.New(rand.NewSource(1))
	var d Decoder
	compared, diverged := 0, 0
	for i := 0; i < iters; i++ {
		f := mutate(r, seeds[r.Intn(len(seeds))])
		got, err := d.Decode(f)
		if err != nil {
			continue
		}
		want, err := refDecode(f)
		if err != nil {
			continue
		}
		if xImageDiverges(&d) {
			diverged++
			continue
		}
		compared++
		if s := diffPlanes(got, want); s != "" {
			t.Fatalf("iteration %d: %s", i, s)
		}
	}
	t.Logf("%d of %d mutated frames compared equal; %d skipped as known x/image/vp8 differences", compared, iters, diverged)
	if compared < iters/4 {
		t.Errorf("only %d of %d mutated frames were compared", compared, iters)
	}
}

// TestLibvpx compares mutated key frames with libvpx itself when
// VP8DEC_LIBVPX names a decoder driver (testdata/vdec.c: IVF in, cropped
// I420 out); it is skipped otherwise.
func TestLibvpx(t *testing.T) {
	bin := os.Getenv("VP8DEC_LIBVPX")
	if bin == "" {
		t.Skip("VP8DEC_LIBVPX not set")
	}
	seeds := seedFrames(t)
	r := rand.New(rand.NewSource(2))
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.ivf"), filepath.Join(dir, "out.yuv")
	var d Decoder
	compared := 0
	for i := 0; i < 1000; i++ {
		f := seeds[r.Intn(len(seeds))]
		if i%4 != 0 {
			f = mutate(r, f)
		}
		img, err := d.Decode(f)
		if err != nil || d.wild {
			continue
		}
		if err := os.WriteFile(in, ivfOf(f, img.Rect.Dx(), img.Rect.Dy()), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(out)
		if err := exec.Command(bin, in, out).Run(); err != nil {
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("running %s: %v", bin, err) // not a refusal: misconfigured
			}
			continue // libvpx refused the frame
		}
		want, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		compared++
		if !bytes.Equal(rawYUV(img), want) {
			t.Fatalf("iteration %d differs from libvpx", i)
		}
	}
	t.Logf("%d frames equal to libvpx", compared)
	if compared < 100 {
		t.Errorf("only %d frames compared with libvpx", compared)
	}
}

// ivfOf wraps one frame in an IVF file.
func ivfOf(f []byte, w, h int) []byte {
	b := make([]byte, 32+12, 32+12+len(f))
	copy(b, "DKIF")
	binary.LittleEndian.PutUint16(b[6:], 32)
	copy(b[8:], "VP80")
	binary.LittleEndian.PutUint16(b[12:], uint16(w))
	binary.LittleEndian.PutUint16(b[14:], uint16(h))
	binary.LittleEndian.PutUint32(b[16:], 30)
	binary.LittleEndian.PutUint32(b[20:], 1)
	binary.LittleEndian.PutUint32(b[24:], 1)
	binary.LittleEndian.PutUint32(b[32:], uint32(len(f)))
	return append(b, f...)
}
