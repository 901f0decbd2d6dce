package h264

import (
	"testing"
)

const (
	baselineFile = "h264-cb-640x480.h264"
	highFile     = "h264-high-1280x720-4slices.h264"
)

func TestSampleFiles(t *testing.T) {
	for _, tc := range []struct {
		name           string
		aus, keys      int
		slicesPerFrame int
	}{
		{baselineFile, 90, 3, 1},
		{highFile, 90, 3, 4},
	} {
		aus := readAUs(t, tc.name)
		keys := 0
		for i, au := range aus {
			slices := 0
			for _, n := range au {
				if typ := NALType(n[0]); typ == NALSlice || typ == NALIDR {
					slices++
				}
			}
			if slices != tc.slicesPerFrame {
				t.Fatalf("%s: access unit %d has %d slices", tc.name, i, slices)
			}
			if isIDR(au) {
				keys++
				if i%30 != 0 {
					t.Fatalf("%s: IDR at %d", tc.name, i)
				}
			}
		}
		if len(aus) != tc.aus || keys != tc.keys {
			t.Fatalf("%s: %d access units, %d IDR", tc.name, len(aus), keys)
		}
	}
}

// The constrained baseline sample, packetized by pion: every access unit
// comes out as sent, SPS and PPS in the keyframes from the STAP-A.
func TestDepacketizeBaseline(t *testing.T) {
	aus := readAUs(t, baselineFile)
	pkts := packetize(aus, 1200)
	d := New(0)
	got := feed(t, d, pkts)
	if len(got) != len(aus) {
		t.Fatalf("%d frames, want %d; %+v", len(got), len(aus), d.Stats())
	}
	for i, f := range got {
		if !equalNALs(nalsOf(f.frame), withoutAUDFiller(aus[i])) {
			t.Fatalf("frame %d differs", i)
		}
		if f.key != (i%30 == 0) {
			t.Fatalf("frame %d key %v", i, f.key)
		}
		if f.key && NALType(f.frame[4]) != NALSPS {
			t.Fatalf("keyframe %d does not start with its SPS", i)
		}
	}
	if st := d.Stats(); st.Frames != 90 || st.Keyframes != 3 || st.Dropped != 0 || st.Malformed != 0 || d.NeedKeyframe() {
		t.Fatalf("stats %+v", st)
	}
}

// The high-profile sample with four slices per picture, its parameter sets
// only out of band (sprop-parameter-sets): each keyframe gets them put in
// front.
func TestDepacketizeHighSprop(t *testing.T) {
	aus := readAUs(t, highFile)
	stripped, sps, pps := withoutParamSets(aus)
	sets, err := ParseSprop(FormatSprop(sps, pps))
	if err != nil {
		t.Fatal(err)
	}
	pkts := packetize(stripped, 1200)
	d := New(0)
	got := feed(t, d, pkts)
	if len(got) != 0 {
		t.Fatal("a keyframe without parameter sets came out")
	}
	if st := d.Stats(); st.NoParams != 3 {
		t.Fatalf("stats %+v", st)
	}

	d = New(0)
	if err := d.SetParameterSets(sets); err != nil {
		t.Fatal(err)
	}
	got = feed(t, d, pkts)
	if len(got) != 90 {
		t.Fatalf("%d frames; %+v", len(got), d.Stats())
	}
	for i, f := range got {
		want := stripped[i]
		if f.key {
			want = append([][]byte{sps, pps}, want...)
		}
		if !equalNALs(nalsOf(f.frame), want) {
			t.Fatalf("frame %d differs", i)
		}
	}
}

// Packets swapped in pairs (the reorder buffer in front is meant to prevent
// it, but the depacketizer must cope): nothing wrong comes out, and once the
// order is right again the next keyframe brings the stream back.
func TestReordering(t *testing.T) {
	aus := readAUs(t, baselineFile)
	pkts := packetize(aus, 600)
	var mixed []pkt
	for _, p := range pkts {
		if p.au >= 10 && p.au < 20 && len(mixed) > 0 && mixed[len(mixed)-1].au >= 10 && len(mixed)%3 == 0 {
			mixed = append(mixed[:len(mixed)-1], p, mixed[len(mixed)-1])
			continue
		}
		mixed = append(mixed, p)
	}
	d := New(0)
	got := feed(t, d, mixed)
	for _, f := range got {
		i := int(f.ts / 3000)
		if !equalNALs(nalsOf(f.frame), withoutAUDFiller(aus[i])) {
			t.Fatalf("frame %d came out wrong", i)
		}
		if i >= 10 && i < 30 {
			t.Fatalf("frame %d after the disorder, before the next keyframe", i)
		}
	}
	if len(got) != 90-20 || d.NeedKeyframe() {
		t.Fatalf("%d frames; %+v", len(got), d.Stats())
	}
}

// Every packet of an access unit lost in turn: only that frame and those up
// to the next keyframe go, and no partial frame ever comes out.
func TestLossAnywhere(t *testing.T) {
	aus := readAUs(t, highFile)
	pkts := packetize(aus, 1200)
	for lost := range pkts {
		if pkts[lost].au > 35 {
			break
		}
		in := append(append([]pkt(nil), pkts[:lost]...), pkts[lost+1:]...)
		d := New(0)
		got := feed(t, d, in)
		la := pkts[lost].au
		// Losing the STAP-A with only the parameter sets of a keyframe costs
		// nothing: the ones kept from before are put in front.
		paramsOnly := pkts[lost].payload[0]&0x1f == TypeSTAPA && isIDR(aus[la]) && la > 0
		for _, f := range got {
			i := int(f.ts / 3000)
			if !equalNALs(nalsOf(f.frame), aus[i]) {
				t.Fatalf("lost %d: frame %d came out wrong", lost, i)
			}
			if i >= la && i < (la/30+1)*30 && !paramsOnly {
				t.Fatalf("lost packet %d of frame %d: frame %d came out", lost, la, i)
			}
		}
		want := 90 - ((la/30+1)*30 - la)
		if paramsOnly {
			want = 90
		}
		if len(got) != want {
			t.Fatalf("lost %d (frame %d): %d frames, want %d; %+v", lost, la, len(got), want, d.Stats())
		}
	}
}
