package srtp

import (
	"crypto/aes"
	"crypto/cipher"
)

// Key derivation labels (RFC 3711 §4.3.2).
const (
	labelRTPEncryption  = 0x00
	labelRTPAuth        = 0x01
	labelRTPSalt        = 0x02
	labelRTCPEncryption = 0x03
	labelRTCPAuth       = 0x04
	labelRTCPSalt       = 0x05
)

// prfSaltLen is the 112-bit salt width the AES-CM PRF works on.
const prfSaltLen = 14

// deriveKey is the RFC 3711 §4.3.1 key derivation with key_derivation_rate 0
// (as DTLS-SRTP requires, RFC 5764 §4.1.2), so r = 0 and key_id = label || 0^48:
// x = key_id XOR master_salt, and the output is the AES-CM keystream under the
// master key starting at x * 2^16, truncated to n bytes. A 12-byte GCM master
// salt is extended with two zero bytes on the right (RFC 7714 §11). For a
// 256-bit master key this is the AES_256_CM_PRF of RFC 6188 §3.
func deriveKey(block cipher.Block, masterSalt []byte, label byte, n int) []byte {
	var iv [aes.BlockSize]byte
	copy(iv[:prfSaltLen], masterSalt)
	// key_id is 7 bytes, right-aligned in the 14-byte salt: the label is byte 7.
	iv[7] ^= label
	out := make([]byte, n)
	ctrXOR(block, &iv, out, out, make([]byte, ((n+aes.BlockSize-1)/aes.BlockSize)*aes.BlockSize))
	return out
}
