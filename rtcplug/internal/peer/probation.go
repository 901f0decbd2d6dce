package peer

import (
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

// restartLogGap is the least time between two "restarted" log lines: a
// sender flapping between sources must not turn every restart into a
// formatted message.
const restartLogGap = 10 * time.Second

// replayProbe hands on the packet a probation started with, after the
// packet that confirmed its SSRC (extended sequence number ext) restarted
// the video: it is ext−1 of the same source.
func (p *Peer) replayProbe(now time.Time, ext uint64) {
	if len(p.probe) == 0 || ext == 0 || minSequential != 2 {
		return
	}
	var h rtp.Header
	if err := h.Unmarshal(p.probe); err == nil {
		p.onVideo(now, ext-1, p.probe, &h)
	}
	p.probe = p.probe[:0]
}

// logRestart notes a video restart, at most once per restartLogGap; the
// restarts in between are counted in the next line.
func (p *Peer) logRestart(now time.Time, ssrc uint32) {
	if !p.restartLogAt.IsZero() && now.Sub(p.restartLogAt) < restartLogGap {
		p.restartsQuiet++
		return
	}
	if p.restartsQuiet > 0 {
		p.logf("video source %#08x restarted its sequence (%d more restarts since the last note)", ssrc, p.restartsQuiet)
	} else {
		p.logf("video source %#08x restarted its sequence", ssrc)
	}
	p.restartLogAt, p.restartsQuiet = now, 0
}
