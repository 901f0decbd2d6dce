package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// maxCertificates bounds the chain we accept from a client; WebRTC peers
// send one self-signed certificate.
const maxCertificates = 8

// appendCertificate appends a Certificate body with one certificate (RFC
// 5246 §7.4.2).
func appendCertificate(dst, der []byte) []byte {
	w := wire.NewBuilder(dst)
	w.U24(uint32(len(der) + 3))
	w.U24(uint32(len(der)))
	w.Bytes(der)
	return w.B
}

// parseCertificate returns the DER certificates of a Certificate body. An
// empty list is valid (a client without a certificate, RFC 5246 §7.4.6).
func parseCertificate(b []byte) ([][]byte, error) {
	r := wire.NewReader(b)
	list := r.Sub(int(r.U24()))
	if !r.OK() || !r.Empty() {
		return nil, alertDecodeError
	}
	var certs [][]byte
	for !list.Empty() {
		c := list.Vec24()
		if !list.OK() || len(c) == 0 {
			return nil, alertDecodeError
		}
		if len(certs) == maxCertificates {
			return nil, alertBadCertificate
		}
		certs = append(certs, c)
	}
	return certs, nil
}
