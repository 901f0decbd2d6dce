package record

import (
	"testing"
	"time"
)

// BenchmarkSessionWebM measures writing VP8 + Opus into WebM on the
// recorder's goroutine (disk included), per sample.
func BenchmarkSessionWebM(b *testing.B) {
	benchSession(b, schedule(ivfFrames(b), VP8, 30, oggOpus(b), 100*time.Millisecond))
}

// BenchmarkSessionMP4 is the same for H.264 + Opus into fragmented MP4.
func BenchmarkSessionMP4(b *testing.B) {
	benchSession(b, schedule(h264Stream(b, "baseline", 640, 480, 4), H264, 30, oggOpus(b), 100*time.Millisecond))
}

func benchSession(b *testing.B, plan []sample) {
	b.ReportAllocs()
	b.ResetTimer()
	var s *session
	for i := 0; i < b.N; i++ {
		if i%len(plan) == 0 {
			b.StopTimer()
			if s != nil {
				s.close()
			}
			s = newSession(b.TempDir(), Options{Audio: true})
			b.StartTimer()
		}
		s.push(plan[i%len(plan)].it)
	}
	b.StopTimer()
	s.close()
}

// BenchmarkRecorderAudio measures what the peer's goroutine pays per Opus
// packet handed to a Recorder: a copy and a channel send.
func BenchmarkRecorderAudio(b *testing.B) {
	r, err := New(b.TempDir(), Options{Audio: true})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	pkt := oggOpus(b)[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Audio(t0.Add(time.Duration(i)*20*time.Millisecond), pkt)
	}
}
