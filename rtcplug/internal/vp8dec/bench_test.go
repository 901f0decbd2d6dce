package vp8dec

import (
	"testing"
	"time"
)

var benchFiles = []struct{ name, file string }{
	{"640x480-clean", "vp8-640x480.ivf"},
	{"640x480", "vp8-640x480-noise-key.ivf"},
	{"1280x720", "vp8-1280x720-key.ivf"},
}

// BenchmarkDecode decodes the first key frame of each test stream with a
// kept Decoder; cpu-ns/op is the process CPU time per picture.
func BenchmarkDecode(b *testing.B) {
	for _, s := range benchFiles {
		f := keyframesOf(b, repoTestdata(s.file))[0]
		b.Run(s.name, func(b *testing.B) {
			var d Decoder
			if _, err := d.Decode(f); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := d.Decode(f); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, c0)
		})
	}
}

// reportCPU adds the process CPU time per operation since c0.
func reportCPU(b *testing.B, c0 time.Duration) {
	if c := cpuTime() - c0; c > 0 && b.N > 0 {
		b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
