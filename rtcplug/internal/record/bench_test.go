package record

import (
	"testing"
	"time"
)

// BenchmarkSessionWebM measures writing VP8 + Opus into WebM on the
// recorder's goroutine (disk included), per sample.
func BenchmarkSessionWebM(b *testing.B) {
	video, audio := ivfFrames(b), oggOpus(b)
	plan := schedule(video, VP8, 30, audio, 100*time.Millisecond)
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
