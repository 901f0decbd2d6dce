package peer

import (
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtcp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

const audioSSRC = 0xa0d10

// opus builds one SRTP Opus packet (PT 111) whose payload names its
// sequence number.
func (s *sender) opus(seq uint16, ts uint32) []byte {
	h := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts, SSRC: audioSSRC}
	pkt := h.MarshalTo(nil)
	pkt = append(pkt, 0xfc, byte(seq>>8), byte(seq)) // TOC: CELT FB 20 ms, then the seq
	enc, err := s.out.EncryptRTP(nil, pkt, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return enc
}

// sr builds an SRTCP sender report for ssrc.
func (s *sender) sr(ssrc uint32, wall time.Time, rtpTS uint32) []byte {
	d := wall.Sub(ntpEpoch)
	sec := uint64(d / time.Second)
	frac := uint64(d%time.Second) << 32 / uint64(time.Second)
	pkt := rtcp.AppendSR(nil, ssrc, rtcp.SenderInfo{NTPTime: sec<<32 | frac, RTPTime: rtpTS}, nil)
	enc, err := s.out.EncryptRTCP(nil, pkt)
	if err != nil {
		s.t.Fatal(err)
	}
	return enc
}

type media struct {
	audio  []Event // Data cloned
	frames []Event
}

// step delivers b (if any) at now, runs the timers due, and collects media.
func step(t *testing.T, p *Peer, now time.Time, b []byte, m *media) {
	t.Helper()
	collect := func() {
		for ev, ok := p.Poll(); ok; ev, ok = p.Poll() {
			switch ev.Kind {
			case Audio:
				ev.Data = append([]byte(nil), ev.Data...)
				m.audio = append(m.audio, ev)
			case Frame:
				ev.Data = nil
				m.frames = append(m.frames, ev)
			}
		}
	}
	if b != nil {
		p.Handle(now, client, b)
		collect()
	}
	for d := p.Deadline(); !d.IsZero() && !d.After(now); d = p.Deadline() {
		p.HandleTimeout(now)
		collect()
	}
}

func recordingPeer(t *testing.T) (*Peer, *sender) {
	l, s := connectedLink(t, linkOpts{profile: srtp.AEADAES128GCM, config: func(c *Config) { c.Record = true }, media: RemoteMedia{NACK: true}})
	return l.p, s
}

// TestAudioReorder: Opus packets leave the peer in sequence order whatever
// order they arrive in; a duplicate or a packet older than what went out is
// dropped; a lost packet stays lost once AudioReorderWait has passed.
func TestAudioReorder(t *testing.T) {
	p, s := recordingPeer(t)
	var m media
	now := t0
	const base = uint16(65530) // wraps during the test
	// Arrival order: 0 2 1 3 5 4 4 3 7 (6 lost) 8 9.
	order := []uint16{0, 2, 1, 3, 5, 4, 4, 3, 7, 8, 9}
	for _, i := range order {
		step(t, p, now, s.opus(base+i, uint32(i)*960), &m)
		now = now.Add(20 * time.Millisecond)
	}
	step(t, p, now.Add(AudioReorderWait), nil, &m)
	var got []uint16
	for _, a := range m.audio {
		got = append(got, uint16(a.Data[1])<<8|uint16(a.Data[2]))
		if want := uint32(got[len(got)-1]-base) * 960; a.RTPTimestamp != want {
			t.Fatalf("packet %d carries timestamp %d", got[len(got)-1], a.RTPTimestamp)
		}
	}
	want := []uint16{0, 1, 2, 3, 4, 5, 7, 8, 9}
	if len(got) != len(want) {
		t.Fatalf("out %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != base+want[i] {
			t.Fatalf("out %v, want base+%v", got, want)
		}
	}
	// The timeline spaces them by the RTP clock from the first arrival.
	for _, a := range m.audio {
		ts := a.RTPTimestamp
		if want := t0.Add(time.Duration(ts) * time.Second / audioClock); !a.Time.Equal(want) {
			t.Fatalf("ts %d at %v, want %v", ts, a.Time.Sub(t0), want.Sub(t0))
		}
	}
	if p.tl.ar.count != 0 {
		t.Fatalf("%d packets still waiting", p.tl.ar.count)
	}
}

// TestAudioReorderWindow: a jump beyond the window releases what waits
// and moves on; nothing waits without bound.
func TestAudioReorderWindow(t *testing.T) {
	p, s := recordingPeer(t)
	var m media
	step(t, p, t0, s.opus(100, 0), &m)
	step(t, p, t0, s.opus(102, 2*960), &m) // waits for 101
	if len(m.audio) != 1 || p.Deadline().After(t0.Add(AudioReorderWait)) {
		t.Fatalf("%d out, deadline %v", len(m.audio), p.Deadline().Sub(t0))
	}
	step(t, p, t0, s.opus(100+AudioReorderSlots+5, 0), &m)
	if len(m.audio) != 3 || p.tl.ar.count != 0 {
		t.Fatalf("%d out, %d waiting", len(m.audio), p.tl.ar.count)
	}
}

// TestTimelineSenderReports: before any report each source is anchored at
// its first arrival; with reports both land on the sender's clock, so audio
// and video captured at the same instant get the same time although their RTP
// clocks start at unrelated values and their packets arrive with different
// delays.
func TestTimelineSenderReports(t *testing.T) {
	p, s := recordingPeer(t)
	frames := ivfFrames(t)
	var m media
	const aBase, vBase = 1_000_000, 3_000_000_000
	s.ts = vBase

	// Sender clock: wall time W(x) = sender0 + x for capture instant x.
	sender0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	videoDelay, audioDelay := 80*time.Millisecond, 30*time.Millisecond

	// 10 video frames at 30 fps (3000 ticks), 15 audio packets of 20 ms, in
	// arrival order, with the reports of both sources at capture 100 ms.
	type arrival struct {
		at time.Time
		b  []byte
	}
	var arrivals []arrival
	for i := 0; i < 10; i++ {
		x := time.Duration(i) * time.Second / 30
		for _, pk := range s.packetize(frames[i]) {
			arrivals = append(arrivals, arrival{t0.Add(x + videoDelay), pk})
		}
	}
	for i := 0; i < 15; i++ {
		x := time.Duration(i) * 20 * time.Millisecond
		arrivals = append(arrivals, arrival{t0.Add(x + audioDelay), s.opus(uint16(i), aBase+uint32(i)*960)})
	}
	srAt := 100 * time.Millisecond
	arrivals = append(arrivals,
		arrival{t0.Add(srAt + audioDelay + 5*time.Millisecond), s.sr(audioSSRC, sender0.Add(srAt), aBase+4800)},
		arrival{t0.Add(srAt + videoDelay + 5*time.Millisecond), s.sr(s.ssrc, sender0.Add(srAt), vBase+9000)})
	for i := 1; i < len(arrivals); i++ { // stable insertion sort by arrival
		for j := i; j > 0 && arrivals[j].at.Before(arrivals[j-1].at); j-- {
			arrivals[j], arrivals[j-1] = arrivals[j-1], arrivals[j]
		}
	}
	for _, a := range arrivals {
		step(t, p, a.at, a.b, &m)
	}
	if p.tl.reports != 2 {
		t.Fatalf("%d reports applied", p.tl.reports)
	}
	if len(m.frames) != 10 || len(m.audio) != 15 {
		t.Fatalf("%d frames, %d audio packets", len(m.frames), len(m.audio))
	}
	// The first audio report fixed the offset: sender0 maps to t0 + its
	// delay (+5 ms), i.e. capture instant x maps to t0 + x + 35 ms.
	offset := audioDelay + 5*time.Millisecond
	for _, a := range m.audio {
		x := time.Duration(a.RTPTimestamp-aBase) * time.Second / audioClock
		var want time.Time
		if a.Time.Before(t0.Add(srAt + offset)) {
			// Before the report: first arrival plus the RTP clock.
			want = t0.Add(audioDelay + x)
		} else {
			want = t0.Add(offset + x)
		}
		if d := a.Time.Sub(want); d < -time.Millisecond || d > time.Millisecond {
			t.Fatalf("audio at capture %v: %v, want %v", x, a.Time.Sub(t0), want.Sub(t0))
		}
	}
	// Video after its report is on the same clock: no video delay in it.
	after := 0
	for _, f := range m.frames {
		x := time.Duration(f.RTPTimestamp-vBase) * time.Second / videoClock
		if x < 5*time.Second/30 {
			continue // arrived before the video report: anchored at arrival
		}
		after++
		if d := f.Time.Sub(t0.Add(offset + x)); d < -time.Millisecond || d > time.Millisecond {
			t.Fatalf("frame at capture %v: %v, want %v", x, f.Time.Sub(t0), offset+x)
		}
	}
	if after < 4 {
		t.Fatalf("%d frames after the video report", after)
	}
	// Before any report, the first frame was anchored when it came out of
	// the reorder buffer (which holds the first ReorderWait), the next ones
	// spaced by the RTP clock.
	f0 := m.frames[0].Time
	if f0.Before(t0.Add(videoDelay)) || f0.After(t0.Add(videoDelay+ReorderWait+time.Second/30)) {
		t.Fatalf("first frame at %v", f0.Sub(t0))
	}
	for i := 1; i < 4; i++ {
		if d := m.frames[i].Time.Sub(f0); d != time.Duration(i*3000)*time.Second/videoClock {
			t.Fatalf("frame %d %v after the first", i, d)
		}
	}
}

// TestTimelineClockStep: a sender that steps its wall clock by an hour does
// not tear the timeline; drift-sized corrections are applied as they come;
// an SR for an unknown SSRC or with a zero NTP time changes nothing.
func TestTimelineClockStep(t *testing.T) {
	p, s := recordingPeer(t)
	var m media
	wall := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := t0
	for i := 0; i < 100; i++ {
		ts := uint32(i) * 960
		switch i {
		case 10:
			step(t, p, now, s.sr(audioSSRC, wall.Add(200*time.Millisecond), ts), &m)
		case 50: // the sender's clock jumps an hour ahead
			step(t, p, now, s.sr(audioSSRC, wall.Add(time.Hour+time.Second), ts), &m)
		case 70: // 2 ms of drift
			step(t, p, now, s.sr(audioSSRC, wall.Add(time.Hour+1402*time.Millisecond), ts), &m)
		case 80:
			step(t, p, now, s.sr(0xdead, wall, ts), &m)
			step(t, p, now, s.sr(audioSSRC, ntpEpoch, ts), &m)
		}
		step(t, p, now, s.opus(uint16(i), ts), &m)
		now = now.Add(20 * time.Millisecond)
	}
	if len(m.audio) != 100 || p.tl.reports != 3 {
		t.Fatalf("%d packets, %d reports", len(m.audio), p.tl.reports)
	}
	for i := 1; i < len(m.audio); i++ {
		d := m.audio[i].Time.Sub(m.audio[i-1].Time)
		want := 20 * time.Millisecond
		if i == 70 {
			want += 2 * time.Millisecond
		}
		if d != want {
			t.Fatalf("packet %d: %v after the one before, want %v", i, d, want)
		}
	}
}

func TestNTPTime(t *testing.T) {
	if got := ntpTime(0x83aa7e80_80000000); !got.Equal(time.Date(1970, 1, 1, 0, 0, 0, 5e8, time.UTC)) {
		t.Fatalf("%v", got)
	}
}

// BenchmarkHandleOpus measures the recording audio path: SRTP, the reorder
// window (every other pair of packets swapped) and the timeline mapping.
func BenchmarkHandleOpus(b *testing.B) {
	mk := func() (*Peer, [][]byte) {
		l, s := connectedLink(b, linkOpts{profile: srtp.AEADAES128GCM, config: func(c *Config) { c.Record = true }, media: RemoteMedia{NACK: true}})
		p := l.p
		var pkts [][]byte
		for i := 0; i < 4096; i++ {
			j := i
			if i%4 == 1 {
				j++
			} else if i%4 == 2 {
				j--
			}
			pkts = append(pkts, s.opus(uint16(j), uint32(j)*960))
		}
		return p, pkts
	}
	p, pkts := mk()
	buf := make([]byte, 1500)
	now := t0
	b.ReportAllocs()
	settle()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(pkts) == 0 && i > 0 {
			b.StopTimer()
			p, pkts = mk()
			settle()
			b.StartTimer()
		}
		n := copy(buf, pkts[i%len(pkts)])
		now = now.Add(20 * time.Millisecond)
		p.Handle(now, client, buf[:n])
		for _, ok := p.Poll(); ok; _, ok = p.Poll() {
		}
	}
}

// ntpEpoch is 1900-01-01, the origin of NTP timestamps (RFC 5905 §6).
var ntpEpoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
