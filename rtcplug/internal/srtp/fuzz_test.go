package srtp

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

// fuzzKeys holds, per profile, the master key and salt the fuzz targets
// decrypt with and every packet known to be protected with them. Any other
// input that decrypts successfully is a forgery and fails the target.
type fuzzKeys struct {
	p          Profile
	key, salt  []byte
	validRTP   map[string]bool
	validRTCP  map[string]bool
	seedsRTP   [][]byte
	seedsRTCP  [][]byte
	otherSeeds [][]byte // vectors under other keys: must not decrypt
}

func newFuzzKeys(f *testing.F) []*fuzzKeys {
	v3711 := loadVectors(f, "rfc3711-srtp.txt")
	v7714 := loadVectors(f, "rfc7714-srtp-gcm.txt")
	lib := v3711["libsrtp-srtp_validate"]
	libGCM := v7714["libsrtp-srtp_validate_gcm"]
	k256, s256 := testKeys(AEADAES256GCM, 9)
	out := []*fuzzKeys{
		{p: AES128CMHMACSHA1_80, key: lib.get(f, "master-key"), salt: lib.get(f, "master-salt")},
		{p: AES128CMHMACSHA1_32, key: lib.get(f, "master-key"), salt: lib.get(f, "master-salt")},
		{p: AEADAES128GCM, key: libGCM.get(f, "master-key"), salt: libGCM.get(f, "master-salt")},
		{p: AEADAES256GCM, key: k256, salt: s256},
	}
	var rfc7714Packets [][]byte
	for _, id := range []string{"rfc7714-16.1.1", "rfc7714-16.1.3", "rfc7714-16.2.1", "rfc7714-16.2.3",
		"rfc7714-17.1", "rfc7714-17.2", "rfc7714-17.3", "rfc7714-17.4"} {
		rfc7714Packets = append(rfc7714Packets, v7714[id].get(f, "output-packet"))
	}
	for _, k := range out {
		k.validRTP, k.validRTCP = map[string]bool{}, map[string]bool{}
		addRTP := func(b []byte) { k.validRTP[string(b)] = true; k.seedsRTP = append(k.seedsRTP, b) }
		addRTCP := func(b []byte) { k.validRTCP[string(b)] = true; k.seedsRTCP = append(k.seedsRTCP, b) }
		switch k.p {
		case AES128CMHMACSHA1_80:
			addRTP(lib.get(f, "srtp-packet"))
			addRTCP(lib.get(f, "srtcp-packet"))
		case AES128CMHMACSHA1_32:
			addRTP(lib.get(f, "srtp-packet-sha1-32"))
			addRTCP(lib.get(f, "srtcp-packet"))
		case AEADAES128GCM:
			addRTP(libGCM.get(f, "srtp-packet"))
			addRTCP(libGCM.get(f, "srtcp-packet"))
		}
		// Fresh senders, so each packet is valid for a fresh receiver (ROC 0).
		for i, seq := range []uint16{0, 1, 0x7fff, 0xffff} {
			enc, err := NewContext(k.p, k.key, k.salt)
			if err != nil {
				f.Fatal(err)
			}
			pkt, err := enc.EncryptRTP(nil, rtpPacket(uint32(i+1), seq, 40+60*i), nil)
			if err != nil {
				f.Fatal(err)
			}
			addRTP(pkt)
			for j := 0; j < 2; j++ { // SRTCP index 0 and 1
				rp, err := enc.EncryptRTCP(nil, rtcpPacket(uint32(i+1), 8+8*i))
				if err != nil {
					f.Fatal(err)
				}
				addRTCP(rp)
			}
		}
		k.otherSeeds = rfc7714Packets
	}
	return out
}

func FuzzDecryptRTP(f *testing.F) {
	keys := newFuzzKeys(f)
	for i, k := range keys {
		for _, s := range k.seedsRTP {
			f.Add(byte(i), s)
			f.Add(byte(i)|0x80|0x40, s)
		}
		for _, s := range k.otherSeeds {
			f.Add(byte(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		k := keys[sel&3]
		c, err := NewContext(k.p, k.key, k.salt)
		if err != nil {
			t.Fatal(err)
		}
		var h *rtp.Header
		if sel&0x80 != 0 {
			var parsed rtp.Header
			if parsed.Unmarshal(data) == nil {
				h = &parsed
			}
		}
		in := data
		var dst []byte
		if sel&0x40 != 0 {
			in = bytes.Clone(data)
			dst = in[:0]
		}
		out, err := c.DecryptRTP(dst, in, h)
		if err != nil {
			if len(c.recvRTP.entries) != 0 {
				t.Fatal("state created for a rejected packet")
			}
			return
		}
		if !k.validRTP[string(data)] {
			t.Fatalf("%v: accepted a packet not protected with the key: %x", k.p, data)
		}
		if len(out) != len(data)-k.p.rtpTagLen() {
			t.Fatalf("output length %d", len(out))
		}
		if _, err := c.DecryptRTP(nil, data, nil); !errors.Is(err, ErrReplayed) {
			t.Fatalf("second copy: %v", err)
		}
	})
}

func FuzzDecryptRTCP(f *testing.F) {
	keys := newFuzzKeys(f)
	for i, k := range keys {
		for _, s := range k.seedsRTCP {
			f.Add(byte(i), s)
			f.Add(byte(i)|0x40, s)
		}
		for _, s := range k.otherSeeds {
			f.Add(byte(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		k := keys[sel&3]
		c, err := NewContext(k.p, k.key, k.salt)
		if err != nil {
			t.Fatal(err)
		}
		in := data
		var dst []byte
		if sel&0x40 != 0 {
			in = bytes.Clone(data)
			dst = in[:0]
		}
		out, err := c.DecryptRTCP(dst, in)
		if err != nil {
			if len(c.recvRTCP.entries) != 0 {
				t.Fatal("state created for a rejected packet")
			}
			return
		}
		if !k.validRTCP[string(data)] {
			t.Fatalf("%v: accepted a packet not protected with the key: %x", k.p, data)
		}
		if len(out) != len(data)-4-k.p.rtcpTagLen() {
			t.Fatalf("output length %d", len(out))
		}
		if _, err := c.DecryptRTCP(nil, data); !errors.Is(err, ErrReplayed) {
			t.Fatalf("second copy: %v", err)
		}
	})
}
