package h264dec

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// needFFmpeg skips the test when ffmpeg is missing, except in CI (CI set),
// where it fails.
func needFFmpeg(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is required in CI (install it in .ci/run)")
		}
		t.Skip("ffmpeg not on PATH: skipping the comparison with ffmpeg's decoder")
	}
	return p
}

// encode makes an H.264 stream of frames pictures of testsrc2 with libx264
// and returns it with ffmpeg's own decode (yuv420p).
func encode(t testing.TB, size string, frames int, x264 ...string) (stream, ref []byte) {
	t.Helper()
	ff := needFFmpeg(t)
	dir := t.TempDir()
	h := filepath.Join(dir, "s.264")
	args := []string{"-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=30",
		"-frames:v", fmt.Sprint(frames), "-c:v", "libx264"}
	args = append(args, x264...)
	args = append(args, "-f", "h264", h)
	if out, err := exec.Command(ff, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg encode: %v\n%s", err, out)
	}
	y := filepath.Join(dir, "ref.yuv")
	if out, err := exec.Command(ff, "-loglevel", "error", "-y", "-i", h, "-pix_fmt", "yuv420p", "-f", "rawvideo", y).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg decode: %v\n%s", err, out)
	}
	var err error
	if stream, err = os.ReadFile(h); err != nil {
		t.Fatal(err)
	}
	if ref, err = os.ReadFile(y); err != nil {
		t.Fatal(err)
	}
	return stream, ref
}

// accessUnits splits an Annex B stream at the first slice of each picture
// (first_mb_in_slice == 0) and at parameter sets / AUD / SEI following a
// slice.
func accessUnits(b []byte) [][]byte {
	var aus [][]byte
	start, seenSlice := -1, false
	for i := 0; i+3 < len(b); i++ {
		if !(b[i] == 0 && b[i+1] == 0 && b[i+2] == 1) {
			continue
		}
		s := i
		if s > 0 && b[s-1] == 0 {
			s--
		}
		t := b[i+3] & 0x1f
		boundary := false
		switch t {
		case 1, 5:
			if seenSlice && i+4 < len(b) && b[i+4]&0x80 != 0 {
				boundary = true
			}
			if start >= 0 && !boundary {
				seenSlice = true
			}
		case 6, 7, 8, 9:
			boundary = seenSlice
		}
		if start < 0 {
			start = s
		}
		if boundary {
			aus = append(aus, b[start:s])
			start, seenSlice = s, false
		}
		if t == 1 || t == 5 {
			seenSlice = true
		}
	}
	if start >= 0 {
		aus = append(aus, b[start:])
	}
	return aus
}

// compareYUV compares img with the frame at ref and reports the first
// differing macroblock.
func compareYUV(t testing.TB, frame int, img *image.YCbCr, ref []byte) {
	t.Helper()
	w, h := img.Rect.Dx(), img.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	if len(ref) < w*h+2*cw*ch {
		t.Fatalf("frame %d: reference too short", frame)
	}
	planes := []struct {
		name   string
		data   []byte
		stride int
		w, h   int
		ref    []byte
		mbSize int
	}{
		{"Y", img.Y, img.YStride, w, h, ref[:w*h], 16},
		{"Cb", img.Cb, img.CStride, cw, ch, ref[w*h : w*h+cw*ch], 8},
		{"Cr", img.Cr, img.CStride, cw, ch, ref[w*h+cw*ch : w*h+2*cw*ch], 8},
	}
	for _, p := range planes {
		for y := 0; y < p.h; y++ {
			got := p.data[y*p.stride : y*p.stride+p.w]
			want := p.ref[y*p.w : y*p.w+p.w]
			if bytes.Equal(got, want) {
				continue
			}
			x := 0
			for got[x] == want[x] {
				x++
			}
			t.Fatalf("frame %d: %s differs first at (%d,%d): got %d want %d, macroblock (%d,%d)",
				frame, p.name, x, y, got[x], want[x], x/p.mbSize, y/p.mbSize)
		}
	}
}

func checkStream(t *testing.T, stream, ref []byte) {
	t.Helper()
	var d Decoder
	aus := accessUnits(stream)
	if len(aus) == 0 {
		t.Fatal("no access units")
	}
	off := 0
	for i, au := range aus {
		img, err := d.Decode(au)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		w, h := img.Rect.Dx(), img.Rect.Dy()
		n := w*h + 2*((w+1)/2)*((h+1)/2)
		if off+n > len(ref) {
			t.Fatalf("frame %d: ffmpeg produced fewer frames", i)
		}
		compareYUV(t, i, img, ref[off:off+n])
		off += n
	}
	if off != len(ref) {
		t.Fatalf("decoded %d bytes of pictures, ffmpeg %d", off, len(ref))
	}
}

func TestFFmpegBitExact(t *testing.T) {
	intra := []string{"-g", "1", "-bf", "0"}
	cases := []struct {
		name   string
		size   string
		frames int
		args   []string
	}{
		{"baseline_640x480", "640x480", 2, append([]string{"-profile:v", "baseline"}, intra...)},
		{"baseline_854x480", "854x480", 2, append([]string{"-profile:v", "baseline"}, intra...)},
		{"baseline_slices4", "640x480", 2, append([]string{"-profile:v", "baseline", "-x264-params", "slices=4"}, intra...)},
		{"baseline_nodeblock", "640x480", 2, append([]string{"-profile:v", "baseline", "-x264-params", "no-deblock=1"}, intra...)},
		{"baseline_qp10", "640x480", 1, append([]string{"-profile:v", "baseline", "-qp", "10"}, intra...)},
		{"baseline_qp45", "640x480", 1, append([]string{"-profile:v", "baseline", "-qp", "45"}, intra...)},
		{"high_cavlc_8x8_cqm", "640x480", 2, append([]string{"-profile:v", "high", "-coder", "0", "-x264-params", "cqm=jvt"}, intra...)},
		{"high_cavlc_8x8", "1366x768", 1, append([]string{"-profile:v", "high", "-coder", "0"}, intra...)},
		{"main_cabac_1280x720", "1280x720", 2, append([]string{"-profile:v", "main"}, intra...)},
		{"main_cabac_qp10", "640x480", 1, append([]string{"-profile:v", "main", "-qp", "10"}, intra...)},
		// QP 1: the largest levels (CAVLC level_prefix escapes, CABAC
		// Exp-Golomb suffixes).
		{"baseline_qp1", "640x480", 1, append([]string{"-profile:v", "baseline", "-qp", "1"}, intra...)},
		{"high_cavlc_qp1", "640x480", 1, append([]string{"-profile:v", "high", "-coder", "0", "-qp", "1"}, intra...)},
		{"high_cabac_qp1", "640x480", 1, append([]string{"-profile:v", "high", "-qp", "1"}, intra...)},
		{"main_cabac_qp45", "640x480", 1, append([]string{"-profile:v", "main", "-qp", "45"}, intra...)},
		{"main_cabac_slices4", "640x480", 2, append([]string{"-profile:v", "main", "-x264-params", "slices=4"}, intra...)},
		{"main_cabac_nodeblock", "640x480", 1, append([]string{"-profile:v", "main", "-x264-params", "no-deblock=1"}, intra...)},
		{"high_cabac_8x8_cqm", "640x480", 2, append([]string{"-profile:v", "high", "-x264-params", "cqm=jvt"}, intra...)},
		{"high_cabac_1366x768", "1366x768", 1, append([]string{"-profile:v", "high"}, intra...)},
		{"main_deblock_offsets", "640x480", 1, append([]string{"-profile:v", "main", "-x264-params", "deblock=3,-2"}, intra...)},
		{"baseline_deblock_offsets", "640x480", 1, append([]string{"-profile:v", "baseline", "-x264-params", "deblock=-3,3"}, intra...)},
		{"high_chroma_qp_offset", "640x480", 1, append([]string{"-profile:v", "high", "-qp", "40", "-x264-params", "chroma-qp-offset=9"}, intra...)},
		// What real-time senders do: slices sized for RTP packets, sliced
		// threads, constrained intra prediction.
		{"baseline_slice_max_size", "640x480", 1, append([]string{"-profile:v", "baseline", "-x264-params", "slice-max-size=1200:constrained-intra=1"}, intra...)},
		{"main_zerolatency_threads", "1280x720", 1, append([]string{"-profile:v", "main", "-tune", "zerolatency", "-threads", "4"}, intra...)},
		// Explicit (non-default) scaling lists in the PPS, delta-coded.
		{"high_cabac_cqmfile", "640x480", 1, append([]string{"-profile:v", "high", "-x264-params", "cqmfile=testdata/cqm.txt"}, intra...)},
		{"high_cavlc_cqmfile_qp20", "640x480", 1, append([]string{"-profile:v", "high", "-coder", "0", "-qp", "20", "-x264-params", "cqmfile=testdata/cqm.txt"}, intra...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream, ref := encode(t, c.size, c.frames, c.args...)
			checkStream(t, stream, ref)
		})
	}
}

func execCommand(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// TestFFmpegGOP decodes a stream with P and B pictures and non-IDR I
// pictures (open GOP): every IDR and I picture equals ffmpeg's decode of it,
// and every other picture is refused with ErrUnsupported.
func TestFFmpegGOP(t *testing.T) {
	ff := needFFmpeg(t)
	for _, profile := range []string{"baseline", "high"} {
		t.Run(profile, func(t *testing.T) {
			dir := t.TempDir()
			h := filepath.Join(dir, "s.264")
			args := []string{"-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
				"-frames:v", "16", "-c:v", "libx264", "-profile:v", profile,
				"-x264-params", "keyint=5:min-keyint=5:open-gop=1:scenecut=0", "-f", "h264", h}
			if profile != "baseline" {
				args = append(args[:len(args)-3], append([]string{"-bf", "2"}, args[len(args)-3:]...)...)
			}
			if out, err := exec.Command(ff, args...).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg encode: %v\n%s", err, out)
			}
			y := filepath.Join(dir, "i.yuv")
			if out, err := exec.Command(ff, "-loglevel", "error", "-y", "-i", h, "-vf", "select=eq(pict_type\\,I)",
				"-fps_mode", "passthrough", "-pix_fmt", "yuv420p", "-f", "rawvideo", y).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg decode: %v\n%s", err, out)
			}
			stream, err := os.ReadFile(h)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := os.ReadFile(y)
			if err != nil {
				t.Fatal(err)
			}
			const n = 320*240 + 2*160*120
			var d Decoder
			got, refused := 0, 0
			for i, au := range accessUnits(stream) {
				img, err := d.Decode(au)
				if errors.Is(err, ErrNotIntra) {
					refused++
					continue
				}
				if err != nil {
					t.Fatalf("picture %d: %v", i, err)
				}
				if (got+1)*n > len(ref) {
					t.Fatalf("picture %d: ffmpeg has only %d I pictures", i, got)
				}
				compareYUV(t, i, img, ref[got*n:(got+1)*n])
				got++
			}
			if got*n != len(ref) || got < 3 || refused == 0 {
				t.Fatalf("decoded %d I pictures of %d, refused %d", got, len(ref)/n, refused)
			}
			t.Logf("%d intra pictures bit-exact, %d refused", got, refused)
		})
	}
}
