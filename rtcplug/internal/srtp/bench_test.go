package srtp

import (
	"crypto/aes"
	"crypto/cipher"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

// benchRing is how many distinct protected packets a benchmark cycles
// through. Every iteration decrypts a packet whose index is new to the
// replay window (the ring holds increasing sequence numbers); after a full
// pass the receiver's per-SSRC state is forgotten (ssrcTable.reset, no
// allocation) so the next pass is new again. That reset and the first-packet
// path it causes once per pass are inside the timed region.
const benchRing = 512

const benchPacketLen = 1200

func benchRTPRing(b *testing.B, p Profile) (dec *Context, ring [][]byte) {
	enc, dec := pair(b, p)
	ring = make([][]byte, benchRing)
	for i := range ring {
		pkt, err := enc.EncryptRTP(nil, rtpPacket(0x5EED, uint16(i), benchPacketLen), nil)
		if err != nil {
			b.Fatal(err)
		}
		ring[i] = pkt
	}
	return dec, ring
}

func BenchmarkDecryptRTP(b *testing.B) {
	for _, p := range []Profile{AES128CMHMACSHA1_80, AEADAES128GCM, AEADAES256GCM} {
		b.Run(benchName(p), func(b *testing.B) {
			dec, ring := benchRTPRing(b, p)
			out := make([]byte, 0, 1500)
			b.SetBytes(benchPacketLen)
			b.ReportAllocs()
			i := 0
			cpu := startCPU()
			for b.Loop() {
				if i == benchRing {
					i = 0
					dec.recvRTP.reset()
				}
				if _, err := dec.DecryptRTP(out[:0], ring[i], nil); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.report(b)
		})
	}
}

func BenchmarkEncryptRTP(b *testing.B) {
	for _, p := range []Profile{AES128CMHMACSHA1_80, AEADAES128GCM} {
		b.Run(benchName(p), func(b *testing.B) {
			enc, _ := pair(b, p)
			plain := rtpPacket(0x5EED, 0, benchPacketLen)
			out := make([]byte, 0, 1500)
			b.SetBytes(benchPacketLen)
			b.ReportAllocs()
			seq := uint16(0)
			cpu := startCPU()
			for b.Loop() {
				seq++
				plain[2], plain[3] = byte(seq>>8), byte(seq)
				if _, err := enc.EncryptRTP(out[:0], plain, nil); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

func BenchmarkDecryptRTCP(b *testing.B) {
	const rtcpLen = 100
	for _, p := range []Profile{AES128CMHMACSHA1_80, AEADAES128GCM} {
		b.Run(benchName(p), func(b *testing.B) {
			enc, dec := pair(b, p)
			ring := make([][]byte, benchRing)
			for i := range ring {
				ring[i], _ = enc.EncryptRTCP(nil, rtcpPacket(0x5EED, rtcpLen))
			}
			out := make([]byte, 0, 1500)
			b.SetBytes(rtcpLen)
			b.ReportAllocs()
			i := 0
			cpu := startCPU()
			for b.Loop() {
				if i == benchRing {
					i = 0
					dec.recvRTCP.reset()
				}
				if _, err := dec.DecryptRTCP(out[:0], ring[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.report(b)
		})
	}
}

// BenchmarkGCMOpenBaseline is bare crypto/cipher AES-128-GCM Open of the same
// payload with the same header as AAD: the floor for AEADAES128GCM.
func BenchmarkGCMOpenBaseline(b *testing.B) {
	plain := rtpPacket(0x5EED, 1, benchPacketLen)
	var h rtp.Header
	if err := h.Unmarshal(plain); err != nil {
		b.Fatal(err)
	}
	block, _ := aes.NewCipher(make([]byte, 16))
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	aad := plain[:h.HeaderLen]
	ct := aead.Seal(nil, nonce, plain[h.HeaderLen:], aad)
	out := make([]byte, 0, 1500)
	b.SetBytes(benchPacketLen)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := aead.Open(out[:0], nonce, ct, aad); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkCTRXOR is the AES-CM keystream alone over a 1200-byte payload.
func BenchmarkCTRXOR(b *testing.B) {
	block, _ := aes.NewCipher(make([]byte, 16))
	var iv [16]byte
	var ks [keystreamLen]byte
	buf := make([]byte, benchPacketLen)
	b.SetBytes(benchPacketLen)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		ctrXOR(block, &iv, buf, buf, ks[:])
	}
	cpu.report(b)
}

func benchName(p Profile) string {
	switch p {
	case AES128CMHMACSHA1_80:
		return "AES128CMHMACSHA1_80"
	case AES128CMHMACSHA1_32:
		return "AES128CMHMACSHA1_32"
	case AEADAES128GCM:
		return "AEADAES128GCM"
	}
	return "AEADAES256GCM"
}
