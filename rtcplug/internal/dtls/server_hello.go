package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

// serverHello is a ServerHello (RFC 5246 §7.4.1.3): the one our server
// sends, or what our client reads from the peer's. Slices point into the
// message body.
type serverHello struct {
	version           uint16
	random            []byte
	cipherSuite       uint16
	srtpProfile       uint16
	srtpMKI           []byte
	hasSRTP           bool
	ecPointFormat     bool // answer ec_point_formats only if the client sent it (RFC 8422 §5.2)
	ecPointFormats    []byte
	renegotiation     bool // the client signalled RFC 5746 (extension or SCSV)
	renegotiationInfo []byte
	extendedMaster    bool
	compression       uint8
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

// parseServerHello parses a ServerHello body. A ServerHello may only carry
// extensions the client offered (RFC 5246 §7.4.1.4); anything else, and any
// repeat, is an error.
func parseServerHello(b []byte) (*serverHello, error) {
	m := &serverHello{}
	r := wire.NewReader(b)
	m.version = r.U16()
	m.random = r.Bytes(randomLen)
	sid := r.Vec8()
	m.cipherSuite = r.U16()
	m.compression = r.U8()
	if !r.OK() || len(sid) > maxSessionIDLen {
		return nil, alertDecodeError
	}
	if r.Empty() {
		return m, nil
	}
	exts := r.Sub(int(r.U16()))
	if !r.OK() || !r.Empty() {
		return nil, alertDecodeError
	}
	var seen [4]bool
	for !exts.Empty() {
		typ := exts.U16()
		e := exts.Sub(int(exts.U16()))
		if !exts.OK() {
			return nil, alertDecodeError
		}
		var i int
		switch typ {
		case extRenegotiationInfo:
			i = 0
			m.renegotiationInfo = e.Vec8()
			m.renegotiation = true
		case extExtendedMasterSecret:
			i = 1
			m.extendedMaster = true
		case extUseSRTP:
			i = 2
			list := parseU16List(&e, int(e.U16()))
			m.srtpMKI = e.Vec8()
			if len(list) != 1 {
				return nil, alertIllegalParameter // exactly one profile (RFC 5764 §4.1.1)
			}
			m.srtpProfile, m.hasSRTP = list[0], true
		case extECPointFormats:
			i = 3
			m.ecPointFormats = e.Vec8()
			m.ecPointFormat = true
		default:
			return nil, alertUnsupportedExtension
		}
		if seen[i] {
			return nil, alertIllegalParameter
		}
		seen[i] = true
		if !e.OK() || !e.Empty() {
			return nil, alertDecodeError
		}
	}
	return m, nil
}
