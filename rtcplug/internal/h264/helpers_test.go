package h264

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/pion/rtp/codecs"
)

// pkt is one RTP packet for a test: header fields and payload.
type pkt struct {
	seq     uint16
	ts      uint32
	marker  bool
	payload []byte
	au      int // index of the access unit it belongs to
}

func (p pkt) header() rtp.Header {
	return rtp.Header{Version: 2, PayloadType: 102, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: 0x1234, Marker: p.marker}
}

type out struct {
	frame []byte
	key   bool
	ts    uint32
}

// feed pushes every packet and collects the frames.
func feed(t testing.TB, d *Depacketizer, pkts []pkt) []out {
	t.Helper()
	var res []out
	for _, p := range pkts {
		h := p.header()
		f, k, _ := d.Push(&h, p.payload)
		if f != nil {
			res = append(res, out{frame: bytes.Clone(f), key: k, ts: p.ts})
		}
	}
	return res
}

// readAUs reads an Annex B file of the test data and groups its NAL units
// into access units (H.264 §7.4.1.2.3: a parameter set, SEI or delimiter
// after a slice, or a slice with first_mb_in_slice 0, starts a new one).
func readAUs(t testing.TB, name string) [][][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var aus [][][]byte
	var cur [][]byte
	hasSlice := false
	SplitAnnexB(b, func(n []byte) bool {
		typ := NALType(n[0])
		first := (typ == NALSlice || typ == NALIDR) && len(n) > 1 && n[1]&0x80 != 0
		if hasSlice && (first || typ == NALSPS || typ == NALPPS || typ == NALSEI || typ == NALAUD) {
			aus = append(aus, cur)
			cur, hasSlice = nil, false
		}
		cur = append(cur, n)
		if typ == NALSlice || typ == NALIDR {
			hasSlice = true
		}
		return true
	})
	if len(cur) > 0 {
		aus = append(aus, cur)
	}
	return aus
}

func annexB(nals ...[]byte) []byte {
	var b []byte
	for _, n := range nals {
		b = append(b, 0, 0, 0, 1)
		b = append(b, n...)
	}
	return b
}

func isIDR(au [][]byte) bool {
	for _, n := range au {
		if NALType(n[0]) == NALIDR {
			return true
		}
	}
	return false
}

// packetize turns access units into RTP packets with pion's H.264
// payloader (an implementation we did not write): SPS and PPS go into a
// STAP-A, large NAL units into FU-A fragments; the marker is on the last
// packet of each access unit, 3000 ticks (30 fps) apart.
func packetize(aus [][][]byte, mtu uint16) []pkt {
	var p codecs.H264Payloader
	var pkts []pkt
	seq := uint16(65500) // wraps within the stream
	for i, au := range aus {
		payloads := p.Payload(mtu, annexB(au...))
		for j, pl := range payloads {
			pkts = append(pkts, pkt{seq: seq, ts: uint32(i) * 3000, marker: j == len(payloads)-1, payload: pl, au: i})
			seq++
		}
	}
	return pkts
}

// withoutParamSets drops SPS and PPS from every access unit (a sender that
// gives them only in sprop-parameter-sets).
func withoutParamSets(aus [][][]byte) (stripped [][][]byte, sps, pps []byte) {
	for _, au := range aus {
		var k [][]byte
		for _, n := range au {
			switch NALType(n[0]) {
			case NALSPS:
				sps = n
			case NALPPS:
				pps = n
			default:
				k = append(k, n)
			}
		}
		stripped = append(stripped, k)
	}
	return stripped, sps, pps
}

// withoutAUDFiller is what pion's payloader sends of an access unit.
func withoutAUDFiller(au [][]byte) [][]byte {
	var k [][]byte
	for _, n := range au {
		if t := NALType(n[0]); t != NALAUD && t != NALFiller {
			k = append(k, n)
		}
	}
	return k
}

func nalsOf(frame []byte) [][]byte {
	var out [][]byte
	SplitAnnexB(frame, func(n []byte) bool { out = append(out, n); return true })
	return out
}

func equalNALs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
