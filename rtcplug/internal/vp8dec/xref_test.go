package vp8dec

import "testing"

// TestMatchesXImage decodes the repository's VP8 key frames and compares
// them with x/image/vp8 pixel for pixel.
func TestMatchesXImage(t *testing.T) {
	for _, name := range []string{"vp8-640x480.ivf", "vp8-640x480-noise-key.ivf", "vp8-1280x720-key.ivf"} {
		var d Decoder
		for i, f := range keyframesOf(t, repoTestdata(name)) {
			got, err := d.Decode(f)
			if err != nil {
				t.Fatalf("%s key %d: %v", name, i, err)
			}
			want, err := refDecode(f)
			if err != nil {
				t.Fatalf("%s key %d: reference: %v", name, i, err)
			}
			if s := diffPlanes(got, want); s != "" {
				t.Errorf("%s key %d: %s", name, i, s)
			}
		}
	}
}
