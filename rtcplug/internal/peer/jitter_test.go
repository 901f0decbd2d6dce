package peer

import (
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

// RFC 3550 §A.8 computes transit differences modulo 2^32: a stream whose
// RTP timestamps wrap keeps its jitter (here: none).
func TestJitterAcrossTimestampWrap(t *testing.T) {
	var s recvStats
	epoch := time.Unix(1000, 0)
	ts := uint32(1<<32 - 10*3000) // wraps after ten frames
	for i := range 40 {
		h := rtp.Header{SSRC: 7, SequenceNumber: uint16(i), Timestamp: ts}
		now := epoch.Add(time.Duration(i) * time.Second / 30)
		s.update(now, epoch, &h, videoClock)
		ts += 3000 // 30 frames a second at 90 kHz
	}
	if s.jitter > 1 {
		t.Fatalf("jitter %v timestamp units after the wrap, want about 0", s.jitter)
	}
}
