package peer

import (
	"runtime"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// BenchmarkHandleRTP measures the per-packet path: SRTP authentication and
// decryption, reordering, VP8 assembly and the feedback timers. Delta frames
// only (keyframes are copied out on purpose).
func BenchmarkHandleRTP(b *testing.B) {
	p, s := connected(b, srtp.AEADAES128GCM)
	frames := ivfFrames(b)
	// Encrypted packets of a stretch of delta frames, replayed with fresh
	// sequence numbers would need re-encryption; instead pre-encrypt enough.
	var pkts [][]byte
	for i := 1; len(pkts) < 4096; i++ {
		if i%30 == 0 {
			continue
		}
		pkts = append(pkts, s.packetize(frames[i%len(frames)])...)
	}
	buf := make([]byte, 1500)
	now := t0
	b.ReportAllocs()
	settle()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(pkts) == 0 && i > 0 {
			b.StopTimer()
			p, s = connected(b, srtp.AEADAES128GCM)
			pkts = pkts[:0]
			for j := 1; len(pkts) < 4096; j++ {
				if j%30 == 0 {
					continue
				}
				pkts = append(pkts, s.packetize(frames[j%len(frames)])...)
			}
			settle()
			b.StartTimer()
		}
		pk := pkts[i%len(pkts)]
		n := copy(buf, pk)
		now = now.Add(time.Millisecond)
		p.Handle(now, client, buf[:n])
		for _, ok := p.Poll(); ok; _, ok = p.Poll() {
		}
	}
}

// settle collects the garbage of a benchmark's setup (certificates, a
// whole handshake) while the timer is stopped, so that the collector does
// not run on the measured per-packet path's time.
func settle() { runtime.GC() }
