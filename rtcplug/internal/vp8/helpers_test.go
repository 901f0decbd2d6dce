package vp8

import (
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"

	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
)

// readIVF returns the frames of the VP8 test stream.
func readIVF(tb testing.TB) [][]byte { return testivf.Must(tb, testivf.VP8) }

// packet is one RTP packet of the test stream.
type packet struct {
	h       rtp.Header
	payload []byte
	frame   int // index of the frame it carries part of
}

// mode selects the payload descriptor the test packetizer writes.
type mode struct {
	name string
	tmpl Descriptor // PictureID is filled per frame
	// partitions starts the second partition in a new packet with S=1,
	// PID=1, as a sender in partition mode does.
	partitions bool
}

var modes = []mode{
	{name: "plain"},
	{name: "pictureid15", tmpl: Descriptor{HasPictureID: true, LongPictureID: true}},
	{name: "pictureid7", tmpl: Descriptor{HasPictureID: true}},
	{name: "temporal", tmpl: Descriptor{HasPictureID: true, LongPictureID: true, HasTL0PICIDX: true,
		HasTID: true, LayerSync: true, HasKeyIdx: true, KeyIdx: 3}},
	{name: "partitions", tmpl: Descriptor{HasPictureID: true, LongPictureID: true}, partitions: true},
}

const (
	maxPayload = 1200 // RTP payload budget per packet, descriptor included
	firstSeq   = 65500
	testSSRC   = 0x1234abcd
)

// packetize splits frames into RTP packets as RFC 7741 §4.4 describes:
// the first packet of a frame has S=1 and PID=0, the last one the marker,
// all share the frame's timestamp (30 fps at 90 kHz). Sequence numbers
// start close to the wrap.
func packetize(frames [][]byte, m mode) []packet {
	var out []packet
	seq := uint16(firstSeq)
	for i, f := range frames {
		d := m.tmpl
		d.PictureID = uint16(i + 100)
		if !d.LongPictureID {
			d.PictureID &= 0x7f
		}
		d.TL0PICIDX = uint8(i)
		// Cut points: frame start, and in partition mode the start of
		// the DCT partitions after the first partition.
		cuts := []int{0}
		if m.partitions && len(f) >= frameTagLen {
			first := int(uint32(f[0])|uint32(f[1])<<8|uint32(f[2])<<16) >> firstPartShift
			off := frameTagLen + first
			if isKeyTag(f) {
				off = keyHeaderLen + first
			}
			if off < len(f) {
				cuts = append(cuts, off)
			}
		}
		cuts = append(cuts, len(f))
		for p := 0; p+1 < len(cuts); p++ {
			part := f[cuts[p]:cuts[p+1]]
			for off := 0; off < len(part); {
				d.Start = off == 0
				d.PartitionID = uint8(p)
				pl := d.MarshalTo(nil)
				n := min(maxPayload-len(pl), len(part)-off)
				pl = append(pl, part[off:off+n]...)
				off += n
				out = append(out, packet{
					h: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
						Timestamp: uint32(i) * 3000, SSRC: testSSRC,
						Marker: p+2 == len(cuts) && off == len(part)},
					payload: pl,
					frame:   i,
				})
				seq++
			}
		}
	}
	return out
}

// result is what the assembler returned for one frame.
type result struct {
	frame []byte
	key   bool
	index int // frame index of the packet that completed it
}

// run pushes pkts and collects the frames, copying each (the buffer is
// reused) and poisoning the returned buffer to catch retention.
func run(tb testing.TB, a *Assembler, pkts []packet) []result {
	tb.Helper()
	var out []result
	for _, p := range pkts {
		h := p.h
		f, key, err := a.Push(&h, p.payload)
		if err != nil {
			tb.Fatalf("push frame %d seq %d: %v", p.frame, p.h.SequenceNumber, err)
		}
		if f != nil {
			out = append(out, result{frame: append([]byte(nil), f...), key: key, index: p.frame})
			f[0] ^= 0xff
		}
	}
	return out
}
