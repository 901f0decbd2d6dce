package jpeg

import (
	"bytes"
	stdjpeg "image/jpeg"
	"io"
	"testing"
	"time"

	"golang.org/x/image/vp8"

	"github.com/nutsbolts/webrtc/rtcplug/internal/vp8dec"
)

// sizes are the keyframes benchmarked: ffmpeg's clean testsrc at 640x480,
// and testsrc2 with noise (like a camera's) at 640x480 and 1280x720.
var sizes = []struct{ name, file string }{
	{"640x480-clean", "vp8-640x480.ivf"},
	{"640x480", "vp8-640x480-noise-key.ivf"},
	{"1280x720", "vp8-1280x720-key.ivf"},
}

// BenchmarkKeyframeToJPEG is the whole snapshot path: ours is vp8dec (one
// decoder kept, as a pool worker does) and this package's encoder, stdlib is
// x/image/vp8 and image/jpeg; both encode at quality 75.
func BenchmarkKeyframeToJPEG(b *testing.B) {
	for _, s := range sizes {
		f := keyframes(b, s.file)[0]
		b.Run(s.name+"/ours", func(b *testing.B) {
			var d vp8dec.Decoder
			e := &Encoder{}
			b.ReportAllocs()
			c0 := cpuTime()
			defer func() { reportCPU(b, c0) }()
			for b.Loop() {
				img, err := d.Decode(f)
				if err != nil {
					b.Fatal(err)
				}
				if err := e.Encode(io.Discard, img, 75); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/stdlib", func(b *testing.B) {
			b.ReportAllocs()
			c0 := cpuTime()
			defer func() { reportCPU(b, c0) }()
			for b.Loop() {
				img := decodeVP8(b, vp8.NewDecoder(), f)
				if err := stdjpeg.Encode(io.Discard, img, &stdjpeg.Options{Quality: 75}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncode is the encoder alone.
func BenchmarkEncode(b *testing.B) {
	for _, s := range sizes {
		img := decodeVP8(b, vp8.NewDecoder(), keyframes(b, s.file)[0])
		b.Run(s.name+"/ours", func(b *testing.B) {
			var e Encoder
			b.ReportAllocs()
			c0 := cpuTime()
			defer func() { reportCPU(b, c0) }()
			for b.Loop() {
				_ = e.Encode(io.Discard, img, 75)
			}
		})
		b.Run(s.name+"/stdlib", func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			c0 := cpuTime()
			defer func() { reportCPU(b, c0) }()
			for b.Loop() {
				buf.Reset()
				_ = stdjpeg.Encode(&buf, img, &stdjpeg.Options{Quality: 75})
			}
		})
	}
}

// BenchmarkDecodeVP8 is the VP8 decoder alone, with a kept decoder: ours
// (vp8dec) beside x/image/vp8.
func BenchmarkDecodeVP8(b *testing.B) {
	for _, s := range sizes {
		f := keyframes(b, s.file)[0]
		b.Run(s.name+"/ours", func(b *testing.B) {
			var d vp8dec.Decoder
			b.ReportAllocs()
			c0 := cpuTime()
			defer func() { reportCPU(b, c0) }()
			for b.Loop() {
				if _, err := d.Decode(f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/ximage", func(b *testing.B) {
			d := vp8.NewDecoder()
			b.ReportAllocs()
			c0 := cpuTime()
			defer func() { reportCPU(b, c0) }()
			for b.Loop() {
				decodeVP8(b, d, f)
			}
		})
	}
}

// reportCPU adds the process CPU time per operation since c0.
func reportCPU(b *testing.B, c0 time.Duration) {
	if c := cpuTime() - c0; c > 0 && b.N > 0 {
		b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
