package peer

import (
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// alternating packetizes delta frames from each of two sources until each
// sent at least n packets and returns them interleaved a, b, a, b ... with
// the number of frames each sent.
func alternating(frames [][]byte, a, b *sender, from, n int) (out [][]byte, nFrames int) {
	for i := from; len(out) < 2*n; i++ {
		f := frames[i%len(frames)]
		if i%len(frames)%30 == 0 {
			continue // keyframes are copied out on purpose
		}
		pa, pb := a.packetize(f), b.packetize(f)
		for j := range pa {
			out = append(out, pa[j], pb[j])
		}
		nFrames++
	}
	return out, nFrames
}

// Two SSRCs interleaved on the video payload type (RFC 3550 §A.1
// probation): the established source goes on assembling frames, the other
// never passes probation (its packets are counted, not followed), nothing
// is logged per packet and the per-packet path stays allocation-free.
func TestAlternatingSSRCsKeepStream(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := streamFrames(t, p, s, t0, frames[:31], &r)
	before := p.Stats()
	other := &sender{t: t, out: s.out, in: s.in, ssrc: 0x5151, seq: 40000, ts: 123456}

	pkts, nFrames := alternating(frames, s, other, 31, 200)
	logs := 0
	for i, pk := range pkts {
		p.Handle(now, client, pk)
		for _, e := range drain(p) {
			if e.Kind == Log {
				logs++
			}
		}
		if i%2 == 1 {
			now = now.Add(33 * time.Millisecond)
			p.HandleTimeout(now)
			drain(p)
		}
	}
	st := p.Stats()
	got := int(st.Frames - before.Frames)
	if got != nFrames || st.Lost != before.Lost || int(st.Probation-before.Probation) != len(pkts)/2 {
		t.Fatalf("%d frames of %d assembled, lost %d, probation %d of %d; stats %+v",
			got, nFrames, st.Lost-before.Lost, st.Probation-before.Probation, len(pkts)/2, st)
	}
	if logs != 0 || p.video.ssrc != s.ssrc || p.pliSSRC() != s.ssrc {
		t.Fatalf("%d log lines; following %#x, PLIs to %#x", logs, p.video.ssrc, p.pliSSRC())
	}

	// After warm-up, a pair of packets (one of each source) allocates nothing.
	pkts, _ = alternating(frames, s, other, 300, 401)
	i := 0
	allocs := testing.AllocsPerRun(400, func() {
		now = now.Add(time.Millisecond)
		p.Handle(now, client, pkts[i])
		p.Handle(now, client, pkts[i+1])
		i += 2
		for _, ok := p.Poll(); ok; _, ok = p.Poll() {
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per alternating pair", allocs)
	}
}

// A new SSRC's probation packet is not lost: once the next packet confirms
// the source, both go into its sequence, and the restart is logged once.
func TestProbationPacketKept(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := streamFrames(t, p, s, t0, frames[:31], &r)
	before := p.Stats()
	s.ssrc, s.seq = 0x777, 10
	now = streamFrames(t, p, s, now, frames[:31], &r)
	feed(t, p, s, now.Add(time.Second), nil, &r)
	st := p.Stats()
	if st.Frames-before.Frames != 31 || st.Lost != before.Lost || st.Probation-before.Probation != 1 {
		t.Fatalf("after the restart: %d frames of 31, lost %d, probation %d",
			st.Frames-before.Frames, st.Lost-before.Lost, st.Probation-before.Probation)
	}
	if rr := p.video.report(now, false); rr.SSRC != 0x777 || rr.TotalLost != 0 {
		t.Fatalf("report after the restart %+v", rr)
	}
}

// The restart log line is rate-limited: a source switching back and forth
// in pairs gets one line per restartLogGap, with a count.
func TestRestartLogRateLimited(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := streamFrames(t, p, s, t0, frames[:31], &r)
	a, b := s, &sender{t: t, out: s.out, in: s.in, ssrc: 0x5151, seq: 40000, ts: 123456}
	logs := 0
	for i := range 40 {
		src := a
		if i%2 == 1 {
			src = b
		}
		var pkts [][]byte
		for j := 1; len(pkts) < 3; j++ {
			pkts = append(pkts, src.packetize(frames[j])...)
		}
		for _, pk := range pkts {
			p.Handle(now, client, pk)
			for _, e := range drain(p) {
				if e.Kind == Log {
					logs++
				}
			}
		}
		now = now.Add(100 * time.Millisecond)
	}
	if logs < 1 || logs > 1+int(4*time.Second/restartLogGap) {
		t.Fatalf("%d log lines for 39 restarts in 4 s", logs)
	}
}
