package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// appendHelloVerifyRequest appends a HelloVerifyRequest body (RFC 6347
// §4.2.1). Its server_version is DTLS 1.0 (0xfeff), as §4.2.1 recommends,
// since it comes before version negotiation.
func appendHelloVerifyRequest(dst, cookie []byte) []byte {
	w := wire.NewBuilder(dst)
	w.U16(versionDTLS10)
	w.U8(uint8(len(cookie)))
	w.Bytes(cookie)
	return w.B
}

// parseHelloVerifyRequest returns the cookie. Its server_version is not
// checked: it need not be the version that will be negotiated (RFC 6347
// §4.2.1).
func parseHelloVerifyRequest(b []byte) ([]byte, error) {
	r := wire.NewReader(b)
	r.U16()
	cookie := r.Vec8()
	if !r.OK() || !r.Empty() || len(cookie) == 0 {
		return nil, alertDecodeError
	}
	return cookie, nil
}
