package dtls

import (
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// Extension types (IANA TLS ExtensionType registry).
const (
	extSupportedGroups      uint16 = 10     // RFC 8422 §5.1.1
	extECPointFormats       uint16 = 11     // RFC 8422 §5.1.2
	extSignatureAlgorithms  uint16 = 13     // RFC 5246 §7.4.1.4.1
	extUseSRTP              uint16 = 14     // RFC 5764 §4.1.1
	extExtendedMasterSecret uint16 = 23     // RFC 7627 §5.1
	extSupportedVersions    uint16 = 43     // RFC 8446 §4.2.1
	extRenegotiationInfo    uint16 = 0xff01 // RFC 5746 §3.2
)

// Named groups (RFC 8422 §5.1.1, RFC 7748).
const (
	groupP256   uint16 = 23
	groupX25519 uint16 = 29
)

// Signature schemes (RFC 8446 §4.2.3 numbering, which matches TLS 1.2's
// hash||signature pairs for the PKCS #1 v1.5 and ECDSA ones).
const (
	sigECDSAP256SHA256 uint16 = 0x0403
	sigECDSAP384SHA384 uint16 = 0x0503
	sigECDSAP521SHA512 uint16 = 0x0603
	sigRSAPKCS1SHA256  uint16 = 0x0401
	sigRSAPKCS1SHA384  uint16 = 0x0501
	sigRSAPKCS1SHA512  uint16 = 0x0601
	sigRSAPSSSHA256    uint16 = 0x0804
	sigRSAPSSSHA384    uint16 = 0x0805
	sigRSAPSSSHA512    uint16 = 0x0806
)

// verifySchemes are the schemes we accept in the client's
// CertificateVerify, in the order we list them in CertificateRequest.
func verifySchemes() []uint16 {
	return []uint16{
		sigECDSAP256SHA256, sigECDSAP384SHA384, sigECDSAP521SHA512,
		sigRSAPSSSHA256, sigRSAPSSSHA384, sigRSAPSSSHA512,
		sigRSAPKCS1SHA256, sigRSAPKCS1SHA384, sigRSAPKCS1SHA512,
	}
}

// DefaultSRTPProfiles is our preference order: the AEAD profiles first.
// The code points are srtp's (RFC 5764 §4.1.2, RFC 7714 §14.2): the use_srtp
// extension carries them as they are.
func DefaultSRTPProfiles() []srtp.Profile {
	return []srtp.Profile{
		srtp.AEADAES128GCM, srtp.AEADAES256GCM,
		srtp.AES128CMHMACSHA1_80, srtp.AES128CMHMACSHA1_32,
	}
}

// profileIDs is list as the use_srtp extension's code points.
func profileIDs(list []srtp.Profile) []uint16 {
	out := make([]uint16, len(list))
	for i, p := range list {
		out[i] = uint16(p)
	}
	return out
}

// offersProfile reports whether list holds the code point p.
func offersProfile(list []srtp.Profile, p uint16) bool {
	for _, q := range list {
		if uint16(q) == p {
			return true
		}
	}
	return false
}
