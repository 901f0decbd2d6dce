package h264

import (
	"bytes"
	"errors"
	"testing"
)

// Small NAL units in the shapes of H.264: an SPS (profile 66, level 31), a
// PPS, slices whose first byte after the header starts first_mb_in_slice.
var (
	spsA  = []byte{0x67, 0x42, 0xc0, 0x1f, 0xda, 0x02, 0x80, 0xf6}
	spsB  = []byte{0x67, 0x64, 0x00, 0x28, 0xac, 0xb4, 0x03, 0xc0}
	ppsA  = []byte{0x68, 0xce, 0x3c, 0x80}
	ppsB  = []byte{0x68, 0xef, 0x3c, 0xb0}
	idr   = []byte{0x65, 0x88, 0x84, 0x00, 0x33, 0xff, 0x12, 0x34}
	idr2  = []byte{0x65, 0x00, 0x11, 0x22, 0x33} // second slice: first_mb_in_slice > 0
	inter = []byte{0x41, 0x9a, 0x02, 0x04, 0x55}
)

func stapA(nals ...[]byte) []byte {
	b := []byte{0x78} // F=0, NRI=3, type 24
	for _, n := range nals {
		b = append(b, byte(len(n)>>8), byte(len(n)))
		b = append(b, n...)
	}
	return b
}

// fuA cuts nal into FU-A payloads of at most size bytes of NAL data each.
func fuA(nal []byte, size int) [][]byte {
	var out [][]byte
	data := nal[1:]
	for first := true; first || len(data) > 0; first = false {
		n := min(size, len(data))
		hdr := nal[0] & 0x1f
		if first {
			hdr |= 0x80
		}
		if n == len(data) {
			hdr |= 0x40
		}
		out = append(out, append([]byte{nal[0]&0xe0 | TypeFUA, hdr}, data[:n]...))
		data = data[n:]
	}
	return out
}

// seqOf numbers payloads as one access unit per inner slice.
func seqOf(aus ...[][]byte) []pkt {
	var pkts []pkt
	seq := uint16(100)
	for i, au := range aus {
		for j, p := range au {
			pkts = append(pkts, pkt{seq: seq, ts: uint32(1000 + 3000*i), marker: j == len(au)-1, payload: p, au: i})
			seq++
		}
	}
	return pkts
}

func one(t *testing.T, got []out, want []byte, key bool) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("%d frames, want 1", len(got))
	}
	if !bytes.Equal(got[0].frame, want) || got[0].key != key {
		t.Fatalf("frame %x key %v, want %x key %v", got[0].frame, got[0].key, want, key)
	}
}

// RFC 6184 §5.6: single NAL unit packets, the mode 0 packetization.
func TestSingleNALUnits(t *testing.T) {
	d := New(0)
	got := feed(t, d, seqOf([][]byte{spsA, ppsA, idr}, [][]byte{inter}))
	if len(got) != 2 {
		t.Fatalf("%d frames", len(got))
	}
	if !bytes.Equal(got[0].frame, annexB(spsA, ppsA, idr)) || !got[0].key {
		t.Fatalf("keyframe %x", got[0].frame)
	}
	if !bytes.Equal(got[1].frame, annexB(inter)) || got[1].key {
		t.Fatalf("frame %x", got[1].frame)
	}
}

// RFC 6184 §5.7.1, Figure 7: a STAP-A with two NAL units, each behind its
// 16-bit size; here the SPS and PPS of a keyframe, as browsers send them.
func TestSTAPA(t *testing.T) {
	p := stapA(spsA, ppsA)
	// The RFC's layout, byte by byte.
	want := append(append(append([]byte{0x78, 0x00, byte(len(spsA))}, spsA...), 0x00, byte(len(ppsA))), ppsA...)
	if !bytes.Equal(p, want) {
		t.Fatalf("test STAP-A %x", p)
	}
	d := New(0)
	one(t, feed(t, d, seqOf([][]byte{p, idr})), annexB(spsA, ppsA, idr), true)

	// Everything in one aggregate: the access unit in one packet.
	d = New(0)
	one(t, feed(t, d, seqOf([][]byte{stapA(spsA, ppsA, idr, idr2)})), annexB(spsA, ppsA, idr, idr2), true)

	for _, bad := range [][]byte{
		{0x78},                                // no NAL unit
		{0x78, 0x00},                          // half a size
		{0x78, 0x00, 0x00},                    // a zero size
		{0x78, 0x00, 0x05, 0x67},              // longer than the packet
		append(stapA(spsA), 0x00, 0x09, 0x68), // second one cut short
	} {
		d = New(0)
		feed(t, d, seqOf([][]byte{idr2})) // a stream already running (no parameter sets yet)
		h := pkt{seq: 101, ts: 1, marker: true}.header()
		if _, _, err := d.Push(&h, bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%x: err %v", bad, err)
		}
		if d.Stats().Malformed != 1 || d.HasParameterSets() {
			t.Errorf("%x: %+v", bad, d.Stats())
		}
	}
}

// RFC 6184 §5.8: FU-A start and end bits; the NAL header is rebuilt from
// the indicator's F and NRI and the FU header's type.
func TestFUA(t *testing.T) {
	frags := fuA(idr, 3)
	if len(frags) != 3 || frags[0][1] != 0x85 || frags[1][1] != 0x05 || frags[2][1] != 0x45 || frags[0][0] != 0x7c {
		t.Fatalf("fragments %x", frags)
	}
	d := New(0)
	one(t, feed(t, d, seqOf(append([][]byte{stapA(spsA, ppsA)}, frags...))), annexB(spsA, ppsA, idr), true)

	// An empty FU payload is allowed (§5.8: "MAY be empty").
	d = New(0)
	empty := []byte{0x7c, 0x05}
	au := [][]byte{stapA(spsA, ppsA), frags[0], empty, frags[1], frags[2]}
	one(t, feed(t, d, seqOf(au)), annexB(spsA, ppsA, idr), true)

	for name, au := range map[string][][]byte{
		"start and end in one":      {stapA(spsA, ppsA), {0x7c, 0xc5, 0x88}},
		"end without start":         {stapA(spsA, ppsA), frags[2]},
		"start twice":               {stapA(spsA, ppsA), frags[0], frags[0], frags[2]},
		"other packet inside":       {stapA(spsA, ppsA), frags[0], idr2, frags[2]},
		"marker before the end bit": {stapA(spsA, ppsA), frags[0], frags[1]},
		"too short":                 {stapA(spsA, ppsA), {0x7c}},
	} {
		d := New(0)
		if got := feed(t, d, seqOf(au)); len(got) != 0 || d.Stats().Malformed == 0 || !d.NeedKeyframe() {
			t.Errorf("%s: %d frames, %+v", name, len(got), d.Stats())
		}
	}
}

// A lost middle fragment drops the frame, and the inter frames after it,
// until the next keyframe; a PLI is the caller's to send (NeedKeyframe).
func TestLossInFUA(t *testing.T) {
	frags := fuA(idr, 2)
	key := append([][]byte{stapA(spsA, ppsA)}, frags...)
	pkts := seqOf(key, [][]byte{inter}, key, [][]byte{inter}, [][]byte{inter})
	lost := append(append([]pkt(nil), pkts[:2]...), pkts[3:]...) // second fragment of the first keyframe
	d := New(0)
	var got []out
	for i, p := range lost {
		got = append(got, feed(t, d, []pkt{p})...)
		if i == 2 && !d.NeedKeyframe() {
			t.Fatal("no keyframe asked for after the loss")
		}
	}
	if len(got) != 3 || !got[0].key || got[0].ts != 1000+3000*2 {
		t.Fatalf("%d frames, first %+v", len(got), got)
	}
	if st := d.Stats(); st.Dropped != 2 || d.NeedKeyframe() {
		t.Fatalf("stats %+v", st)
	}
}

// A sender that changes its SPS and PPS mid-stream (a new resolution): the
// new ones are used from then on, also in keyframes that do not carry them.
func TestSPSChange(t *testing.T) {
	d := New(0)
	got := feed(t, d, seqOf(
		[][]byte{stapA(spsA, ppsA), idr},
		[][]byte{inter},
		[][]byte{stapA(spsB, ppsB), idr},
		[][]byte{idr}, // a keyframe without parameter sets: the new ones go in front
	))
	if len(got) != 4 {
		t.Fatalf("%d frames", len(got))
	}
	if !bytes.Equal(got[2].frame, annexB(spsB, ppsB, idr)) {
		t.Fatalf("frame 2 %x", got[2].frame)
	}
	if !bytes.Equal(got[3].frame, annexB(spsB, ppsB, idr)) || !got[3].key {
		t.Fatalf("frame 3 %x", got[3].frame)
	}

	// Only a new SPS in-band: the PPS kept from before joins it.
	d = New(0)
	got = feed(t, d, seqOf([][]byte{stapA(spsA, ppsA), idr}, [][]byte{spsB, idr}))
	if len(got) != 2 || !bytes.Equal(got[1].frame, annexB(spsB, ppsA, spsB, idr)) {
		t.Fatalf("%d frames, last %x", len(got), got[len(got)-1].frame)
	}
}

// Parameter sets from sprop-parameter-sets (RFC 6184 §8.1) only.
func TestSprop(t *testing.T) {
	v := FormatSprop(spsA, ppsA)
	sets, err := ParseSprop(v)
	if err != nil || len(sets) != 2 {
		t.Fatal(sets, err)
	}
	// Senders differ in padding; both forms decode.
	if s2, err := ParseSprop("Z0LAH9oCgPY,aM48gA=="); err != nil || !bytes.Equal(s2[0], spsA) || !bytes.Equal(s2[1], ppsA) {
		t.Fatal(s2, err)
	}
	d := New(0)
	if err := d.SetParameterSets(sets); err != nil {
		t.Fatal(err)
	}
	one(t, feed(t, d, seqOf([][]byte{idr})), annexB(spsA, ppsA, idr), true)

	for _, bad := range []string{"!!!", "aM48gA==,", "QUFB", "gA==", string(bytes.Repeat([]byte("Z0LA"), 200))} {
		if _, err := ParseSprop(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Without any SPS/PPS an IDR picture cannot be decoded: dropped, counted.
func TestNoParameterSets(t *testing.T) {
	d := New(0)
	if got := feed(t, d, seqOf([][]byte{idr}, [][]byte{inter})); len(got) != 0 {
		t.Fatalf("%d frames", len(got))
	}
	if st := d.Stats(); st.NoParams != 1 || st.Dropped != 2 || !d.NeedKeyframe() {
		t.Fatalf("stats %+v", st)
	}
}

// STAP-B, MTAP16, MTAP24 and FU-B belong to the interleaved mode, which is
// never negotiated: refused and counted; the access unit is lost.
func TestInterleavedRefused(t *testing.T) {
	for _, typ := range []byte{TypeSTAPB, TypeMTAP16, TypeMTAP24, TypeFUB} {
		d := New(0)
		pkts := seqOf([][]byte{stapA(spsA, ppsA), {0x60 | typ, 0, 1, 2, 3}, idr})
		var errs int
		for _, p := range pkts {
			h := p.header()
			if f, _, err := d.Push(&h, p.payload); errors.Is(err, ErrUnsupported) {
				errs++
			} else if f != nil {
				t.Fatal("frame out")
			}
		}
		if st := d.Stats(); errs != 1 || st.Unsupported != 1 || st.Dropped != 1 {
			t.Fatalf("type %d: %+v", typ, st)
		}
	}
}

// A sender that leaves the marker off: the next timestamp ends the access
// unit (nothing was lost).
func TestMissingMarker(t *testing.T) {
	pkts := seqOf([][]byte{stapA(spsA, ppsA), idr}, [][]byte{inter}, [][]byte{inter})
	for i := range pkts {
		pkts[i].marker = false
	}
	d := New(0)
	got := feed(t, d, pkts)
	if len(got) != 2 || !got[0].key || got[1].key {
		t.Fatalf("%d frames: %+v", len(got), d.Stats())
	}
	// The frame returned when the next one begins is whole, not overwritten
	// by the packet that began the next one.
	for i, want := range [][][]byte{{spsA, ppsA, idr}, {inter}} {
		if nals := nalsOf(got[i].frame); len(nals) != len(want) || !bytes.Equal(nals[0], want[0]) {
			t.Fatalf("frame %d: %d NAL units, first %x", i, len(nals), nals[0][:min(len(nals[0]), 8)])
		}
	}
}

// After a gap, a packet that does not open an access unit (here the second
// slice of a picture) cannot begin one: the lost packets held its start.
func TestGapBeforeMiddleOfPicture(t *testing.T) {
	pkts := seqOf([][]byte{stapA(spsA, ppsA), idr}, [][]byte{stapA(spsA, ppsA), idr, idr2}, [][]byte{inter})
	// Lose the first two packets of the second picture.
	in := append(append([]pkt(nil), pkts[:2]...), pkts[4:]...)
	d := New(0)
	got := feed(t, d, in)
	if len(got) != 1 || got[0].ts != 1000 {
		t.Fatalf("%d frames", len(got))
	}
	if !d.NeedKeyframe() {
		t.Fatal("should wait for a keyframe")
	}
	// The very first packet of a stream is treated the same way.
	d = New(0)
	if got := feed(t, d, seqOf([][]byte{idr2}, [][]byte{stapA(spsA, ppsA), idr})); len(got) != 1 || got[0].ts != 4000 {
		t.Fatalf("%d frames", len(got))
	}
}

// Duplicates are ignored; padding-only packets take a sequence number.
func TestDuplicatesAndPadding(t *testing.T) {
	pkts := seqOf([][]byte{stapA(spsA, ppsA), idr}, [][]byte{inter})
	in := []pkt{pkts[0], pkts[0], {seq: pkts[0].seq + 1, ts: pkts[0].ts}, pkts[1], pkts[1], pkts[2]}
	in[3].seq, in[4].seq, in[5].seq = in[3].seq+1, in[4].seq+1, in[5].seq+1
	d := New(0)
	got := feed(t, d, in)
	if len(got) != 2 || d.Stats().Ignored != 2 {
		t.Fatalf("%d frames; %+v", len(got), d.Stats())
	}
}

func TestLimits(t *testing.T) {
	// Frame size.
	d := New(64)
	big := append([]byte{0x65, 0x88}, make([]byte, 100)...)
	if got := feed(t, d, seqOf([][]byte{stapA(spsA, ppsA), big})); len(got) != 0 || d.Stats().TooLarge != 1 {
		t.Fatalf("%+v", d.Stats())
	}
	// NAL count.
	d = New(0)
	au := [][]byte{stapA(spsA, ppsA), idr}
	for range MaxNALs {
		au = append(au, []byte{0x06, 0x05, 0x01, 0x80})
	}
	if got := feed(t, d, seqOf(au)); len(got) != 0 || d.Stats().TooLarge != 1 {
		t.Fatalf("%+v", d.Stats())
	}
	// Parameter set size.
	d = New(0)
	huge := append([]byte{0x67}, make([]byte, MaxParamSet)...)
	if got := feed(t, d, seqOf([][]byte{huge, ppsA, idr})); len(got) != 0 || d.HasParameterSets() {
		t.Fatalf("%+v", d.Stats())
	}
	if err := d.SetParameterSets([][]byte{huge}); err == nil {
		t.Fatal("oversized SPS taken")
	}
	// forbidden_zero_bit.
	d = New(0)
	if got := feed(t, d, seqOf([][]byte{stapA(spsA, ppsA), {0xe5, 0x88}})); len(got) != 0 || d.Stats().Malformed != 1 {
		t.Fatalf("%+v", d.Stats())
	}
	if _, _, err := d.Push(nil, idr); err != ErrNoHeader {
		t.Fatal(err)
	}
}

// A new SSRC starts over and needs its own keyframe.
func TestNewSSRC(t *testing.T) {
	d := New(0)
	pkts := seqOf([][]byte{stapA(spsA, ppsA), idr}, [][]byte{inter})
	feed(t, d, pkts[:2])
	h := pkts[2].header()
	h.SSRC++
	if f, _, _ := d.Push(&h, pkts[2].payload); f != nil || !d.NeedKeyframe() {
		t.Fatal("inter frame of a new source came out")
	}
}

func TestSplitAnnexB(t *testing.T) {
	b := []byte{0, 0, 1, 0x67, 1, 0, 0, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 3, 4}
	var got [][]byte
	SplitAnnexB(b, func(n []byte) bool { got = append(got, n); return true })
	if len(got) != 3 || !bytes.Equal(got[0], []byte{0x67, 1}) || !bytes.Equal(got[2], []byte{0x65, 3, 4}) {
		t.Fatalf("%x", got)
	}
}
