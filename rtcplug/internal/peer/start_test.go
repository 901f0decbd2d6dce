package peer

import (
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// TestFirstKeyframeWithoutWarmupHold: the first keyframe is delivered as
// soon as its last packet arrives (virtual time does not move), whether its
// packets come in order or its first packet comes second; packets of a
// frame whose start never came are dropped, not waited for.
func TestFirstKeyframeWithoutWarmupHold(t *testing.T) {
	for _, c := range []struct {
		name  string
		order func(pkts [][]byte) [][]byte
	}{
		{"in order", func(p [][]byte) [][]byte { return p }},
		{"start second", func(p [][]byte) [][]byte {
			return append([][]byte{p[1], p[0]}, p[2:]...)
		}},
		{"start last", func(p [][]byte) [][]byte {
			return append(append([][]byte(nil), p[1:]...), p[0])
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, s := connected(t, srtp.AEADAES128GCM)
			frames := ivfFrames(t)
			var r run
			pkts := s.packetize(frames[0])
			if len(pkts) < 3 {
				t.Fatalf("keyframe in %d packets", len(pkts))
			}
			feed(t, p, s, t0, c.order(pkts), &r)
			if len(r.keyframes) != 1 {
				t.Fatalf("%d keyframes at once, want 1 without waiting ReorderWait", len(r.keyframes))
			}
			// The next frame flows at once too.
			feed(t, p, s, t0, s.packetize(frames[1]), &r)
			if st := p.Stats(); st.Frames != 2 || st.Lost != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
	t.Run("tail of a frame first", func(t *testing.T) {
		p, s := connected(t, srtp.AEADAES128GCM)
		frames := ivfFrames(t)
		var r run
		// The stream is joined mid-frame: the tail of frame 29, then
		// keyframe 30 whole.
		tail := s.packetize(frames[29])
		feed(t, p, s, t0, tail[len(tail)-1:], &r)
		feed(t, p, s, t0, s.packetize(frames[30]), &r)
		if len(r.keyframes) != 1 {
			t.Fatalf("%d keyframes at once", len(r.keyframes))
		}
		if st := p.Stats(); st.Lost != 0 || st.Dropped != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
}
