package rtcplug_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// ffmpegKeyframes decodes the keyframes of an H.264 file with ffmpeg
// (default decoder, -pix_fmt yuv420p) as I420 pictures of w x h.
func ffmpegKeyframes(t *testing.T, path string, w, h int) [][]byte {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ffmpeg is required in CI: %v", err)
		}
		t.Skip("ffmpeg not installed: skipping the comparison with its decode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-skip_frame", "nokey", "-i", path,
		"-fps_mode", "passthrough", "-pix_fmt", "yuv420p", "-f", "rawvideo", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v", path, err)
	}
	n := w*h + 2*((w+1)/2)*((h+1)/2)
	if len(out) == 0 || len(out)%n != 0 {
		t.Fatalf("ffmpeg gave %d bytes, not pictures of %d", len(out), n)
	}
	var frames [][]byte
	for len(out) > 0 {
		frames, out = append(frames, out[:n]), out[n:]
	}
	return frames
}

// i420 lays out a picture's visible planes as ffmpeg's rawvideo does.
func i420(img *image.YCbCr) []byte {
	r := img.Rect
	w, h := r.Dx(), r.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	out := make([]byte, 0, w*h+2*cw*ch)
	for y := range h {
		out = append(out, img.Y[img.YOffset(r.Min.X, r.Min.Y+y):][:w]...)
	}
	for _, plane := range [][]byte{img.Cb, img.Cr} {
		for y := range ch {
			o := img.COffset(r.Min.X, r.Min.Y+2*y)
			out = append(out, plane[o:o+cw]...)
		}
	}
	return out
}

// lumaPSNR compares the Y plane of img with the luma of an I420 picture.
func lumaPSNR(img *image.YCbCr, ref []byte) float64 {
	r := img.Rect
	var se float64
	for y := range r.Dy() {
		row := img.Y[img.YOffset(r.Min.X, r.Min.Y+y):]
		for x := range r.Dx() {
			d := float64(row[x]) - float64(ref[y*r.Dx()+x])
			se += d * d
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(r.Dx()*r.Dy())/se)
}

// checkH264Images: every OnKeyframe image of conf is, byte for byte (Y, Cb,
// Cr), one of the keyframes ffmpeg decodes from the file that was sent,
// and every JPEG written has a luma PSNR of at least 40 dB against that
// same picture (the JPEG's loss).
func checkH264Images(t *testing.T, s *server, conf, path string, w, h int) {
	t.Helper()
	refs := ffmpegKeyframes(t, path, w, h)
	kfs := s.keyframesOf(conf, "")
	jpegs := 0
	for i, k := range kfs {
		if k.Codec != rtcplug.CodecH264 || k.Image == nil || k.Width != w || k.Height != h {
			t.Fatalf("keyframe %d: codec %q, %dx%d, image %v", i, k.Codec, k.Width, k.Height, k.Image != nil)
		}
		got, match := i420(k.Image), -1
		for j, ref := range refs {
			if bytes.Equal(got, ref) {
				match = j
				break
			}
		}
		if match < 0 {
			t.Fatalf("keyframe %d is none of the %d keyframes ffmpeg decodes from %s", i, len(refs), path)
		}
		if k.Path == "" {
			continue
		}
		b, err := os.ReadFile(k.Path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("JPEG %s: %v", k.Path, err)
		}
		yc, ok := img.(*image.YCbCr)
		if !ok || yc.Rect.Dx() != w || yc.Rect.Dy() != h {
			t.Fatalf("JPEG %s: %T %v", k.Path, img, img.Bounds())
		}
		p := lumaPSNR(yc, refs[match])
		t.Logf("keyframe %d = ffmpeg's keyframe %d; JPEG luma PSNR %.1f dB", i, match, p)
		if p < 40 {
			t.Errorf("JPEG %s: luma PSNR %.1f dB against ffmpeg's decode, want >= 40", k.Path, p)
		}
		jpegs++
	}
	if jpegs == 0 {
		t.Fatal("no JPEG written")
	}
}
