// Package demux sorts the datagrams of the one UDP port by their first byte
// (RFC 7983): STUN, DTLS, or SRTP/SRTCP. The read loop routes with it and the
// peer dispatches with it; it imports nothing.
package demux

// Kind is the RFC 7983 class of a datagram.
type Kind int

// Kinds.
const (
	KindUnknown Kind = iota
	KindSTUN
	KindDTLS
	KindRTP // RTP or RTCP; told apart by payload type (RFC 5761 §4)
)

func (k Kind) String() string {
	switch k {
	case KindSTUN:
		return "stun"
	case KindDTLS:
		return "dtls"
	case KindRTP:
		return "rtp"
	}
	return "unknown"
}

// Classify demultiplexes by the first byte (RFC 7983 §7): 0–3 STUN,
// 20–63 DTLS, 128–191 RTP/RTCP. ZRTP (16–19) and TURN channels (64–79) are
// not used here and fall into KindUnknown.
func Classify(b []byte) Kind {
	if len(b) == 0 {
		return KindUnknown
	}
	switch c := b[0]; {
	case c <= 3:
		return KindSTUN
	case c >= 20 && c <= 63:
		return KindDTLS
	case c >= 128 && c <= 191:
		return KindRTP
	}
	return KindUnknown
}
