package h264dec_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/nutsbolts/webrtc/rtcplug/internal/h264dec"
)

func ExampleDecoder() {
	au, err := os.ReadFile("testdata/main.264") // SPS, PPS and an IDR picture, Annex B
	if err != nil {
		panic(err)
	}
	w, h, err := h264dec.PeekSize(au) // cheap: only the SPS is parsed
	fmt.Println(w, h, err)

	var d h264dec.Decoder // one per stream; buffers are reused
	img, err := d.Decode(au)
	switch {
	case errors.Is(err, h264dec.ErrUnsupported):
		fmt.Println("not an intra picture we decode:", err)
	case err != nil:
		fmt.Println("broken:", err)
	default:
		// img belongs to d until the next Decode: copy what you keep.
		fmt.Println(img.Rect, img.SubsampleRatio)
	}
	// Output:
	// 150 100 <nil>
	// (0,0)-(150,100) YCbCrSubsampleRatio420
}
