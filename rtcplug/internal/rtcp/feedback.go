package rtcp

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

const (
	nackLen = 4 // PID + BLP, RFC 4585 §6.2.1
	firLen  = 8 // SSRC + seq nr + reserved, RFC 5104 §4.3.1.1

	// MaxNACKPairs bounds the FCI entries AppendNACK writes into one packet
	// (12 + 4*128 = 524 bytes, well inside one datagram with SRTCP
	// overhead). Losses past that many pairs are left for a later NACK.
	MaxNACKPairs = 128
)

// Feedback is the common part of an RTPFB or PSFB packet (RFC 4585 §6.1).
// Messages without a typed accessor (REMB, transport-cc, SLI, ...) are used
// through FCI.
type Feedback struct {
	FMT        uint8
	SenderSSRC uint32 // SSRC of packet sender
	MediaSSRC  uint32 // SSRC of media source (0 for FIR, RFC 5104 §4.3.1.2)
	FCI        []byte // feedback control information, points into the packet
}

// Feedback returns the common fields of an RTPFB or PSFB packet.
func (p Packet) Feedback() (Feedback, bool) {
	if p.Type != TypeRTPFB && p.Type != TypePSFB {
		return Feedback{}, false
	}
	r := wire.NewReader(p.Body)
	f := Feedback{FMT: p.Count, SenderSSRC: r.U32(), MediaSSRC: r.U32()}
	f.FCI = r.Rest()
	return f, r.OK()
}

// MediaSSRC is the media source of an RTPFB or PSFB packet, 0 otherwise.
func (p Packet) MediaSSRC() uint32 {
	f, _ := p.Feedback()
	return f.MediaSSRC
}

// fci is the FCI of a feedback packet of type pt and format fmt, or nil.
func (p Packet) fci(pt, fmt uint8) []byte {
	if p.Type != pt || p.Count != fmt || len(p.Body) < fbHeader {
		return nil
	}
	return p.Body[fbHeader:]
}

// IsPLI reports whether p is a Picture Loss Indication (RFC 4585 §6.3.1).
func (p Packet) IsPLI() bool { return p.Type == TypePSFB && p.Count == FMTPLI }

// IsFIR reports whether p is a Full Intra Request (RFC 5104 §4.3.1).
func (p Packet) IsFIR() bool { return p.Type == TypePSFB && p.Count == FMTFIR }

// IsNACK reports whether p is a Generic NACK (RFC 4585 §6.2.1).
func (p Packet) IsNACK() bool { return p.Type == TypeRTPFB && p.Count == FMTGenericNACK }

// NACKPair is one Generic NACK FCI entry: PID is lost, and bit i of BLP
// (least significant first) marks PID+i+1 lost as well (RFC 4585 §6.2.1).
type NACKPair struct {
	PID uint16
	BLP uint16
}

// AppendLost appends the sequence numbers the pair reports lost, in order.
func (n NACKPair) AppendLost(dst []uint16) []uint16 {
	dst = append(dst, n.PID)
	for i := range 16 {
		if n.BLP&(1<<i) != 0 {
			dst = append(dst, n.PID+uint16(i)+1)
		}
	}
	return dst
}

// NumNACKPairs is the number of FCI entries of a Generic NACK.
func (p Packet) NumNACKPairs() int {
	return len(p.fci(TypeRTPFB, FMTGenericNACK)) / nackLen
}

// NACKPair returns FCI entry i (0 <= i < NumNACKPairs) of a Generic NACK.
func (p Packet) NACKPair(i int) (NACKPair, bool) {
	if i < 0 || i >= p.NumNACKPairs() {
		return NACKPair{}, false
	}
	r := wire.NewReader(p.fci(TypeRTPFB, FMTGenericNACK))
	r.Skip(i * nackLen)
	n := NACKPair{PID: r.U16(), BLP: r.U16()}
	return n, r.OK()
}

// AppendNACKLost appends every sequence number a Generic NACK reports lost,
// pair by pair, to dst. It allocates only if dst must grow.
func (p Packet) AppendNACKLost(dst []uint16) []uint16 {
	for i := range p.NumNACKPairs() {
		n, _ := p.NACKPair(i)
		dst = n.AppendLost(dst)
	}
	return dst
}

// FIREntry is one FCI entry of a Full Intra Request (RFC 5104 §4.3.1.1).
type FIREntry struct {
	SSRC uint32 // the media sender asked for a decoder refresh point
	Seq  uint8  // command sequence number
}

// NumFIREntries is the number of FCI entries of a FIR.
func (p Packet) NumFIREntries() int {
	return len(p.fci(TypePSFB, FMTFIR)) / firLen
}

// FIREntry returns FCI entry i (0 <= i < NumFIREntries) of a FIR.
func (p Packet) FIREntry(i int) (FIREntry, bool) {
	if i < 0 || i >= p.NumFIREntries() {
		return FIREntry{}, false
	}
	r := wire.NewReader(p.fci(TypePSFB, FMTFIR))
	r.Skip(i * firLen)
	e := FIREntry{SSRC: r.U32(), Seq: r.U8()}
	r.Skip(3) // reserved
	return e, r.OK()
}

func beginFeedback(w *wire.Builder, fmt, pt uint8, sender, media uint32) int {
	off := beginPacket(w, fmt, pt)
	w.U32(sender)
	w.U32(media)
	return off
}

// AppendPLI appends a Picture Loss Indication asking mediaSSRC for a
// keyframe (RFC 4585 §6.3.1; it has no FCI).
func AppendPLI(dst []byte, senderSSRC, mediaSSRC uint32) []byte {
	w := wire.NewBuilder(dst)
	off := beginFeedback(&w, FMTPLI, TypePSFB, senderSSRC, mediaSSRC)
	endPacket(&w, off)
	return w.B
}

// AppendFIR appends a Full Intra Request to mediaSSRC with command sequence
// number seq, which the caller increments for each new request and repeats
// for a retransmitted one (RFC 5104 §4.3.1.2). The media source field of the
// common header is 0; the target goes in the FCI.
func AppendFIR(dst []byte, senderSSRC, mediaSSRC uint32, seq uint8) []byte {
	w := wire.NewBuilder(dst)
	off := beginFeedback(&w, FMTFIR, TypePSFB, senderSSRC, 0)
	w.U32(mediaSSRC)
	w.U8(seq)
	w.U24(0)
	endPacket(&w, off)
	return w.B
}

// AppendNACK appends a Generic NACK (RFC 4585 §6.2.1) reporting the
// sequence numbers in lost to mediaSSRC. lost is read only; it may be in any
// order and hold duplicates. Numbers are ordered relative to lost[0] across
// the 16-bit wrap (each is taken as the nearest one to lost[0]), then packed
// into PID/BLP pairs in ascending order. At most MaxNACKPairs pairs are
// written, the oldest first. Nothing is appended when lost is empty: a NACK
// without FCI is not valid.
func AppendNACK(dst []byte, senderSSRC, mediaSSRC uint32, lost []uint16) []byte {
	if len(lost) == 0 {
		return dst
	}
	w := wire.NewBuilder(dst)
	off := beginFeedback(&w, FMTGenericNACK, TypeRTPFB, senderSSRC, mediaSSRC)
	ref := lost[0]
	// Distances from ref lie in [-32768, 32767]; cursor walks up through
	// them. Each pair costs two passes over lost, which stays cheap for the
	// bounded number of pairs and avoids sorting (or copying) the input.
	cursor := -1 << 15
	for range MaxNACKPairs {
		pid, found := 1<<16, false
		for _, s := range lost {
			if d := int(int16(s - ref)); d >= cursor && d < pid {
				pid, found = d, true
			}
		}
		if !found {
			break
		}
		var blp uint16
		for _, s := range lost {
			if d := int(int16(s-ref)) - pid; d >= 1 && d <= 16 {
				blp |= 1 << (d - 1)
			}
		}
		w.U16(ref + uint16(pid))
		w.U16(blp)
		cursor = pid + 17
	}
	endPacket(&w, off)
	return w.B
}
