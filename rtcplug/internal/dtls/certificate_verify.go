package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// certificateVerify is a TLS 1.2 digitally-signed struct (RFC 5246 §4.7,
// §7.4.8).
type certificateVerify struct {
	scheme    uint16
	signature []byte
}

func parseCertificateVerify(b []byte) (certificateVerify, error) {
	r := wire.NewReader(b)
	var m certificateVerify
	m.scheme = r.U16()
	m.signature = r.Vec16()
	if !r.OK() || !r.Empty() || len(m.signature) == 0 {
		return certificateVerify{}, alertDecodeError
	}
	return m, nil
}

// appendCertificateVerify appends a digitally-signed struct.
func appendCertificateVerify(dst []byte, scheme uint16, sig []byte) []byte {
	w := wire.NewBuilder(dst)
	w.U16(scheme)
	w.U16(uint16(len(sig)))
	w.Bytes(sig)
	return w.B
}
