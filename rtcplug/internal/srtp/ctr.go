package srtp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
)

// keystreamLen is the size of the per-context keystream scratch buffer: the
// counter-mode XOR makes this many bytes of keystream per round, so a
// 1200-byte payload takes three rounds of 32 block encryptions each.
const keystreamLen = 32 * aes.BlockSize

// ctrXOR XORs src into dst with the AES counter-mode keystream starting at
// counter block iv (RFC 3711 §4.1.1: block j is AES(k, IV + j), IV + j taken
// as a 128-bit big-endian sum). ks is scratch space, a non-empty multiple of
// the block size. dst and src must be the same length and either identical
// or not overlapping.
//
// cipher.NewCTR would do this, but it allocates a stream per packet; this
// reuses ks and the context's block cipher, so a packet costs no allocation.
func ctrXOR(block cipher.Block, iv *[aes.BlockSize]byte, dst, src, ks []byte) {
	hi := binary.BigEndian.Uint64(iv[:8])
	lo := binary.BigEndian.Uint64(iv[8:])
	for len(src) > 0 {
		n := min(len(src), len(ks))
		nb := (n + aes.BlockSize - 1) / aes.BlockSize
		// Write all counter blocks first, then encrypt them: the block
		// encryptions are then independent of each other and of the
		// counter stores, so the CPU can overlap them.
		for k := 0; k < nb; k++ {
			b := ks[k*aes.BlockSize : (k+1)*aes.BlockSize : (k+1)*aes.BlockSize]
			binary.BigEndian.PutUint64(b[:8], hi)
			binary.BigEndian.PutUint64(b[8:], lo)
			lo++
			if lo == 0 {
				hi++
			}
		}
		for k := 0; k < nb; k++ {
			b := ks[k*aes.BlockSize : (k+1)*aes.BlockSize : (k+1)*aes.BlockSize]
			block.Encrypt(b, b)
		}
		subtle.XORBytes(dst[:n], src[:n], ks[:n])
		dst, src = dst[n:], src[n:]
	}
}
