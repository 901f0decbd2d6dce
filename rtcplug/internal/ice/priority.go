package ice

import (
	"hash/crc32"
	"net/netip"
	"strconv"
)

// Type preferences recommended by RFC 8445 §5.1.2.2.
const (
	TypePrefHost            uint8 = 126
	TypePrefPeerReflexive   uint8 = 110
	TypePrefServerReflexive uint8 = 100
	TypePrefRelayed         uint8 = 0
)

// LocalPrefSingle is the local preference for an agent with a single IP
// address (RFC 8445 §5.1.2.1: "SHOULD be set to the maximum of 65535").
const LocalPrefSingle uint16 = 65535

// CandidatePriority computes a candidate's priority (RFC 8445 §5.1.2.1):
//
//	priority = 2^24 * type preference + 2^8 * local preference + (256 - component ID)
//
// component is 1 for RTP (the only component with rtcp-mux); 0 is taken as 1.
func CandidatePriority(typePref uint8, localPref uint16, component uint8) uint32 {
	if component == 0 {
		component = 1
	}
	return uint32(typePref)<<24 | uint32(localPref)<<8 | uint32(256-int(component))
}

// Foundation returns a foundation for a candidate (RFC 8445 §5.1.1.3): equal
// for candidates of the same type, base address, STUN or TURN server and
// transport, different otherwise (up to CRC-32 collisions, which only make
// two candidates' checks share a frozen state). typ is "host", "srflx",
// "prflx" or "relay"; server is the zero Addr for host candidates.
func Foundation(typ string, base, server netip.Addr, transport string) string {
	var buf [96]byte
	b := append(buf[:0], typ...)
	b = append(b, 0)
	b = base.AppendTo(b)
	b = append(b, 0)
	b = server.AppendTo(b)
	b = append(b, 0)
	b = append(b, transport...)
	return strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10)
}
