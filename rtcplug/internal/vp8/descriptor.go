// Package vp8 turns RTP packets carrying VP8 (RFC 7741) back into frames and
// reads what a receiver needs from a frame header (RFC 6386 §9.1): whether it
// is a keyframe and its size. It never decodes pictures.
package vp8

import (
	"errors"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

// ErrShort is returned for a payload descriptor cut short.
var ErrShort = errors.New("vp8: payload descriptor truncated")

// Descriptor is the VP8 payload descriptor at the start of every RTP
// payload (RFC 7741 §4.2):
//
//	      0 1 2 3 4 5 6 7
//	     +-+-+-+-+-+-+-+-+
//	     |X|R|N|S|R| PID | (REQUIRED)
//	     +-+-+-+-+-+-+-+-+
//	X:   |I|L|T|K| RSV   | (OPTIONAL)
//	     +-+-+-+-+-+-+-+-+
//	I:   |M| PictureID   | (OPTIONAL)
//	     +-+-+-+-+-+-+-+-+
//	M:   | PictureID     | (when M = 1: 15-bit PictureID)
//	     +-+-+-+-+-+-+-+-+
//	L:   |   TL0PICIDX   | (OPTIONAL)
//	     +-+-+-+-+-+-+-+-+
//	T/K: |TID|Y| KEYIDX  | (OPTIONAL, when T or K)
//	     +-+-+-+-+-+-+-+-+
//
// Reserved bits are ignored on input and written as zero.
type Descriptor struct {
	Extended     bool  // X: the extension byte is present
	NonReference bool  // N: the frame can be discarded without affecting others
	Start        bool  // S: the packet starts a VP8 partition
	PartitionID  uint8 // PID: partition index, 0..7

	HasPictureID  bool   // I
	LongPictureID bool   // M: PictureID is 15 bits rather than 7
	PictureID     uint16 // 7 or 15 bits
	HasTL0PICIDX  bool   // L
	TL0PICIDX     uint8  // temporal level zero index
	HasTID        bool   // T
	TID           uint8  // temporal layer index, 2 bits
	LayerSync     bool   // Y: layer sync bit, read when T or K is set
	HasKeyIdx     bool   // K
	KeyIdx        uint8  // temporal key frame index, 5 bits
}

// Unmarshal parses the descriptor at the start of an RTP payload and returns
// its length: the VP8 data starts at b[n:].
func (d *Descriptor) Unmarshal(b []byte) (n int, err error) {
	*d = Descriptor{}
	r := wire.NewReader(b)
	b0 := r.U8()
	d.Extended = b0&0x80 != 0
	d.NonReference = b0&0x20 != 0
	d.Start = b0&0x10 != 0
	d.PartitionID = b0 & 0x07
	if d.Extended {
		x := r.U8()
		d.HasPictureID = x&0x80 != 0
		d.HasTL0PICIDX = x&0x40 != 0
		d.HasTID = x&0x20 != 0
		d.HasKeyIdx = x&0x10 != 0
		if d.HasPictureID {
			p := r.U8()
			d.PictureID = uint16(p & 0x7f)
			if p&0x80 != 0 {
				d.LongPictureID = true
				d.PictureID = d.PictureID<<8 | uint16(r.U8())
			}
		}
		if d.HasTL0PICIDX {
			d.TL0PICIDX = r.U8()
		}
		if d.HasTID || d.HasKeyIdx {
			t := r.U8()
			if d.HasTID {
				d.TID = t >> 6
				d.LayerSync = t&0x20 != 0
			}
			if d.HasKeyIdx {
				d.KeyIdx = t & 0x1f
			}
		}
	}
	if !r.OK() {
		*d = Descriptor{}
		return 0, ErrShort
	}
	return len(b) - r.Len(), nil
}

// MarshalTo appends the descriptor to dst. The extension byte is written when
// Extended or any of its fields is set; values are cut to their field widths.
func (d *Descriptor) MarshalTo(dst []byte) []byte {
	w := wire.NewBuilder(dst)
	ext := d.Extended || d.HasPictureID || d.HasTL0PICIDX || d.HasTID || d.HasKeyIdx
	var b0 uint8
	if ext {
		b0 |= 0x80
	}
	if d.NonReference {
		b0 |= 0x20
	}
	if d.Start {
		b0 |= 0x10
	}
	w.U8(b0 | d.PartitionID&0x07)
	if !ext {
		return w.B
	}
	var x uint8
	for i, on := range [...]bool{d.HasPictureID, d.HasTL0PICIDX, d.HasTID, d.HasKeyIdx} {
		if on {
			x |= 0x80 >> i
		}
	}
	w.U8(x)
	if d.HasPictureID {
		if d.LongPictureID {
			w.U16(0x8000 | d.PictureID&0x7fff)
		} else {
			w.U8(uint8(d.PictureID) & 0x7f)
		}
	}
	if d.HasTL0PICIDX {
		w.U8(d.TL0PICIDX)
	}
	if d.HasTID || d.HasKeyIdx {
		var t uint8
		if d.HasTID {
			t |= d.TID << 6
			if d.LayerSync {
				t |= 0x20
			}
		}
		if d.HasKeyIdx {
			t |= d.KeyIdx & 0x1f
		}
		w.U8(t)
	}
	return w.B
}
