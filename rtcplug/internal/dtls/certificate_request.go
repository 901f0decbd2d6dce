package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// ClientCertificateType values (RFC 5246 §7.4.4, RFC 8422 §5.5).
const (
	certTypeRSASign   = 1
	certTypeECDSASign = 64
)

// appendCertificateRequest appends a CertificateRequest body (RFC 5246
// §7.4.4): ecdsa_sign and rsa_sign (Chromium refuses a request that lacks
// ecdsa_sign), the schemes we verify, and no certificate authorities, as
// WebRTC certificates are self-signed and checked by fingerprint.
func appendCertificateRequest(dst []byte, schemes []uint16) []byte {
	w := wire.NewBuilder(dst)
	w.U8(2)
	w.U8(certTypeECDSASign)
	w.U8(certTypeRSASign)
	w.U16(uint16(2 * len(schemes)))
	for _, s := range schemes {
		w.U16(s)
	}
	w.U16(0)
	return w.B
}

// certificateRequest is what a client uses from a CertificateRequest.
type certificateRequest struct {
	types   []byte
	schemes []uint16
}

// parseCertificateRequest parses a CertificateRequest body; the
// certificate_authorities are checked for framing and ignored.
func parseCertificateRequest(b []byte) (certificateRequest, error) {
	var m certificateRequest
	r := wire.NewReader(b)
	m.types = r.Vec8()
	m.schemes = parseU16List(&r, int(r.U16()))
	cas := r.Sub(int(r.U16()))
	for cas.OK() && !cas.Empty() {
		cas.Vec16()
	}
	if !r.OK() || !r.Empty() || !cas.OK() || len(m.types) == 0 {
		return m, alertDecodeError
	}
	return m, nil
}
