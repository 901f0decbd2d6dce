package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/wire"

const (
	randomLen       = 32
	maxSessionIDLen = 32
	// maxOffered bounds the lists we keep from a hello (suites, groups,
	// schemes, profiles); longer lists are cut, not rejected.
	maxOffered = 256
)

// clientHello is what we use from a ClientHello (RFC 6347 §4.2.1, RFC 5246
// §7.4.1.2). Slices point into the message body.
type clientHello struct {
	version            uint16
	random             []byte
	sessionID          []byte
	cookie             []byte
	cipherSuites       []uint16
	compressionMethods []byte

	// extensions
	supportedGroups      []uint16
	ecPointFormats       []byte
	hasECPointFormats    bool
	signatureSchemes     []uint16
	srtpProfiles         []uint16
	srtpMKI              []byte
	hasSRTP              bool
	extendedMaster       bool
	renegotiationInfo    []byte
	hasRenegotiation     bool
	supportedVersions    []uint16
	hasSupportedVersions bool
}

// parseU16List reads a vector of uint16 values of byte length n, keeping at
// most maxOffered of them.
func parseU16List(r *wire.Reader, n int) []uint16 {
	if n%2 != 0 {
		r.Skip(r.Len() + 1) // mark short: odd length is malformed
		return nil
	}
	sub := r.Sub(n)
	out := make([]uint16, 0, min(n/2, maxOffered))
	for !sub.Empty() && sub.OK() {
		v := sub.U16()
		if len(out) < maxOffered {
			out = append(out, v)
		}
	}
	return out
}

// parseClientHello parses a ClientHello body. Extensions may come in any
// order; unknown ones (key_share, psk_key_exchange_modes, ...) are skipped.
// A repeated extension is an error (RFC 5246 §7.4.1.4).
func parseClientHello(b []byte) (*clientHello, error) {
	m := &clientHello{}
	r := wire.NewReader(b)
	m.version = r.U16()
	m.random = r.Bytes(randomLen)
	m.sessionID = r.Vec8()
	m.cookie = r.Vec8()
	m.cipherSuites = parseU16List(&r, int(r.U16()))
	m.compressionMethods = r.Vec8()
	if !r.OK() || len(m.sessionID) > maxSessionIDLen || len(m.cipherSuites) == 0 ||
		len(m.compressionMethods) == 0 {
		return nil, alertDecodeError
	}
	if r.Empty() {
		return m, nil // no extensions at all
	}
	exts := r.Sub(int(r.U16()))
	if !r.OK() || !r.Empty() {
		return nil, alertDecodeError
	}
	var seen [8]uint16 // the extension types we interpret, to catch repeats
	nSeen := 0
	for !exts.Empty() {
		typ := exts.U16()
		e := exts.Sub(int(exts.U16()))
		if !exts.OK() {
			return nil, alertDecodeError
		}
		switch typ {
		case extSupportedGroups, extECPointFormats, extSignatureAlgorithms, extUseSRTP,
			extExtendedMasterSecret, extRenegotiationInfo, extSupportedVersions:
			for _, t := range seen[:nSeen] {
				if t == typ {
					return nil, alertIllegalParameter
				}
			}
			seen[nSeen] = typ
			nSeen++
		}
		switch typ {
		case extSupportedGroups:
			m.supportedGroups = parseU16List(&e, int(e.U16()))
		case extECPointFormats:
			m.ecPointFormats = e.Vec8()
			m.hasECPointFormats = true
		case extSignatureAlgorithms:
			m.signatureSchemes = parseU16List(&e, int(e.U16()))
		case extUseSRTP:
			m.srtpProfiles = parseU16List(&e, int(e.U16()))
			m.srtpMKI = e.Vec8()
			m.hasSRTP = true
		case extExtendedMasterSecret:
			m.extendedMaster = true
		case extRenegotiationInfo:
			m.renegotiationInfo = e.Vec8()
			m.hasRenegotiation = true
		case extSupportedVersions:
			// In a ClientHello: a vector of versions with a 1-byte length
			// (RFC 8446 §4.2.1).
			n := int(e.U8())
			m.supportedVersions = parseU16List(&e, n)
			m.hasSupportedVersions = true
		default:
			e.Skip(e.Len())
		}
		if !e.OK() || !e.Empty() {
			return nil, alertDecodeError
		}
	}
	return m, nil
}

// offersU16 reports whether list holds v.
func offersU16(list []uint16, v uint16) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// append appends a ClientHello body as our client sends it (RFC 5246
// §7.4.1.2, RFC 6347 §4.2.1): no session ID (we do not resume), null
// compression, and the extensions a WebRTC server expects. A session
// ticket is never asked for.
func (m *clientHello) append(dst []byte) []byte {
	w := wire.NewBuilder(dst)
	w.U16(m.version)
	w.Bytes(m.random)
	w.U8(uint8(len(m.sessionID)))
	w.Bytes(m.sessionID)
	w.U8(uint8(len(m.cookie)))
	w.Bytes(m.cookie)
	w.U16(uint16(2 * len(m.cipherSuites)))
	for _, s := range m.cipherSuites {
		w.U16(s)
	}
	w.U8(uint8(len(m.compressionMethods)))
	w.Bytes(m.compressionMethods)
	ext := w.Mark()
	w.U16(0)
	u16List := func(typ uint16, list []uint16) {
		w.U16(typ)
		w.U16(uint16(2 + 2*len(list)))
		w.U16(uint16(2 * len(list)))
		for _, v := range list {
			w.U16(v)
		}
	}
	if m.supportedGroups != nil {
		u16List(extSupportedGroups, m.supportedGroups)
	}
	if m.hasECPointFormats {
		w.U16(extECPointFormats)
		w.U16(uint16(1 + len(m.ecPointFormats)))
		w.U8(uint8(len(m.ecPointFormats)))
		w.Bytes(m.ecPointFormats)
	}
	if m.signatureSchemes != nil {
		u16List(extSignatureAlgorithms, m.signatureSchemes)
	}
	if m.hasSRTP {
		w.U16(extUseSRTP)
		w.U16(uint16(2 + 2*len(m.srtpProfiles) + 1 + len(m.srtpMKI)))
		w.U16(uint16(2 * len(m.srtpProfiles)))
		for _, p := range m.srtpProfiles {
			w.U16(p)
		}
		w.U8(uint8(len(m.srtpMKI)))
		w.Bytes(m.srtpMKI)
	}
	if m.extendedMaster {
		w.U16(extExtendedMasterSecret)
		w.U16(0)
	}
	if m.hasRenegotiation {
		w.U16(extRenegotiationInfo)
		w.U16(uint16(1 + len(m.renegotiationInfo)))
		w.U8(uint8(len(m.renegotiationInfo)))
		w.Bytes(m.renegotiationInfo)
	}
	w.Put16(ext, uint16(w.Len()-ext-2))
	return w.B
}
