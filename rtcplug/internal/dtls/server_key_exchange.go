package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// curveTypeNamed is ECCurveType named_curve (RFC 8422 §5.4).
const curveTypeNamed = 3

// appendECDHParams appends ServerECDHParams: curve_type, named group and our
// public point (RFC 8422 §5.4). It is also what the signature covers,
// after the two randoms.
func appendECDHParams(dst []byte, group uint16, public []byte) []byte {
	w := wire.NewBuilder(dst)
	w.U8(curveTypeNamed)
	w.U16(group)
	w.U8(uint8(len(public)))
	w.Bytes(public)
	return w.B
}

// appendServerKeyExchange appends a ServerKeyExchange body: the params then a
// digitally-signed struct with the TLS 1.2 signature algorithm (RFC 5246
// §7.4.3, RFC 8422 §5.4).
func appendServerKeyExchange(dst, params []byte, scheme uint16, sig []byte) []byte {
	w := wire.NewBuilder(dst)
	w.Bytes(params)
	w.U16(scheme)
	w.U16(uint16(len(sig)))
	w.Bytes(sig)
	return w.B
}

// serverKeyExchange is a parsed ServerKeyExchange: the ECDHE parameters and
// their signature (RFC 8422 §5.4). params is the signed part.
type serverKeyExchange struct {
	group     uint16
	public    []byte
	params    []byte
	scheme    uint16
	signature []byte
}

func parseServerKeyExchange(b []byte) (serverKeyExchange, error) {
	var m serverKeyExchange
	r := wire.NewReader(b)
	curveType := r.U8()
	m.group = r.U16()
	m.public = r.Vec8()
	if !r.OK() {
		return m, alertDecodeError
	}
	m.params = b[:len(b)-r.Len()]
	m.scheme = r.U16()
	m.signature = r.Vec16()
	if !r.OK() || !r.Empty() || len(m.public) == 0 || len(m.signature) == 0 {
		return m, alertDecodeError
	}
	if curveType != curveTypeNamed {
		return m, alertIllegalParameter
	}
	return m, nil
}
