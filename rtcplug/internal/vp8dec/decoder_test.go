package vp8dec

import (
	"errors"
	"testing"
)

func TestNotKeyframe(t *testing.T) {
	var d Decoder
	frames := keyframesOf(t, repoTestdata("vp8-640x480.ivf"))
	inter := append([]byte(nil), frames[0]...)
	inter[0] |= 1
	if _, err := d.Decode(inter); !errors.Is(err, ErrNotKeyframe) {
		t.Fatalf("got %v, want ErrNotKeyframe", err)
	}
}

func TestMaxPixels(t *testing.T) {
	f := keyframesOf(t, repoTestdata("vp8-640x480.ivf"))[0]
	d := Decoder{MaxPixels: 640*480 - 1}
	if _, err := d.Decode(f); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if d.ybuf != nil {
		t.Fatal("allocated for a refused frame")
	}
	d.MaxPixels = 640 * 480
	if _, err := d.Decode(f); err != nil {
		t.Fatal(err)
	}
	// A claimed 16383x16383 is refused by the default bound.
	big := append([]byte(nil), f...)
	big[6], big[7], big[8], big[9] = 0xff, 0x3f, 0xff, 0x3f
	var d2 Decoder
	if _, err := d2.Decode(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestTruncated(t *testing.T) {
	f := keyframesOf(t, repoTestdata("vp8-640x480.ivf"))[0]
	var d Decoder
	for n := 0; n < 64; n++ {
		if _, err := d.Decode(f[:n]); err == nil {
			t.Errorf("%d bytes: no error", n)
		}
	}
	// Cut inside the token partition: the reference decoder reads zeros
	// past the end, so this decodes.
	if _, err := d.Decode(f[:len(f)/2]); err != nil {
		t.Errorf("half a frame: %v", err)
	}
}

// TestSizes decodes a frame whose dimensions are patched to sizes the
// macroblock grid does not divide, and checks the picture's bounds.
func TestSizes(t *testing.T) {
	f := keyframesOf(t, repoTestdata("vp8-640x480.ivf"))[0]
	var d Decoder
	for _, sz := range [][2]int{{1, 1}, {17, 3}, {640, 480}, {33, 17}, {100, 200}} {
		g := append([]byte(nil), f...)
		g[6], g[7] = byte(sz[0]), byte(sz[0]>>8)
		g[8], g[9] = byte(sz[1]), byte(sz[1]>>8)
		img, err := d.Decode(g)
		if err != nil {
			t.Fatalf("%v: %v", sz, err)
		}
		if img.Rect.Dx() != sz[0] || img.Rect.Dy() != sz[1] {
			t.Fatalf("%v: rect %v", sz, img.Rect)
		}
		_ = img.YCbCrAt(sz[0]-1, sz[1]-1)
	}
}

// TestNoAllocs checks that decoding another picture of the same size does
// not allocate.
func TestNoAllocs(t *testing.T) {
	frames := keyframesOf(t, repoTestdata("vp8-640x480.ivf"))
	var d Decoder
	if _, err := d.Decode(frames[0]); err != nil {
		t.Fatal(err)
	}
	i := 0
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := d.Decode(frames[i%len(frames)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per picture", allocs)
	}
}
