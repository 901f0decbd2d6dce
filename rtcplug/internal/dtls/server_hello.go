package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// serverHello is the ServerHello we send (RFC 5246 §7.4.1.3).
type serverHello struct {
	random        []byte
	cipherSuite   uint16
	srtpProfile   uint16
	ecPointFormat bool // answer ec_point_formats only if the client sent it (RFC 8422 §5.2)
	renegotiation bool // the client signalled RFC 5746 (extension or SCSV)
}

// append appends the body. server_version is DTLS 1.2; the
// supported_versions extension is not echoed, since that would announce
// DTLS 1.3 (RFC 8446 §4.2.1). The session ID is empty: we do not resume.
func (m *serverHello) append(dst []byte) []byte {
	w := wire.NewBuilder(dst)
	w.U16(versionDTLS12)
	w.Bytes(m.random)
	w.U8(0) // session_id
	w.U16(m.cipherSuite)
	w.U8(0) // compression_method null
	ext := w.Mark()
	w.U16(0)
	if m.renegotiation {
		// renegotiation_info, empty for an initial handshake (RFC 5746 §3.6).
		w.U16(extRenegotiationInfo)
		w.U16(1)
		w.U8(0)
	}
	// extended_master_secret (RFC 7627 §5.2).
	w.U16(extExtendedMasterSecret)
	w.U16(0)
	// use_srtp with the one profile chosen and no MKI (RFC 5764 §4.1.1).
	w.U16(extUseSRTP)
	w.U16(5)
	w.U16(2)
	w.U16(m.srtpProfile)
	w.U8(0)
	if m.ecPointFormat {
		w.U16(extECPointFormats)
		w.U16(2)
		w.U8(1)
		w.U8(0) // uncompressed
	}
	w.Put16(ext, uint16(w.Len()-ext-2))
	return w.B
}
