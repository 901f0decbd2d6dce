package vp8dec

import "testing"

// FuzzDecode feeds arbitrary frames to the decoder: it must not panic, and
// when x/image/vp8 also decodes the frame the pictures must agree (outside
// the cases where x/image/vp8 is known to differ from libvpx).
func FuzzDecode(f *testing.F) {
	for _, fr := range seedFrames(f) {
		if w, h, err := KeyframeSize(fr); err == nil && w*h <= 1<<16 {
			f.Add(fr)
		}
	}
	var d Decoder
	// Small pictures keep the instrumented decoding fast; the bound is
	// exercised all the same.
	d.MaxPixels = 1 << 16
	f.Fuzz(func(t *testing.T, frame []byte) {
		got, err := d.Decode(frame)
		if err != nil {
			return
		}
		// The picture is what the frame's header claims, within the bound.
		w, h, err := KeyframeSize(frame)
		if b := got.Bounds(); err != nil || b.Dx() != w || b.Dy() != h || w*h > d.MaxPixels {
			t.Fatalf("picture %v for a frame claiming %dx%d (%v)", b, w, h, err)
		}
		if xImageDiverges(&d) {
			return
		}
		want, err := refDecode(frame)
		if err != nil {
			return
		}
		if s := diffPlanes(got, want); s != "" {
			t.Fatalf("differs from x/image/vp8: %s", s)
		}
	})
}
