package dtls

import "github.com/nutsbolts/webrtc/rtcplug/internal/srtp"

// The use_srtp code points as the wire carries them, for tests that build or
// inspect hellos by hand; srtp owns the values.
const (
	SRTP_AES128_CM_HMAC_SHA1_80 = uint16(srtp.AES128CMHMACSHA1_80)
	SRTP_AES128_CM_HMAC_SHA1_32 = uint16(srtp.AES128CMHMACSHA1_32)
	SRTP_AEAD_AES_128_GCM       = uint16(srtp.AEADAES128GCM)
	SRTP_AEAD_AES_256_GCM       = uint16(srtp.AEADAES256GCM)
)
