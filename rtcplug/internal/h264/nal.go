// Package h264 rebuilds H.264 access units from RTP (RFC 6184): single NAL
// unit packets, STAP-A aggregates and FU-A fragments, in packetization modes
// 0 and 1. It tracks the sequence and picture parameter sets a stream
// carries in-band or announces out of band (sprop-parameter-sets), and hands
// out each access unit in Annex B byte-stream form (ITU-T H.264 Annex B), a
// keyframe with the parameter sets a decoder needs in front of it.
//
// It is sans-IO: RTP headers and payloads in, frames out, in buffers it
// reuses.
package h264

// NAL unit types (ITU-T H.264 Table 7-1) and the RTP payload structures of
// RFC 6184 §5.2, Table 1 / Table 3, which share the 5-bit type field.
const (
	NALSlice  = 1 // coded slice of a non-IDR picture
	NALIDR    = 5 // coded slice of an IDR picture
	NALSEI    = 6 // supplemental enhancement information
	NALSPS    = 7 // sequence parameter set
	NALPPS    = 8 // picture parameter set
	NALAUD    = 9 // access unit delimiter
	NALFiller = 12

	TypeSTAPA  = 24 // single-time aggregation packet, mode 1 (RFC 6184 §5.7.1)
	TypeSTAPB  = 25 // single-time aggregation packet with DON, interleaved mode only
	TypeMTAP16 = 26 // multi-time aggregation packets, interleaved mode only (§5.7.2)
	TypeMTAP24 = 27
	TypeFUA    = 28 // fragmentation unit, mode 1 (§5.8)
	TypeFUB    = 29 // fragmentation unit with DON, interleaved mode only
)

// NALType is the nal_unit_type of a NAL unit header byte (H.264 §7.3.1).
func NALType(header byte) uint8 { return header & 0x1f }
