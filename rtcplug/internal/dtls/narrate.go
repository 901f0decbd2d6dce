package dtls

// Narration of the handshake for debug logs: what a datagram that went by
// was, named from its first record (RFC 6347 §4.1) and handshake header
// (§4.2.2) without touching any state.

import (
	"fmt"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

// firstHandshake returns the content type of the first record in b and, for
// an epoch-0 handshake record, its handshake type.
func firstHandshake(b []byte) (ct uint8, hs int) {
	if len(b) < recordHeaderLen {
		return 0, -1
	}
	r := wire.NewReader(b)
	ct = r.U8()
	r.Skip(2) // version
	epoch := r.U16()
	if ct != contentHandshake || epoch != 0 || len(b) < recordHeaderLen+handshakeHeaderLen {
		return ct, -1
	}
	return ct, int(b[recordHeaderLen])
}

// describeIncoming names a client datagram of the handshake, "" for others.
func describeIncoming(b []byte) string {
	ct, hs := firstHandshake(b)
	if ct != contentHandshake || hs != int(typeClientHello) {
		return ""
	}
	h := wire.NewReader(b[recordHeaderLen:])
	h.Skip(1) // msg_type
	total := h.U24()
	h.Skip(2) // message_seq
	off := h.U24()
	n := h.U24()
	return fmt.Sprintf("ClientHello fragment received: bytes %d-%d of %d", off, off+n, total)
}

// describeFlight names the flight whose first datagram is b.
func describeFlight(b []byte, datagrams int, retransmit bool) string {
	what := fmt.Sprintf("%d DTLS datagram(s) sent", datagrams)
	switch ct, hs := firstHandshake(b); {
	case hs == int(typeHelloVerifyRequest):
		what = "ClientHello reassembled; HelloVerifyRequest sent with a stateless cookie"
	case hs == int(typeServerHello):
		what = fmt.Sprintf("ClientHello with a valid cookie; flight 4 sent (ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone) in %d datagram(s)", datagrams)
	case ct == contentChangeCipherSpec:
		what = "client flight 5 verified; flight 6 sent (ChangeCipherSpec, Finished)"
	// As the DTLS client (the answer said a=setup:passive):
	case hs == int(typeClientHello):
		what = "ClientHello sent (we are the DTLS client)"
	case hs == int(typeCertificate) || hs == int(typeClientKeyExchange):
		what = fmt.Sprintf("server flight 4 verified, certificate matches the answer; flight 5 sent (Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished) in %d datagram(s)", datagrams)
	case ct == contentAlert:
		what = "DTLS alert sent"
	}
	if retransmit {
		return "retransmission: " + what
	}
	return what
}
