package peer

import (
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtcp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// streamFrames sends frames[from:to] 33 ms apart from now on and returns the
// time after the last.
func streamFrames(t *testing.T, p *Peer, s *sender, now time.Time, frames [][]byte, r *run) time.Time {
	t.Helper()
	for _, f := range frames {
		feed(t, p, s, now, s.packetize(f), r)
		now = now.Add(33 * time.Millisecond)
	}
	return now
}

// A sender that starts over with a new SSRC and a lower sequence number (a
// browser renegotiating, an encoder restarting) must not have every packet
// dropped as "late".
func TestSenderRestartNewSSRC(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := streamFrames(t, p, s, t0, frames[:31], &r)
	if len(r.keyframes) != 2 {
		t.Fatalf("%d keyframes before the restart", len(r.keyframes))
	}
	s.ssrc, s.seq = 0x777, 10 // 65500+n before: far "behind"
	now = streamFrames(t, p, s, now, frames[:31], &r)
	feed(t, p, s, now.Add(time.Second), nil, &r)
	if len(r.keyframes) != 4 {
		t.Fatalf("%d keyframes after the restart, want 4; stats %+v", len(r.keyframes), p.Stats())
	}
	if p.pliSSRC() != 0x777 {
		t.Fatalf("PLIs go to %#x", p.pliSSRC())
	}
}

// The same SSRC jumping far ahead in its sequence space is a restart
// (RFC 3550 §A.1, MAX_DROPOUT), not thousands of lost packets. (A jump
// backwards cannot pass SRTP: the index would repeat.)
func TestSenderRestartSameSSRC(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := streamFrames(t, p, s, t0, frames[:31], &r)
	s.seq += 20000
	now = streamFrames(t, p, s, now, frames[:31], &r)
	feed(t, p, s, now.Add(time.Second), nil, &r)
	if len(r.keyframes) != 4 || p.Stats().Lost != 0 {
		t.Fatalf("%d keyframes, want 4; stats %+v", len(r.keyframes), p.Stats())
	}
	// The report restarts from the new sequence: nothing lost.
	rr := p.video.report(now, false)
	if rr.TotalLost != 0 || rr.FractionLost != 0 {
		t.Fatalf("report after the restart %+v", rr)
	}
}

// After a NAT rebinding the client's checks come from a new address; once a
// check from it passed and authenticated media arrives from it, RTCP follows.
func TestRTCPFollowsAuthenticatedRebinding(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := streamFrames(t, p, s, t0, frames[:3], &r)

	// Media from an address no check has bound is dropped and changes nothing.
	pkts := s.packetize(frames[3])
	p.Handle(now, other, pkts[0])
	drain(p)
	if p.dest != client {
		t.Fatalf("unauthenticated address became the destination")
	}
	p.Handle(now, other, bindingRequest(t, localPwd))
	drain(p)
	for _, pk := range pkts {
		p.Handle(now, other, pk)
		drain(p)
	}
	now = now.Add(2 * ReportInterval)
	p.HandleTimeout(now)
	var to []string
	for _, e := range drain(p) {
		if e.Kind == Transmit {
			to = append(to, e.Addr.String())
		}
	}
	if len(to) == 0 || to[len(to)-1] != other.String() {
		t.Fatalf("RTCP sent to %v, want %v", to, other)
	}
}

// Receiver report fields (RFC 3550 §6.4.1, §A.3) against a hand count.
func TestReceiverReportFields(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := t0
	base := s.seq
	sent := 0
	for i := 0; i < 4; i++ {
		pkts := s.packetize(frames[i])
		sent += len(pkts)
		if i == 2 {
			pkts = pkts[:len(pkts)-1] // lose one (the tail: no reorder wait)
		}
		feed(t, p, s, now, pkts, &r)
		now = now.Add(33 * time.Millisecond)
	}
	rr := p.video.report(now, true)
	highest := uint32(base) + uint32(sent) - 1 // base 65500: wraps into cycle 1
	if rr.SSRC != s.ssrc || rr.HighestSeq != highest || rr.TotalLost != 1 {
		t.Fatalf("report %+v, want highest %#x, lost 1", rr, highest)
	}
	if want := uint8(256 / sent); rr.FractionLost != want {
		t.Fatalf("fraction %d, want %d", rr.FractionLost, want)
	}
	// A sender report gives LSR; DLSR counts from its arrival in 1/65536 s.
	sr := rtcp.AppendSR(nil, s.ssrc, rtcp.SenderInfo{NTPTime: 0x0001_2345_6789_0000, RTPTime: 1, PacketCount: 1, OctetCount: 1}, nil)
	enc, err := s.out.EncryptRTCP(nil, sr)
	if err != nil {
		t.Fatal(err)
	}
	p.Handle(now, client, enc)
	drain(p)
	rr = p.video.report(now.Add(500*time.Millisecond), true)
	if rr.LastSR != 0x2345_6789 || rr.DelaySinceLastSR != 32768 {
		t.Fatalf("LSR %#x DLSR %d", rr.LastSR, rr.DelaySinceLastSR)
	}
	// The next interval lost nothing.
	now = streamFrames(t, p, s, now, frames[4:6], &r)
	if rr = p.video.report(now, true); rr.FractionLost != 0 || rr.TotalLost != 1 {
		t.Fatalf("second interval %+v", rr)
	}
}
