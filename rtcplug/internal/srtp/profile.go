package srtp

import "fmt"

// Profile is a DTLS-SRTP protection profile code point (RFC 5764 §4.1.2,
// RFC 7714 §14.2), as negotiated by the use_srtp extension.
type Profile uint16

// The profiles this package implements.
const (
	AES128CMHMACSHA1_80 Profile = 0x0001
	AES128CMHMACSHA1_32 Profile = 0x0002
	AEADAES128GCM       Profile = 0x0007
	AEADAES256GCM       Profile = 0x0008
)

const (
	// authKeyLen is the HMAC-SHA1 session key length (RFC 3711 §4.2.1, n_a = 160).
	authKeyLen = 20
	// gcmTagLen is the AEAD tag length of both GCM profiles (RFC 7714 §14.2).
	gcmTagLen = 16
	// cmRTCPTagLen: SRTCP keeps an 80-bit tag even for the _32 profile (RFC 5764 §4.1.2).
	cmRTCPTagLen = 10
)

func (p Profile) supported() bool {
	switch p {
	case AES128CMHMACSHA1_80, AES128CMHMACSHA1_32, AEADAES128GCM, AEADAES256GCM:
		return true
	}
	return false
}

func (p Profile) isGCM() bool { return p == AEADAES128GCM || p == AEADAES256GCM }

// KeyLen is the master (and session) key length in bytes; 0 for an unknown profile.
func (p Profile) KeyLen() int {
	switch p {
	case AES128CMHMACSHA1_80, AES128CMHMACSHA1_32, AEADAES128GCM:
		return 16
	case AEADAES256GCM:
		return 32
	}
	return 0
}

// SaltLen is the master (and session) salt length in bytes: 14 for AES-CM,
// 12 for the GCM profiles (RFC 7714 §12); 0 for an unknown profile.
func (p Profile) SaltLen() int {
	switch p {
	case AES128CMHMACSHA1_80, AES128CMHMACSHA1_32:
		return 14
	case AEADAES128GCM, AEADAES256GCM:
		return 12
	}
	return 0
}

// rtpTagLen is the SRTP authentication tag length in bytes.
func (p Profile) rtpTagLen() int {
	switch p {
	case AES128CMHMACSHA1_80:
		return 10
	case AES128CMHMACSHA1_32:
		return 4
	}
	return gcmTagLen
}

// rtcpTagLen is the SRTCP authentication tag length in bytes.
func (p Profile) rtcpTagLen() int {
	if p.isGCM() {
		return gcmTagLen
	}
	return cmRTCPTagLen
}

// String returns the RFC name of the profile.
func (p Profile) String() string {
	switch p {
	case AES128CMHMACSHA1_80:
		return "SRTP_AES128_CM_HMAC_SHA1_80"
	case AES128CMHMACSHA1_32:
		return "SRTP_AES128_CM_HMAC_SHA1_32"
	case AEADAES128GCM:
		return "SRTP_AEAD_AES_128_GCM"
	case AEADAES256GCM:
		return "SRTP_AEAD_AES_256_GCM"
	}
	return fmt.Sprintf("Profile(0x%04x)", uint16(p))
}

// KeyingMaterialLen is how many bytes to ask the DTLS exporter for
// ("EXTRACTOR-dtls_srtp", RFC 5764 §4.2): 2*(KeyLen+SaltLen), or 0 for an
// unknown profile.
func KeyingMaterialLen(p Profile) int {
	return 2 * (p.KeyLen() + p.SaltLen())
}

// SplitKeyingMaterial cuts exported keying material into the client and
// server master keys and salts, laid out as RFC 5764 §4.2 says:
// client_write_key | server_write_key | client_write_salt | server_write_salt.
// The results alias km (capacity clipped).
func SplitKeyingMaterial(p Profile, km []byte) (clientKey, clientSalt, serverKey, serverSalt []byte, err error) {
	if !p.supported() {
		return nil, nil, nil, nil, ErrUnsupportedProfile
	}
	if len(km) != KeyingMaterialLen(p) {
		return nil, nil, nil, nil, ErrKeyLength
	}
	k, s := p.KeyLen(), p.SaltLen()
	cut := func(off, n int) []byte { return km[off : off+n : off+n] }
	clientKey = cut(0, k)
	serverKey = cut(k, k)
	clientSalt = cut(2*k, s)
	serverSalt = cut(2*k+s, s)
	return clientKey, clientSalt, serverKey, serverSalt, nil
}
