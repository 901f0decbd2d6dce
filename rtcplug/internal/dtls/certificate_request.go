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
