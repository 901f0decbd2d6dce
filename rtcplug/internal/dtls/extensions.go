package dtls

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

// SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2).
const (
	SRTP_AES128_CM_HMAC_SHA1_80 uint16 = 0x0001
	SRTP_AES128_CM_HMAC_SHA1_32 uint16 = 0x0002
	SRTP_AEAD_AES_128_GCM       uint16 = 0x0007
	SRTP_AEAD_AES_256_GCM       uint16 = 0x0008
)

// DefaultSRTPProfiles is our preference order: the AEAD profiles first.
func DefaultSRTPProfiles() []uint16 {
	return []uint16{
		SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM,
		SRTP_AES128_CM_HMAC_SHA1_80, SRTP_AES128_CM_HMAC_SHA1_32,
	}
}
