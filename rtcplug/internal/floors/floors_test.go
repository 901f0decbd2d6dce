// Package floors holds benchmarks of third-party implementations of what
// rtcplug does itself, run the same way as our own benchmarks of the same
// work, so BENCHMARKS.md can put each figure beside its floor. It has no
// code outside tests.
package floors

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/rtp/codecs"
	pionstun "github.com/pion/stun/v4"
)

const testdata = "../../../testdata"

// chromiumBinding is frame 1 of testdata/chromium156-pion-handshake.txt, the
// Binding request rtcplug's stun.BenchmarkDecodeChromiumBinding decodes.
func chromiumBinding(b *testing.B) []byte {
	data, err := os.ReadFile(filepath.Join(testdata, "chromium156-pion-handshake.txt"))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == "1" {
			raw, err := hex.DecodeString(f[3])
			if n, _ := strconv.Atoi(f[2]); err != nil || len(raw) != n {
				b.Fatal("bad capture line")
			}
			return raw
		}
	}
	b.Fatal("no frame 1")
	return nil
}

// BenchmarkPionSTUNDecodeChromiumBinding: pion/stun decodes the same
// request and checks MESSAGE-INTEGRITY and FINGERPRINT, as ours does.
func BenchmarkPionSTUNDecodeChromiumBinding(b *testing.B) {
	frame := chromiumBinding(b)
	integ := pionstun.NewShortTermIntegrity("GMqhsyrIRToHXKgsHPecZvbokKQUzzRX") // testdata/pion-answer.sdp
	m := new(pionstun.Message)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		m.Raw = append(m.Raw[:0], frame...)
		if err := m.Decode(); err != nil {
			b.Fatal(err)
		}
		if err := integ.Check(m); err != nil {
			b.Fatal(err)
		}
		if err := pionstun.Fingerprint.Check(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPionVP8Depacketize: pion/rtp's VP8 depacketizer on the packet of
// rtcplug's vp8.BenchmarkDepacketize (one 1200-byte packet holding a whole
// keyframe, 15-bit picture ID), the payload appended to a frame buffer.
func BenchmarkPionVP8Depacketize(b *testing.B) {
	payload := make([]byte, 1200)
	payload[0], payload[1], payload[2], payload[3] = 0x90, 0x80, 0x80, 0x00 // X, S; I; M, PictureID
	copy(payload[4:], []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
	var p codecs.VP8Packet
	frame := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		data, err := p.Unmarshal(payload)
		if err != nil || p.S != 1 || !p.IsPartitionHead(payload) {
			b.Fatal(err)
		}
		frame = append(frame[:0], data...)
		if frame[0]&1 != 0 {
			b.Fatal("not a keyframe")
		}
	}
}
