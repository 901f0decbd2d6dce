package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// parseClientKeyExchange returns the client's ephemeral ECDH public point
// (ClientECDiffieHellmanPublic, RFC 8422 §5.7).
func parseClientKeyExchange(b []byte) ([]byte, error) {
	r := wire.NewReader(b)
	pub := r.Vec8()
	if !r.OK() || !r.Empty() || len(pub) == 0 {
		return nil, alertDecodeError
	}
	return pub, nil
}

// appendClientKeyExchange appends ClientECDiffieHellmanPublic.
func appendClientKeyExchange(dst, public []byte) []byte {
	w := wire.NewBuilder(dst)
	w.U8(uint8(len(public)))
	w.Bytes(public)
	return w.B
}
