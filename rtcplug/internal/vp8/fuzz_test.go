package vp8

import (
	"encoding/binary"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

func FuzzDescriptor(f *testing.F) {
	for _, tt := range descriptorTests {
		f.Add(unhex(f, tt.in))
	}
	for _, p := range packetize(readIVF(f)[:2], modes[3]) {
		f.Add(p.payload[:min(len(p.payload), 16)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = KeyframeSize(b)
		var d Descriptor
		n, err := d.Unmarshal(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("n = %d on error", n)
			}
			return
		}
		if n < 1 || n > 6 || n > len(b) {
			t.Fatalf("descriptor length %d of %d", n, len(b))
		}
		out := d.MarshalTo(nil)
		if len(out) != n {
			t.Fatalf("re-encoded to %d bytes, parsed %d", len(out), n)
		}
		var d2 Descriptor
		if n2, err := d2.Unmarshal(out); err != nil || n2 != n || d2 != d {
			t.Fatalf("round trip: %+v -> %x -> %+v", d, out, d2)
		}
	})
}

// The assembler fuzz input is a list of packets, each
//
//	ctl(1) length(2, big-endian) payload
//
// where ctl drives the RTP header: bit 0 marker, bit 1 a sequence gap of
// 1+(ctl>>5), bit 2 a repeated sequence number, bit 3 a new timestamp,
// bit 4 a new SSRC.
const (
	ctlMarker = 1 << iota
	ctlGap
	ctlRepeat
	ctlNewTS
	ctlNewSSRC
)

func encodeFuzzPackets(pkts []packet) []byte {
	var b []byte
	prev := -1
	for _, p := range pkts {
		var ctl byte
		if p.h.Marker {
			ctl |= ctlMarker
		}
		if p.frame != prev {
			ctl |= ctlNewTS
			prev = p.frame
		}
		b = append(b, ctl)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.payload)))
		b = append(b, p.payload...)
	}
	return b
}

const fuzzMaxFrame = 8 << 10

func FuzzAssembler(f *testing.F) {
	frames := readIVF(f)
	f.Add(encodeFuzzPackets(packetize(frames[:3], modes[0])))
	f.Add(encodeFuzzPackets(packetize(frames[29:32], modes[3])))
	f.Add(encodeFuzzPackets(packetize(frames[:2], modes[4])))
	lossy := packetize(frames[:3], modes[1])
	f.Add(encodeFuzzPackets(append(lossy[:2:2], lossy[3:]...)))
	// Small inputs mutate faster: a keyframe header cut into three packets,
	// then an inter frame, with a gap and a repeat.
	key := frames[0][:40]
	small := []packet{
		{h: rtp.Header{}, payload: append([]byte{0x10}, key[:15]...), frame: 0},
		{h: rtp.Header{}, payload: append([]byte{0x00}, key[15:30]...), frame: 0},
		{h: rtp.Header{Marker: true}, payload: append([]byte{0x00}, key[30:]...), frame: 0},
		{h: rtp.Header{Marker: true}, payload: append([]byte{0x10}, frames[1][:20]...), frame: 1},
	}
	f.Add(encodeFuzzPackets(small))
	f.Add([]byte{ctlNewTS, 0, 2, 0x10, 0x00, ctlGap | ctlMarker, 0, 1, 0x00, ctlRepeat, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		a := NewAssembler(fuzzMaxFrame)
		h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
		for len(in) >= 3 {
			ctl := in[0]
			n := min(int(binary.BigEndian.Uint16(in[1:])), len(in)-3)
			payload := in[3 : 3+n]
			in = in[3+n:]
			h.Marker = ctl&ctlMarker != 0
			switch {
			case ctl&ctlRepeat != 0:
			case ctl&ctlGap != 0:
				h.SequenceNumber += 2 + uint16(ctl>>5)
			default:
				h.SequenceNumber++
			}
			if ctl&ctlNewTS != 0 {
				h.Timestamp += 3000
			}
			if ctl&ctlNewSSRC != 0 {
				h.SSRC++
			}
			before := a.Stats()
			frame, key, err := a.Push(&h, payload)
			after := a.Stats()
			if frame != nil {
				if err != nil || len(frame) > fuzzMaxFrame || len(frame) == 0 {
					t.Fatalf("frame %d bytes, err %v", len(frame), err)
				}
				if key != IsKeyframe(frame) {
					t.Fatal("key flag disagrees with the frame header")
				}
				if a.NeedKeyframe() {
					t.Fatal("a frame was returned while waiting for a keyframe")
				}
				if after.Frames != before.Frames+1 {
					t.Fatal("frame not counted")
				}
			} else if key {
				t.Fatal("key without a frame")
			}
			if after.Keyframes > after.Frames || after.TooLarge > after.Dropped {
				t.Fatalf("stats %+v", after)
			}
		}
	})
}
