package peer

// startsH264AccessUnit reports whether an H.264 RTP payload (RFC 6184)
// begins an access unit: its first NAL unit (a single NAL unit, the first
// unit of a STAP-A, or the start of an FU-A) is an access unit delimiter,
// SEI, SPS or PPS, or a slice with first_mb_in_slice 0 (ITU-T H.264
// §7.4.1.2.3: these come first in an access unit). Without it the first
// packets of an H.264 stream would wait ReorderWait, and the first frame
// would be timed that much late: a step back at the first sender report.
func startsH264AccessUnit(payload []byte) bool {
	if len(payload) < 2 {
		return false
	}
	var typ, next byte
	switch t := payload[0] & 0x1f; {
	case t >= 1 && t <= 23: // single NAL unit (§5.6)
		typ, next = t, payload[1]
	case t == 24: // STAP-A: 2-byte size, then the first unit (§5.7.1)
		if len(payload) < 5 {
			return false
		}
		typ, next = payload[3]&0x1f, payload[4]
	case t == 28: // FU-A: the FU header carries S and the type (§5.8)
		if len(payload) < 3 || payload[1]&0x80 == 0 {
			return false
		}
		typ, next = payload[1]&0x1f, payload[2]
	default:
		return false
	}
	switch typ {
	case 6, 7, 8, 9:
		return true
	case 1, 5:
		// first_mb_in_slice is ue(v): 0 codes as the single bit 1.
		return next&0x80 != 0
	}
	return false
}
