package srtp_test

import (
	"bytes"
	"testing"

	pionrtp "github.com/pion/rtp"
	pionsrtp "github.com/pion/srtp/v3"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// Interoperability with an independent implementation, github.com/pion/srtp
// (test-only dependency): what one side protects, the other unprotects, for
// every profile, for RTP (across a sequence-number wrap) and RTCP.

var profiles = []srtp.Profile{
	srtp.AES128CMHMACSHA1_80, srtp.AES128CMHMACSHA1_32, srtp.AEADAES128GCM, srtp.AEADAES256GCM,
}

func keys(t testing.TB, p srtp.Profile) (key, salt []byte) {
	t.Helper()
	km := make([]byte, srtp.KeyingMaterialLen(p))
	for i := range km {
		km[i] = byte(i*7 + 3)
	}
	key, salt, _, _, err := srtp.SplitKeyingMaterial(p, km)
	if err != nil {
		t.Fatal(err)
	}
	return key, salt
}

func plainRTP(ssrc uint32, seq uint16, size int) []byte {
	h := rtp.Header{
		PayloadType: 96, SequenceNumber: seq, Timestamp: 90000 + uint32(seq), SSRC: ssrc, Marker: seq%7 == 0,
		Extension: true, ExtensionProfile: rtp.ExtensionProfileOneByte,
		ExtensionPayload: []byte{0x31, byte(seq >> 8), byte(seq), 0, 0x51, 1, 2, 0},
	}
	// Every third packet also carries CSRCs and the two-byte extension form
	// with appbits set (RFC 8285 §4.3), so that both sides must agree on
	// the header they authenticate (the GCM AAD, RFC 7714 §8.2).
	if seq%3 == 0 {
		h.CSRCCount = 2
		h.CSRC[0], h.CSRC[1] = 0x01020304, 0xa0b0c0d0
		h.ExtensionProfile = rtp.ExtensionProfileTwoByte | 0x5
		h.ExtensionPayload = []byte{0x07, 0x03, byte(seq >> 8), byte(seq), 0xEE, 0x09, 0x00, 0x00}
	}
	b := h.MarshalTo(nil)
	for len(b) < size {
		b = append(b, byte(len(b)*31))
	}
	return b
}

func plainRTCP(ssrc uint32, n int) []byte {
	b := []byte{0x80, 0xc9, 0, byte(n/4 - 1), byte(ssrc >> 24), byte(ssrc >> 16), byte(ssrc >> 8), byte(ssrc)}
	for len(b) < n {
		b = append(b, byte(len(b)))
	}
	return b
}

func TestInteropPion(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.String(), func(t *testing.T) {
			key, salt := keys(t, p)
			pp := pionsrtp.ProtectionProfile(p)
			pionEnc, err := pionsrtp.CreateContext(key, salt, pp)
			if err != nil {
				t.Fatal(err)
			}
			pionDec, err := pionsrtp.CreateContext(key, salt, pp)
			if err != nil {
				t.Fatal(err)
			}
			ourEnc, err := srtp.NewContext(p, key, salt)
			if err != nil {
				t.Fatal(err)
			}
			ourDec, _ := srtp.NewContext(p, key, salt)

			const ssrc = 0x1234abcd
			for i := 0; i < 300; i++ {
				seq := uint16(65400 + i) // wraps at i = 136
				plain := plainRTP(ssrc, seq, 100+i%1100)

				// pion -> ours
				pkt, err := pionEnc.EncryptRTP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ourDec.DecryptRTP(nil, pkt, nil)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("pion->ours seq %d: %v", seq, err)
				}
				// ours -> pion, and byte-identical output.
				mine, err := ourEnc.EncryptRTP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(mine, pkt) {
					t.Fatalf("seq %d: ours and pion's SRTP packets differ", seq)
				}
				got, err = pionDec.DecryptRTP(nil, mine, nil)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("ours->pion seq %d: %v", seq, err)
				}
			}
			for i := 0; i < 50; i++ {
				plain := plainRTCP(ssrc, 8+4*(i%40))
				pkt, err := pionEnc.EncryptRTCP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ourDec.DecryptRTCP(nil, pkt)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("pion->ours rtcp %d: %v", i, err)
				}
				mine, err := ourEnc.EncryptRTCP(nil, plain)
				if err != nil {
					t.Fatal(err)
				}
				got, err = pionDec.DecryptRTCP(nil, mine, nil)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("ours->pion rtcp %d: %v", i, err)
				}
			}
		})
	}
}

func tagLen(p srtp.Profile) int {
	if p == srtp.AES128CMHMACSHA1_80 {
		return 10
	}
	return 16
}

// BenchmarkPionDecryptRTP decrypts the same packets as BenchmarkDecryptRTP
// with pion/srtp. pion has no way to forget replay state, so a fresh pion
// context is made after each pass over the ring, outside the timer.
func BenchmarkPionDecryptRTP(b *testing.B) {
	for _, p := range []srtp.Profile{srtp.AES128CMHMACSHA1_80, srtp.AEADAES128GCM} {
		name := "AES128CMHMACSHA1_80"
		if p == srtp.AEADAES128GCM {
			name = "AEADAES128GCM"
		}
		b.Run(name, func(b *testing.B) {
			key, salt, pkts := srtp.BenchRing(b, p)
			newDec := func() *pionsrtp.Context {
				c, err := pionsrtp.CreateContext(key, salt, pionsrtp.ProtectionProfile(p))
				if err != nil {
					b.Fatal(err)
				}
				return c
			}
			dec := newDec()
			var hdr pionrtp.Header
			out := make([]byte, 0, 1500)
			b.SetBytes(int64(len(pkts[0]) - tagLen(p)))
			b.ReportAllocs()
			i := 0
			cpu := srtp.StartCPU()
			for b.Loop() {
				if i == len(pkts) {
					b.StopTimer()
					cpu.Pause()
					dec = newDec()
					i = 0
					cpu.Resume()
					b.StartTimer()
				}
				if _, err := dec.DecryptRTP(out[:0], pkts[i], &hdr); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.Report(b)
		})
	}
}
