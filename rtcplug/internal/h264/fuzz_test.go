package h264

import (
	"bytes"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

// encodePkts writes packets in FuzzPush's input format: per packet a flags
// byte (bit 0 marker, bit 1 next timestamp, bit 2 skip a sequence number),
// a 16-bit length and the payload.
func encodePkts(pkts []pkt) []byte {
	var b []byte
	for i, p := range pkts {
		var f byte
		if p.marker {
			f |= 1
		}
		if i > 0 && p.ts != pkts[i-1].ts {
			f |= 2
		}
		if i > 0 && p.seq != pkts[i-1].seq+1 {
			f |= 4
		}
		b = append(b, f, byte(len(p.payload)>>8), byte(len(p.payload)))
		b = append(b, p.payload...)
	}
	return b
}

func FuzzPush(f *testing.F) {
	// Seeds from the real streams (pion-packetized, small MTU so keyframes
	// span several FU-A) and the RFC 6184 shapes.
	for _, name := range []string{baselineFile, highFile} {
		aus := readAUs(f, name)
		f.Add(encodePkts(packetize(aus[:3], 300)), []byte(nil))
		stripped, sps, pps := withoutParamSets(aus[:2])
		f.Add(encodePkts(packetize(stripped, 500)), []byte(FormatSprop(sps, pps)))
	}
	f.Add(encodePkts(seqOf([][]byte{stapA(spsA, ppsA), idr}, [][]byte{inter})), []byte(nil))
	f.Add(encodePkts(seqOf(append([][]byte{spsA, ppsA}, fuA(idr, 2)...))), []byte(nil))
	f.Add(encodePkts(seqOf([][]byte{{0x79, 0, 1, 2}, {0x7d, 0x85, 1}})), []byte("Z0LAH9oCgPY,aM48gA=="))

	f.Fuzz(func(t *testing.T, in, sprop []byte) {
		d := New(1 << 16)
		if sets, err := ParseSprop(string(sprop)); err == nil {
			if err := d.SetParameterSets(sets); err != nil {
				t.Fatal(err)
			}
		}
		h := rtp.Header{Version: 2, SSRC: 1}
		for len(in) >= 3 {
			fl, n := in[0], int(in[1])<<8|int(in[2])
			in = in[3:]
			if n > len(in) {
				n = len(in)
			}
			payload := in[:n]
			in = in[n:]
			h.SequenceNumber++
			if fl&4 != 0 {
				h.SequenceNumber++
			}
			if fl&2 != 0 {
				h.Timestamp += 3000
			}
			h.Marker = fl&1 != 0
			frame, key, _ := d.Push(&h, payload)
			if frame == nil {
				continue
			}
			if len(frame) > 1<<16+8+2*MaxParamSet || !bytes.HasPrefix(frame, []byte{0, 0, 0, 1}) {
				t.Fatalf("bad frame %x", frame)
			}
			var types [32]bool
			SplitAnnexB(frame, func(n []byte) bool { types[NALType(n[0])] = true; return true })
			if key != types[NALIDR] || key && !(types[NALSPS] && types[NALPPS]) {
				t.Fatalf("key %v with NAL types %v", key, types)
			}
		}
	})
}

func FuzzParseSprop(f *testing.F) {
	f.Add("Z0LAH9oCgPY,aM48gA==")
	f.Add("Z2QAH6y0AoAt2AiAAAADAIAAAB5HjBlQ,aO88sA==")
	f.Add(",,")
	f.Fuzz(func(t *testing.T, s string) {
		sets, err := ParseSprop(s)
		if err != nil {
			return
		}
		for _, n := range sets {
			if len(n) > MaxParamSet || (NALType(n[0]) != NALSPS && NALType(n[0]) != NALPPS) {
				t.Fatalf("%x", n)
			}
		}
		if err := New(0).SetParameterSets(sets); err != nil {
			t.Fatal(err)
		}
	})
}
