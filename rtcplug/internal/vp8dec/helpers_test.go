package vp8dec

import (
	"bytes"
	"fmt"
	"image"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
	"golang.org/x/image/vp8"
)

// repoTestdata is the module's top-level testdata directory.
func repoTestdata(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", name)
}

// keyframesOf returns the key frames of an IVF file.
func keyframesOf(t testing.TB, path string) [][]byte {
	t.Helper()
	var keys [][]byte
	for _, f := range testivf.Must(t, path) {
		if len(f) > 0 && f[0]&1 == 0 {
			keys = append(keys, f)
		}
	}
	if len(keys) == 0 {
		t.Fatalf("%s: no key frames", path)
	}
	return keys
}

// refDecode decodes a frame with x/image/vp8, the test-only reference.
func refDecode(frame []byte) (img *image.YCbCr, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("x/image/vp8 panic: %v", r)
		}
	}()
	d := vp8.NewDecoder()
	d.Init(bytes.NewReader(frame), len(frame))
	if _, err := d.DecodeFrameHeader(); err != nil {
		return nil, err
	}
	return d.DecodeFrame()
}

// diffPlanes compares two pictures of the same size pixel by pixel and
// describes the first difference, or returns "".
func diffPlanes(a, b *image.YCbCr) string {
	if a.Rect != b.Rect {
		return fmt.Sprintf("rect %v vs %v", a.Rect, b.Rect)
	}
	w, h := a.Rect.Dx(), a.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if p, q := a.Y[y*a.YStride+x], b.Y[y*b.YStride+x]; p != q {
				return fmt.Sprintf("Y(%d,%d): %d vs %d", x, y, p, q)
			}
		}
	}
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			if p, q := a.Cb[y*a.CStride+x], b.Cb[y*b.CStride+x]; p != q {
				return fmt.Sprintf("Cb(%d,%d): %d vs %d", x, y, p, q)
			}
			if p, q := a.Cr[y*a.CStride+x], b.Cr[y*b.CStride+x]; p != q {
				return fmt.Sprintf("Cr(%d,%d): %d vs %d", x, y, p, q)
			}
		}
	}
	return ""
}
