package h264dec

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/vp8"
)

func benchDecode(b *testing.B, size string) {
	// ~1-2 Mbit/s at 30 fps for these sizes: x264 default CRF gives more,
	// so cap the bitrate like a real-time sender.
	rate := map[string]string{"640x480": "1500k", "1280x720": "2000k"}[size]
	stream, _ := encode(b, size, 1, "-profile:v", "high", "-g", "1", "-bf", "0",
		"-b:v", rate, "-maxrate", rate, "-bufsize", rate)
	var d Decoder
	if _, err := d.Decode(stream); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Decode(stream); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeIDR640x480(b *testing.B)  { benchDecode(b, "640x480") }
func BenchmarkDecodeIDR1280x720(b *testing.B) { benchDecode(b, "1280x720") }

// firstIVFFrame returns the first frame of an IVF file.
func firstIVFFrame(b *testing.B, ivf []byte) []byte {
	if len(ivf) < 32+12 {
		b.Fatal("short IVF")
	}
	n := int(binary.LittleEndian.Uint32(ivf[32:]))
	return ivf[44 : 44+n]
}

func benchVP8(b *testing.B, frame []byte) {
	dec := vp8.NewDecoder()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dec.Init(bytes.NewReader(frame), len(frame))
		if _, err := dec.DecodeFrameHeader(); err != nil {
			b.Fatal(err)
		}
		if _, err := dec.DecodeFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

// The x/image/vp8 keyframe decode of the same resolutions, for comparison.
func BenchmarkVP8Keyframe640x480(b *testing.B) {
	ivf, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "vp8-640x480.ivf"))
	if err != nil {
		b.Skip(err)
	}
	benchVP8(b, firstIVFFrame(b, ivf))
}

func BenchmarkVP8Keyframe1280x720(b *testing.B) {
	ff := needFFmpeg(b)
	dir := b.TempDir()
	out := filepath.Join(dir, "k.ivf")
	if o, err := execCommand(ff, "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-frames:v", "1", "-c:v", "libvpx", "-b:v", "2000k", "-f", "ivf", out); err != nil {
		b.Fatalf("ffmpeg: %v\n%s", err, o)
	}
	ivf, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	benchVP8(b, firstIVFFrame(b, ivf))
}
