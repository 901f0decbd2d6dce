package vp8

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

func TestIVF(t *testing.T) {
	frames := readIVF(t)
	if len(frames) != 120 {
		t.Fatalf("%d frames", len(frames))
	}
	for i, f := range frames {
		w, h, ok := KeyframeSize(f)
		if want := i%30 == 0; ok != want || IsKeyframe(f) != want {
			t.Fatalf("frame %d: keyframe %v, want %v", i, ok, want)
		}
		if ok && (w != 640 || h != 480) {
			t.Fatalf("frame %d: %dx%d", i, w, h)
		}
	}
}

func TestAssembleIVF(t *testing.T) {
	frames := readIVF(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			pkts := packetize(frames, m)
			if len(pkts) <= len(frames) {
				t.Fatalf("%d packets for %d frames: keyframes should span several", len(pkts), len(frames))
			}
			a := NewAssembler(0)
			if !a.NeedKeyframe() {
				t.Fatal("a new assembler waits for a keyframe")
			}
			got := run(t, a, pkts)
			if len(got) != len(frames) {
				t.Fatalf("%d frames out, want %d (stats %+v)", len(got), len(frames), a.Stats())
			}
			for i, r := range got {
				if r.index != i || !bytes.Equal(r.frame, frames[i]) {
					t.Fatalf("frame %d differs", i)
				}
				if r.key != (i%30 == 0) {
					t.Fatalf("frame %d: key %v", i, r.key)
				}
			}
			if st := a.Stats(); st != (Stats{Frames: 120, Keyframes: 4}) || a.NeedKeyframe() {
				t.Fatalf("stats %+v need %v", st, a.NeedKeyframe())
			}
		})
	}
}

// drop returns pkts without the i-th packet of frame f (i < 0 counts from
// the frame's last packet).
func drop(pkts []packet, f, i int) []packet {
	var idx []int
	for j, p := range pkts {
		if p.frame == f {
			idx = append(idx, j)
		}
	}
	if i < 0 {
		i += len(idx)
	}
	k := idx[i]
	return append(append([]packet(nil), pkts[:k]...), pkts[k+1:]...)
}

func framesOf(rs []result) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.index)
	}
	return out
}

func expectFrames(t *testing.T, got []result, frames [][]byte, want []int) {
	t.Helper()
	if idx := framesOf(got); len(idx) != len(want) {
		t.Fatalf("frames out %v, want %v", idx, want)
	}
	for k, r := range got {
		if r.index != want[k] || !bytes.Equal(r.frame, frames[want[k]]) {
			t.Fatalf("frame %d (out %d) wrong", want[k], k)
		}
	}
}

func span(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func TestLossWaitsForKeyframe(t *testing.T) {
	frames := readIVF(t)
	pkts := packetize(frames, modes[1])
	tests := []struct {
		name      string
		frame, at int
	}{
		{"single-packet inter frame", 5, 0},
		{"inter frame first packet", 25, 0},
		{"inter frame marker packet", 25, -1},
		{"inter frame middle packet", 31, 2},
		{"keyframe first packet", 30, 0},
		{"keyframe middle packet", 30, 1},
		{"keyframe marker packet", 30, -1},
		{"first keyframe", 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAssembler(0)
			lossy := drop(pkts, tt.frame, tt.at)
			var got []result
			sawNeed := false
			for _, p := range lossy {
				got = append(got, run(t, a, []packet{p})...)
				// Between the loss and the next keyframe the assembler
				// must ask for one.
				if p.frame > tt.frame && p.frame < (tt.frame/30+1)*30 && !a.NeedKeyframe() {
					t.Fatalf("frame %d: NeedKeyframe false after loss in %d", p.frame, tt.frame)
				}
				sawNeed = sawNeed || a.NeedKeyframe()
			}
			next := (tt.frame/30 + 1) * 30
			want := append(span(0, tt.frame), span(next, len(frames))...)
			expectFrames(t, got, frames, want)
			if a.NeedKeyframe() || !sawNeed {
				t.Fatal("NeedKeyframe not cleared by the next keyframe")
			}
			// A frame whose only packet was lost is never seen, so not counted.
			wantDropped := next - tt.frame
			if n := countPackets(pkts, tt.frame); n == 1 {
				wantDropped--
			}
			wantKeys := 4
			if tt.frame%30 == 0 {
				wantKeys--
			}
			st := a.Stats()
			if int(st.Dropped) != wantDropped || int(st.Frames) != len(want) || int(st.Keyframes) != wantKeys {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func countPackets(pkts []packet, f int) int {
	n := 0
	for _, p := range pkts {
		if p.frame == f {
			n++
		}
	}
	return n
}

func TestMarkerMissing(t *testing.T) {
	// The sender never marks the end of frame 3: frame 4's new timestamp
	// shows it incomplete, with no sequence gap.
	frames := readIVF(t)
	pkts := packetize(frames[:40], modes[0])
	for i := range pkts {
		if pkts[i].frame == 3 {
			pkts[i].h.Marker = false
		}
	}
	a := NewAssembler(0)
	got := run(t, a, pkts)
	expectFrames(t, got, frames, append(span(0, 3), 30, 31, 32, 33, 34, 35, 36, 37, 38, 39))
}

func TestDuplicates(t *testing.T) {
	frames := readIVF(t)
	pkts := packetize(frames, modes[1])
	var dup []packet
	for i, p := range pkts {
		dup = append(dup, p, p)
		if i > 0 && i%7 == 0 {
			dup = append(dup, pkts[i-1]) // an old one, late
		}
	}
	a := NewAssembler(0)
	got := run(t, a, dup)
	expectFrames(t, got, frames, span(0, len(frames)))
	if st := a.Stats(); int(st.Ignored) != len(dup)-len(pkts) || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStartMidStream(t *testing.T) {
	frames := readIVF(t)
	pkts := packetize(frames, modes[1])
	// Join at frame 10: inter frames up to the next keyframe are useless.
	for len(pkts) > 0 && pkts[0].frame < 10 {
		pkts = pkts[1:]
	}
	a := NewAssembler(0)
	got := run(t, a, pkts)
	expectFrames(t, got, frames, span(30, len(frames)))
	if st := a.Stats(); st.Dropped != 20 {
		t.Fatalf("stats %+v", st)
	}

	// Join inside keyframe 30, after its first packet: its tail is
	// counted once as a dropped frame, and frame 60 is the first out.
	pkts = packetize(frames, modes[1])
	for len(pkts) > 0 && pkts[0].frame < 30 {
		pkts = pkts[1:]
	}
	a = NewAssembler(0)
	got = run(t, a, pkts[1:])
	expectFrames(t, got, frames, span(60, len(frames)))
	if st := a.Stats(); st.Dropped != 30 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOversizedKeyframe(t *testing.T) {
	frames := readIVF(t)
	pkts := packetize(frames[:40], modes[0])
	limit := min(len(frames[0]), len(frames[30])) - 1
	a := NewAssembler(limit)
	got := run(t, a, pkts)
	if len(got) != 0 {
		t.Fatalf("%d frames from an assembler that cannot hold a keyframe", len(got))
	}
	if st := a.Stats(); st.TooLarge != 2 || !a.NeedKeyframe() || st.Dropped != 40 {
		t.Fatalf("stats %+v", st)
	}
	if cap(a.buf) > limit {
		t.Fatalf("buffer grew to %d past the limit", cap(a.buf))
	}
}

func TestSSRCChange(t *testing.T) {
	frames := readIVF(t)
	pkts := packetize(frames[:35], modes[0])
	a := NewAssembler(0)
	got := run(t, a, pkts[:len(pkts)/2])
	n := len(got)
	// A new sender with its own numbering: the assembler follows it and
	// waits for its keyframe.
	second := packetize(frames[:35], modes[0])
	for i := range second {
		second[i].h.SSRC = 42
		second[i].h.SequenceNumber += 1000
	}
	got = append(got, run(t, a, second)...)
	if len(got)-n != 35 {
		t.Fatalf("%d frames of the new stream", len(got)-n)
	}
}

func TestBackwardsJump(t *testing.T) {
	// The same SSRC restarts its numbering far behind: after maxStaleRun
	// ignored packets the assembler follows and recovers at a keyframe.
	frames := readIVF(t)
	pkts := packetize(frames, modes[0])
	a := NewAssembler(0)
	got := run(t, a, pkts[:len(pkts)/2])
	again := packetize(frames, modes[0])
	for i := range again {
		again[i].h.SequenceNumber -= 20000
	}
	got = append(got, run(t, a, again)...)
	if a.NeedKeyframe() || len(got) <= 60 {
		t.Fatalf("%d frames, need %v", len(got), a.NeedKeyframe())
	}
}

func TestGarbage(t *testing.T) {
	frames := readIVF(t)
	pkts := packetize(frames, modes[3])
	rng := rand.New(rand.NewPCG(1, 2))
	a := NewAssembler(1 << 16)
	if _, _, err := a.Push(nil, []byte{0x10}); err != ErrNoHeader {
		t.Fatalf("nil header: %v", err)
	}
	for range 20000 {
		p := pkts[rng.IntN(len(pkts))]
		h := p.h
		pl := append([]byte(nil), p.payload...)
		switch rng.IntN(6) {
		case 0:
			pl = pl[:rng.IntN(len(pl)+1)]
		case 1:
			for range 1 + rng.IntN(8) {
				if len(pl) > 0 {
					pl[rng.IntN(len(pl))] = byte(rng.Uint32())
				}
			}
		case 2:
			h.SequenceNumber = uint16(rng.Uint32())
		case 3:
			h.Marker = !h.Marker
		case 4:
			h.Timestamp = rng.Uint32()
		}
		f, key, _ := a.Push(&h, pl)
		if key && !IsKeyframe(f) {
			t.Fatal("keyframe flag on a frame with a broken header")
		}
		if len(f) > 1<<16 {
			t.Fatal("frame over the limit")
		}
	}
	// After all that, a clean stream still assembles.
	for i := range pkts {
		pkts[i].h.SSRC = 7
	}
	got := run(t, a, pkts)
	expectFrames(t, got, frames, span(0, len(frames)))
}

func TestCorruptKeyframeHeader(t *testing.T) {
	frames := readIVF(t)
	bad := append([]byte(nil), frames[0]...)
	bad[4] = 0 // start code broken
	fs := append([][]byte{bad}, frames[1:31]...)
	a := NewAssembler(0)
	got := run(t, a, packetize(fs, modes[0]))
	expectFrames(t, got, fs, []int{30})
}

func TestZeroAllocs(t *testing.T) {
	frames := readIVF(t)
	pkts := packetize(frames, modes[1])
	a := NewAssembler(0)
	run(t, a, pkts) // warm the buffer up
	var seqOff uint16
	allocs := testing.AllocsPerRun(5, func() {
		seqOff += uint16(len(pkts))
		for _, p := range pkts {
			h := p.h
			h.SequenceNumber += seqOff
			h.Timestamp += uint32(seqOff) * 100000
			if _, _, err := a.Push(&h, p.payload); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per stream", allocs)
	}
	if st := a.Stats(); st.Frames != 7*120 {
		t.Fatalf("stats %+v", st)
	}
}

func BenchmarkDepacketize(b *testing.B) {
	// One 1200-byte packet holding a whole keyframe: descriptor, append,
	// and the keyframe check on completion.
	frame := make([]byte, maxPayload-4)
	copy(frame, []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
	d := Descriptor{Start: true, HasPictureID: true, LongPictureID: true}
	payload := append(d.MarshalTo(nil), frame...)
	a := NewAssembler(0)
	h := rtp.Header{Version: 2, PayloadType: 96, Marker: true, SSRC: 1}
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		h.SequenceNumber++
		h.Timestamp += 3000
		if f, key, err := a.Push(&h, payload); err != nil || !key || len(f) != len(frame) {
			b.Fatalf("push: %v %v %d", err, key, len(f))
		}
	}
}

func BenchmarkAssembleIVF(b *testing.B) {
	frames := readIVF(b)
	pkts := packetize(frames, modes[1])
	a := NewAssembler(0)
	var off uint16
	b.ReportAllocs()
	for b.Loop() {
		off += uint16(len(pkts))
		for _, p := range pkts {
			h := p.h
			h.SequenceNumber += off
			h.Timestamp += uint32(off) * 100000
			_, _, _ = a.Push(&h, p.payload)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pkts)), "ns/packet")
}

// TestPaddingOnlyPackets inserts payload-less packets (all padding, removed
// by rtp.Payload) between frames, as a sender probing bandwidth without RTX
// does on the media SSRC. They take sequence numbers but are not loss: every
// frame must still come out and no keyframe be asked for.
func TestPaddingOnlyPackets(t *testing.T) {
	frames := readIVF(t)
	pkts := packetize(frames, modes[1])
	var out []packet
	seq := pkts[0].h.SequenceNumber
	for i, p := range pkts {
		p.h.SequenceNumber = seq
		seq++
		out = append(out, p)
		if p.h.Marker && i%3 == 0 {
			for range 3 {
				pad := packet{h: p.h, frame: p.frame}
				pad.h.Marker = false
				pad.h.Padding = true
				pad.h.SequenceNumber = seq
				seq++
				out = append(out, pad)
			}
		}
	}
	a := NewAssembler(0)
	got := run(t, a, out)
	expectFrames(t, got, frames, span(0, len(frames)))
	if st := a.Stats(); st.Dropped != 0 || st.Malformed != 0 || a.NeedKeyframe() {
		t.Fatalf("stats %+v need %v", st, a.NeedKeyframe())
	}
}

// TestReleaseSharesBuffer: two streams assembled in turn, each handing its
// buffer back after every frame, come out intact; a Release in the middle
// of a frame keeps it; and the shared buffers cost no allocation once
// warm.
func TestReleaseSharesBuffer(t *testing.T) {
	frames := readIVF(t)
	pkts := packetize(frames, modes[1])
	var fp FramePool
	a, b := NewPooledAssembler(0, &fp), NewPooledAssembler(0, &fp)
	push := func(x *Assembler, p packet, off uint16) ([]byte, bool) {
		h := p.h
		h.SequenceNumber += off
		h.Timestamp += uint32(off) * 100000
		f, key, err := x.Push(&h, p.payload)
		if err != nil {
			t.Fatal(err)
		}
		return f, key
	}
	var off uint16
	stream := func() {
		got := map[*Assembler]int{}
		for _, p := range pkts {
			for _, x := range []*Assembler{a, b} {
				f, _ := push(x, p, off)
				x.Release() // mid-frame: ignored
				if f == nil {
					continue
				}
				if i := got[x]; !bytes.Equal(f, frames[i]) {
					t.Fatalf("frame %d differs", i)
				}
				got[x]++
			}
		}
		if got[a] != len(frames) || got[b] != len(frames) {
			t.Fatalf("%d and %d frames of %d", got[a], got[b], len(frames))
		}
		off += uint16(len(pkts))
	}
	stream()
	if a.fb != nil || b.fb != nil {
		t.Fatal("a buffer held between frames after Release")
	}
	if raceEnabled {
		return
	}
	if allocs := testing.AllocsPerRun(3, stream); allocs != 0 {
		t.Fatalf("%v allocs per run", allocs)
	}
}
