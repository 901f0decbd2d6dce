package peer

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"

	"github.com/nutsbolts/webrtc/rtcplug/internal/h264"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtcp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

const h264PT = 102

// h264AUs reads an Annex B sample of the test data as access units (a
// parameter set or SEI after a slice, or a slice with first_mb_in_slice 0,
// begins the next one).
func h264AUs(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][]byte
	var cur []byte
	slice := false
	h264.SplitAnnexB(b, func(n []byte) bool {
		typ := h264.NALType(n[0])
		first := (typ == h264.NALSlice || typ == h264.NALIDR) && len(n) > 1 && n[1]&0x80 != 0
		if slice && (first || typ == h264.NALSPS || typ == h264.NALPPS || typ == h264.NALSEI) {
			aus, cur, slice = append(aus, cur), nil, false
		}
		cur = append(append(cur, 0, 0, 0, 1), n...)
		slice = slice || typ == h264.NALSlice || typ == h264.NALIDR
		return true
	})
	return append(aus, cur)
}

// packetizeH264 sends one access unit as pion's payloader cuts it.
func (s *sender) packetizeH264(pay *codecs.H264Payloader, au []byte) [][]byte {
	payloads := pay.Payload(1200, au)
	var pkts [][]byte
	for i, pl := range payloads {
		h := rtp.Header{Version: 2, PayloadType: h264PT, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc, Marker: i == len(payloads)-1}
		s.seq++
		enc, err := s.out.EncryptRTP(nil, append(h.MarshalTo(nil), pl...), nil)
		if err != nil {
			s.t.Fatal(err)
		}
		pkts = append(pkts, enc)
	}
	s.ts += 3000
	return pkts
}

// connectedH264 is connected with an answer that chose H.264; edit, when
// set, changes the answer further.
func connectedH264(t testing.TB, edit func(r *sdp.Remote)) (*Peer, *sender) {
	l, s := connectedLink(t, linkOpts{profile: srtp.AEADAES128GCM, media: RemoteMedia{NACK: true}, answer: func(r *sdp.Remote) {
		r.VideoPT, r.VideoCodec = h264PT, sdp.CodecH264
		if edit != nil {
			edit(r)
		}
	}})
	return l.p, s
}

// keyframeRequests decrypts our RTCP and counts PLIs and FIRs (RFC 5104
// §4.3.1: the target in the FCI, a growing command sequence number).
func keyframeRequests(t *testing.T, s *sender, evs []Event, firSeqs *[]uint8) (plis, firs int) {
	for _, e := range evs {
		if e.Kind != Transmit || len(e.Data) < 2 || e.Data[1] < 192 || e.Data[1] > 223 {
			continue
		}
		plain, err := s.in.DecryptRTCP(nil, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		for it := rtcp.NewIterator(plain); it.Next(); {
			pk := it.Packet()
			switch {
			case pk.IsPLI():
				plis++
			case pk.IsFIR():
				if fe, ok := pk.FIREntry(0); !ok || fe.SSRC != s.ssrc || pk.MediaSSRC() != 0 {
					t.Fatalf("FIR %+v", fe)
				}
				fe, _ := pk.FIREntry(0)
				*firSeqs = append(*firSeqs, fe.Seq)
				firs++
			}
		}
	}
	return plis, firs
}

func TestH264ThroughPeer(t *testing.T) {
	p, s := connectedH264(t, nil)
	if p.codecName() != CodecH264 {
		t.Fatal(p.codecName())
	}
	var pay codecs.H264Payloader
	aus := h264AUs(t, "h264-cb-640x480.h264")
	now := t0
	var keys []Event
	for _, au := range aus {
		for _, pk := range s.packetizeH264(&pay, au) {
			p.Handle(now, client, pk)
			for _, e := range drain(p) {
				if e.Kind == Keyframe {
					keys = append(keys, e)
				}
			}
		}
		now = now.Add(33 * time.Millisecond)
	}
	if len(keys) != 3 {
		t.Fatalf("%d keyframes; %+v", len(keys), p.Stats())
	}
	for i, k := range keys {
		if k.Codec != CodecH264 || !bytes.Equal(k.Data, aus[30*i]) {
			t.Fatalf("keyframe %d: codec %q, %d bytes", i, k.Codec, len(k.Data))
		}
	}
	if st := p.Stats(); st.Frames != 90 || st.Keyframes != 3 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A sender whose parameter sets are only in sprop-parameter-sets and that
// takes FIR but not PLI: keyframes come out with SPS and PPS in front, and
// loss is answered with FIRs, each with a new sequence number.
func TestH264SpropAndFIR(t *testing.T) {
	aus := h264AUs(t, "h264-high-1280x720-4slices.h264")
	var sps, pps []byte
	for i, au := range aus {
		var kept []byte
		h264.SplitAnnexB(au, func(n []byte) bool {
			switch h264.NALType(n[0]) {
			case h264.NALSPS:
				sps = n
			case h264.NALPPS:
				pps = n
			default:
				kept = append(append(kept, 0, 0, 0, 1), n...)
			}
			return true
		})
		aus[i] = kept
	}
	p, s := connectedH264(t, func(r *sdp.Remote) {
		r.VideoFmtp = "packetization-mode=1;profile-level-id=64001f;sprop-parameter-sets=" + h264.FormatSprop(sps, pps)
		r.VideoFIROnly = true
	})

	var pay codecs.H264Payloader
	var seqs []uint8
	var keys []Event
	plis, firs := 0, 0
	step := func(now time.Time, pkts [][]byte) {
		for _, pk := range pkts {
			p.Handle(now, client, pk)
			evs := drain(p)
			pl, fi := keyframeRequests(t, s, evs, &seqs)
			plis, firs = plis+pl, firs+fi
			for _, e := range evs {
				if e.Kind == Keyframe {
					keys = append(keys, e)
				}
			}
		}
		for d := p.Deadline(); !d.IsZero() && !d.After(now); d = p.Deadline() {
			p.HandleTimeout(now)
			pl, fi := keyframeRequests(t, s, drain(p), &seqs)
			plis, firs = plis+pl, firs+fi
		}
	}
	now := t0
	for i, au := range aus[:45] {
		pkts := s.packetizeH264(&pay, au)
		if i == 35 && len(pkts) > 2 {
			pkts = append(pkts[:1], pkts[2:]...) // lose a packet inside the picture
		}
		step(now, pkts)
		now = now.Add(33 * time.Millisecond)
	}
	step(now.Add(time.Second), nil)
	if plis != 0 || firs < 2 || seqs[0] != 1 || seqs[1] != 2 {
		t.Fatalf("%d PLIs, %d FIRs %v", plis, firs, seqs)
	}
	if len(keys) != 2 {
		t.Fatalf("%d keyframes; %+v", len(keys), p.Stats())
	}
	want := append(append(append(append([]byte{0, 0, 0, 1}, sps...), 0, 0, 0, 1), pps...), aus[30]...)
	if !bytes.Equal(keys[1].Data, want) {
		t.Fatal("keyframe without the parameter sets in front")
	}
	if st := p.Stats(); st.FIRs != uint64(firs) || st.PLIs != uint64(firs) || st.Frames != 45-(45-35) {
		t.Fatalf("stats %+v", st)
	}
}

// SetRemote takes the codec from the answer.
func TestSetRemoteH264(t *testing.T) {
	p := newTestPeer(t)
	r := remote()
	r.VideoCodec, r.VideoPT, r.VideoFmtp = sdp.CodecH264, h264PT, "sprop-parameter-sets=!!"
	if err := p.SetRemote(t0, r, RemoteMedia{}); err != nil {
		t.Fatal(err)
	}
	if !p.asm.useH264 || p.asm.h264 == nil || p.codecName() != CodecH264 {
		t.Fatalf("assembler %+v", p.asm)
	}
	logged := false
	for _, e := range drain(p) {
		logged = logged || e.Kind == Log && bytes.Contains([]byte(e.Msg), []byte("sprop-parameter-sets ignored"))
	}
	if !logged {
		t.Fatal("a bad sprop-parameter-sets is not narrated")
	}
}

// An answer that allows VP8 and H.264: the sender may use either (RFC 3264
// §5.1), and the peer follows the payload type that arrives.
func TestVideoFollowsPayloadType(t *testing.T) {
	l, s := connectedLink(t, linkOpts{profile: srtp.AEADAES128GCM, media: RemoteMedia{NACK: true}, answer: func(r *sdp.Remote) {
		r.VideoCodec = sdp.CodecVP8
		r.VideoFormats = []sdp.VideoFormat{{PT: 96, Codec: sdp.CodecVP8}, {PT: h264PT, Codec: sdp.CodecH264}}
	}})
	p := l.p
	var pay codecs.H264Payloader
	var keys []Event
	now := t0
	send := func(pkts [][]byte) {
		for _, pk := range pkts {
			p.Handle(now, client, pk)
			for _, e := range drain(p) {
				if e.Kind == Keyframe {
					keys = append(keys, e)
				}
			}
		}
		now = now.Add(ReorderWait) // past the start-up wait of the reorder buffer
	}
	for _, au := range h264AUs(t, "h264-cb-640x480.h264")[:2] {
		send(s.packetizeH264(&pay, au))
	}
	send(s.packetize(ivfFrames(t)[0]))
	send(s.packetize(ivfFrames(t)[1]))
	if len(keys) != 2 || keys[0].Codec != CodecH264 || keys[1].Codec != CodecVP8 || keys[1].Width != 640 {
		t.Fatalf("keyframes %+v", keys)
	}
	if st := p.Stats(); st.Frames != 4 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// BenchmarkHandleRTPH264 is BenchmarkHandleRTP for H.264: SRTP, reordering
// and the depacketizer, inter frames of the high-profile sample.
func BenchmarkHandleRTPH264(b *testing.B) {
	aus := h264AUs(b, "h264-high-1280x720-4slices.h264")
	setup := func() (*Peer, [][]byte) {
		p, s := connectedH264(b, nil)
		var pay codecs.H264Payloader
		var pkts [][]byte
		for i := 1; len(pkts) < 4096; i++ {
			if i%30 == 0 {
				continue
			}
			pkts = append(pkts, s.packetizeH264(&pay, aus[i%len(aus)])...)
		}
		return p, pkts
	}
	p, pkts := setup()
	buf := make([]byte, 1500)
	now := t0
	b.ReportAllocs()
	settle()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(pkts) == 0 && i > 0 {
			b.StopTimer()
			p, pkts = setup()
			settle()
			b.StartTimer()
		}
		n := copy(buf, pkts[i%len(pkts)])
		now = now.Add(time.Millisecond)
		p.Handle(now, client, buf[:n])
		for _, ok := p.Poll(); ok; _, ok = p.Poll() {
		}
	}
}
