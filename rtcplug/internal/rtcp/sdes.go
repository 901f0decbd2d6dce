package rtcp

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// SDES item types (RFC 3550 §6.5).
const (
	SDESEnd   uint8 = 0
	SDESCNAME uint8 = 1
	SDESName  uint8 = 2
	SDESEmail uint8 = 3
	SDESPhone uint8 = 4
	SDESLoc   uint8 = 5
	SDESTool  uint8 = 6
	SDESNote  uint8 = 7
	SDESPriv  uint8 = 8
)

// maxSDESText is the longest item text: the length octet (RFC 3550 §6.5).
const maxSDESText = 255

// SDESItem is one item of an SDES chunk. Text points into the packet.
type SDESItem struct {
	SSRC uint32 // the chunk's SSRC or CSRC
	Type uint8
	Text []byte
}

// walkSDES checks count chunks (RFC 3550 §6.5) and hands each item to fn
// when fn is not nil; fn returns false to stop early. Every chunk starts on
// a 32-bit boundary and its item list ends with at least one null octet,
// padded with nulls to the next boundary.
func walkSDES(body []byte, count int, fn func(SDESItem) bool) error {
	r := wire.NewReader(body)
	for range count {
		start := r.Len()
		ssrc := r.U32()
		for {
			t := r.U8()
			if !r.OK() {
				return ErrMalformed
			}
			if t == SDESEnd {
				break
			}
			text := r.Vec8()
			if !r.OK() {
				return ErrMalformed
			}
			if fn != nil && !fn(SDESItem{SSRC: ssrc, Type: t, Text: text}) {
				return nil
			}
		}
		// The terminating null is read; the rest up to the boundary must
		// be there (they should be nulls; their value is not checked).
		used := start - r.Len()
		r.Skip((4 - used%4) % 4)
		if !r.OK() {
			return ErrMalformed
		}
	}
	return nil
}

// SDESItems calls fn for every item of every chunk of an SDES packet, in
// order, until fn returns false. It allocates nothing.
func (p Packet) SDESItems(fn func(SDESItem) bool) error {
	if p.Type != TypeSDES {
		return ErrMalformed
	}
	return walkSDES(p.Body, int(p.Count), fn)
}

// CNAME returns the first CNAME item of an SDES packet and its chunk's SSRC.
func (p Packet) CNAME() (ssrc uint32, cname []byte, ok bool) {
	if p.Type != TypeSDES {
		return 0, nil, false
	}
	_ = walkSDES(p.Body, int(p.Count), func(it SDESItem) bool {
		if it.Type != SDESCNAME {
			return true
		}
		ssrc, cname, ok = it.SSRC, it.Text, true
		return false
	})
	return ssrc, cname, ok
}

// AppendSDESCNAME appends an SDES packet with one chunk carrying the CNAME
// of ssrc: the item RFC 3550 §6.1 requires in every compound packet. A CNAME
// longer than 255 bytes is cut to 255 (the item's length octet).
func AppendSDESCNAME(dst []byte, ssrc uint32, cname string) []byte {
	if len(cname) > maxSDESText {
		cname = cname[:maxSDESText]
	}
	w := wire.NewBuilder(dst)
	off := beginPacket(&w, 1, TypeSDES)
	w.U32(ssrc)
	w.U8(SDESCNAME)
	w.U8(uint8(len(cname)))
	w.B = append(w.B, cname...)
	// The item list ends with a null octet, then nulls to the boundary:
	// endPacket adds those, so append only the terminator.
	w.U8(SDESEnd)
	endPacket(&w, off)
	return w.B
}

// NumSources is the number of SSRCs a BYE packet names.
func (p Packet) NumSources() int {
	if p.Type != TypeBYE {
		return 0
	}
	return int(p.Count)
}

// ByeSSRC returns source i (0 <= i < NumSources) of a BYE packet.
func (p Packet) ByeSSRC(i int) (uint32, bool) {
	if i < 0 || i >= p.NumSources() {
		return 0, false
	}
	r := wire.NewReader(p.Body)
	r.Skip(4 * i)
	v := r.U32()
	return v, r.OK()
}

// ByeReason returns the optional reason for leaving of a BYE packet, nil if
// there is none.
func (p Packet) ByeReason() []byte {
	if p.Type != TypeBYE {
		return nil
	}
	reason, _ := byeReason(p.Body, int(p.Count))
	return reason
}

// byeReason checks a BYE body (RFC 3550 §6.6): count SSRCs, then optionally
// a length octet and that many octets of text.
func byeReason(body []byte, count int) ([]byte, bool) {
	r := wire.NewReader(body)
	r.Skip(4 * count)
	if !r.OK() {
		return nil, false
	}
	if r.Empty() {
		return nil, true
	}
	reason := r.Vec8()
	return reason, r.OK()
}

// AppendBYE appends a BYE packet for ssrc with an optional reason (cut to
// 255 bytes).
func AppendBYE(dst []byte, ssrc uint32, reason string) []byte {
	if len(reason) > maxSDESText {
		reason = reason[:maxSDESText]
	}
	w := wire.NewBuilder(dst)
	off := beginPacket(&w, 1, TypeBYE)
	w.U32(ssrc)
	if reason != "" {
		w.U8(uint8(len(reason)))
		w.B = append(w.B, reason...)
	}
	endPacket(&w, off)
	return w.B
}

// App is the content of an APP packet (RFC 3550 §6.7).
type App struct {
	Subtype uint8
	SSRC    uint32
	Name    [4]byte // four ASCII characters
	Data    []byte  // application-dependent data, points into the packet
}

// App returns the fields of an APP packet.
func (p Packet) App() (App, bool) {
	if p.Type != TypeAPP {
		return App{}, false
	}
	r := wire.NewReader(p.Body)
	a := App{Subtype: p.Count, SSRC: r.U32()}
	copy(a.Name[:], r.Bytes(4))
	a.Data = r.Rest()
	return a, r.OK()
}
