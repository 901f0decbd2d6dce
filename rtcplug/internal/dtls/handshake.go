package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// Handshake message types (RFC 5246 §7.4, RFC 6347 §4.3.2).
const (
	typeClientHello        uint8 = 1
	typeServerHello        uint8 = 2
	typeHelloVerifyRequest uint8 = 3
	typeCertificate        uint8 = 11
	typeServerKeyExchange  uint8 = 12
	typeCertificateRequest uint8 = 13
	typeServerHelloDone    uint8 = 14
	typeCertificateVerify  uint8 = 15
	typeClientKeyExchange  uint8 = 16
	typeFinished           uint8 = 20
)

const (
	// handshakeHeaderLen is msg_type(1) length(3) message_seq(2)
	// fragment_offset(3) fragment_length(3) (RFC 6347 §4.2.2).
	handshakeHeaderLen = 12
	// maxMessageLen bounds one handshake message we accept; a client
	// certificate chain is the largest thing a WebRTC peer sends.
	maxMessageLen = 16 << 10
	// maxClientHelloLen bounds the hello reassembled before the cookie is
	// checked: Chromium's hello with an X25519MLKEM768 share is ~1.4 KB.
	maxClientHelloLen = 4 << 10
)

// handshakeHeader is the DTLS handshake header of one fragment.
type handshakeHeader struct {
	typ      uint8
	length   uint32
	seq      uint16
	fragOff  uint32
	fragLen  uint32
	fragment []byte
}

// parseHandshake reads one handshake fragment from the front of b.
func parseHandshake(b []byte) (h handshakeHeader, rest []byte, ok bool) {
	r := wire.NewReader(b)
	h.typ = r.U8()
	h.length = r.U24()
	h.seq = r.U16()
	h.fragOff = r.U24()
	h.fragLen = r.U24()
	h.fragment = r.Bytes(int(h.fragLen))
	if !r.OK() || uint64(h.fragOff)+uint64(h.fragLen) > uint64(h.length) {
		return handshakeHeader{}, nil, false
	}
	return h, r.Rest(), true
}

// appendHandshakeHeader appends the header of a fragment.
func appendHandshakeHeader(dst []byte, typ uint8, length int, seq uint16, off, n int) []byte {
	w := wire.NewBuilder(dst)
	w.U8(typ)
	w.U24(uint32(length))
	w.U16(seq)
	w.U24(uint32(off))
	w.U24(uint32(n))
	return w.B
}

// appendTranscript appends a whole message the way the handshake hash sees
// it: the DTLS header as if the message were one fragment (RFC 6347
// §4.2.6).
func appendTranscript(dst []byte, typ uint8, seq uint16, body []byte) []byte {
	dst = appendHandshakeHeader(dst, typ, len(body), seq, 0, len(body))
	return append(dst, body...)
}
