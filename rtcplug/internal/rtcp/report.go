package rtcp

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// SenderInfo is the sender information section of an SR (RFC 3550 §6.4.1).
type SenderInfo struct {
	NTPTime     uint64 // 64-bit NTP timestamp of the report
	RTPTime     uint32 // the same instant in RTP timestamp units
	PacketCount uint32 // packets sent since the start
	OctetCount  uint32 // payload octets sent since the start
}

// MiddleNTP is the middle 32 bits of the NTP timestamp: the value a receiver
// echoes as LastSR in its reception reports (RFC 3550 §6.4.1).
func (s SenderInfo) MiddleNTP() uint32 { return uint32(s.NTPTime >> 16) }

// ReceptionReport is one report block of an SR or RR (RFC 3550 §6.4.1).
type ReceptionReport struct {
	SSRC         uint32 // source this block reports on
	FractionLost uint8  // fixed point, lost/expected * 256 since the last report
	// TotalLost is the 24-bit cumulative number of packets lost as on the
	// wire. The field is signed (duplicates can make it negative); Lost
	// sign-extends it. Builders keep the low 24 bits.
	TotalLost        uint32
	HighestSeq       uint32 // extended highest sequence number received
	Jitter           uint32 // interarrival jitter, RTP timestamp units
	LastSR           uint32 // middle 32 bits of the last SR's NTP timestamp, 0 if none
	DelaySinceLastSR uint32 // units of 1/65536 s, 0 if no SR yet
}

// Lost is TotalLost as the signed 24-bit number RFC 3550 §6.4.1 defines.
func (r ReceptionReport) Lost() int32 { return int32(r.TotalLost<<8) >> 8 }

// SenderInfo returns the sender information of an SR.
func (p Packet) SenderInfo() (SenderInfo, bool) {
	if p.Type != TypeSR {
		return SenderInfo{}, false
	}
	r := wire.NewReader(p.Body)
	r.Skip(4)
	s := SenderInfo{NTPTime: r.U64(), RTPTime: r.U32(), PacketCount: r.U32(), OctetCount: r.U32()}
	return s, r.OK()
}

// NumReports is the number of reception report blocks of an SR or RR, 0 for
// other packet types.
func (p Packet) NumReports() int {
	if p.Type != TypeSR && p.Type != TypeRR {
		return 0
	}
	return int(p.Count)
}

// Report returns report block i (0 <= i < NumReports) of an SR or RR.
func (p Packet) Report(i int) (ReceptionReport, bool) {
	if i < 0 || i >= p.NumReports() {
		return ReceptionReport{}, false
	}
	off := 4
	if p.Type == TypeSR {
		off += senderInfo
	}
	r := wire.NewReader(p.Body)
	r.Skip(off + i*reportLen)
	rr := ReceptionReport{SSRC: r.U32()}
	lost := r.U32()
	rr.FractionLost = uint8(lost >> 24)
	rr.TotalLost = lost & 0xffffff
	rr.HighestSeq = r.U32()
	rr.Jitter = r.U32()
	rr.LastSR = r.U32()
	rr.DelaySinceLastSR = r.U32()
	if !r.OK() {
		return ReceptionReport{}, false
	}
	return rr, true
}

// ReportExtension is what follows the report blocks of an SR or RR: the
// profile-specific extension of RFC 3550 §6.4.1, usually empty.
func (p Packet) ReportExtension() []byte {
	if p.Type != TypeSR && p.Type != TypeRR {
		return nil
	}
	off := 4 + int(p.Count)*reportLen
	if p.Type == TypeSR {
		off += senderInfo
	}
	if off > len(p.Body) {
		return nil
	}
	return p.Body[off:]
}

func appendReport(w *wire.Builder, r *ReceptionReport) {
	w.U32(r.SSRC)
	w.U8(r.FractionLost)
	w.U24(r.TotalLost)
	w.U32(r.HighestSeq)
	w.U32(r.Jitter)
	w.U32(r.LastSR)
	w.U32(r.DelaySinceLastSR)
}

// AppendRR appends a receiver report from senderSSRC to dst. With no reports
// it is the empty RR that RFC 3550 §6.1 requires at the head of a compound
// packet when there is nothing to report. More than 31 reports continue in
// further RR packets (RFC 3550 §6.4.2).
func AppendRR(dst []byte, senderSSRC uint32, reports []ReceptionReport) []byte {
	w := wire.NewBuilder(dst)
	for first := true; first || len(reports) > 0; first = false {
		n := min(len(reports), maxCount)
		off := beginPacket(&w, uint8(n), TypeRR)
		w.U32(senderSSRC)
		for i := range n {
			appendReport(&w, &reports[i])
		}
		endPacket(&w, off)
		reports = reports[n:]
	}
	return w.B
}

// AppendSR appends a sender report to dst; reports beyond 31 continue in RR
// packets (RFC 3550 §6.4.2).
func AppendSR(dst []byte, ssrc uint32, info SenderInfo, reports []ReceptionReport) []byte {
	w := wire.NewBuilder(dst)
	n := min(len(reports), maxCount)
	off := beginPacket(&w, uint8(n), TypeSR)
	w.U32(ssrc)
	w.U64(info.NTPTime)
	w.U32(info.RTPTime)
	w.U32(info.PacketCount)
	w.U32(info.OctetCount)
	for i := range n {
		appendReport(&w, &reports[i])
	}
	endPacket(&w, off)
	if len(reports) > n {
		return AppendRR(w.B, ssrc, reports[n:])
	}
	return w.B
}
