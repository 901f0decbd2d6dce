package rtcplug

import (
	"slices"
	"testing"
)

func TestWithVideoCodecs(t *testing.T) {
	c := defaults()
	if !slices.Equal(c.codecs(), []string{CodecVP8, CodecH264}) {
		t.Fatalf("default %v", c.codecs())
	}
	for _, bad := range [][]string{nil, {"AV1"}, {"VP8", "vp8"}, {""}} {
		if err := WithVideoCodecs(bad...)(defaults()); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	c = defaults()
	if err := WithVideoCodecs("h264", "VP8")(c); err != nil || !slices.Equal(c.codecs(), []string{CodecH264, CodecVP8}) {
		t.Fatalf("%v %v", c.codecs(), err)
	}
	if err := WithVideoCodecs("H.264")(c); err != nil || !slices.Equal(c.codecs(), []string{CodecH264}) {
		t.Fatalf("%v %v", c.codecs(), err)
	}
}
