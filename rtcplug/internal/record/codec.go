package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/h264"
)

// detectCodec tells an H.264 Annex B access unit (it starts with a start
// code, ITU-T H.264 Annex B.1) from a VP8 frame, whose first byte is never
// zero unless it is a keyframe, and then bytes 3–5 are 9d 01 2a (RFC 6386
// §9.1).
func detectCodec(b []byte) string {
	if len(b) >= 4 && b[0] == 0 && b[1] == 0 && (b[2] == 1 || b[2] == 0 && b[3] == 1) {
		return H264
	}
	return VP8
}

// vp8Size reads the picture size of a VP8 keyframe (RFC 6386 §9.1: a 3-byte
// frame tag, the start code 9d 01 2a, then 14-bit width and height each
// with 2 bits of scaling).
func vp8Size(b []byte) (w, h int, ok bool) {
	if len(b) < 10 || b[0]&1 != 0 || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
		return 0, 0, false
	}
	w = int(binary.LittleEndian.Uint16(b[6:]) & 0x3fff)
	h = int(binary.LittleEndian.Uint16(b[8:]) & 0x3fff)
	return w, h, w > 0 && h > 0
}

// Bounds on an H.264 access unit's NAL units.
const (
	maxNALUs    = 1024
	maxParamSet = 1024 // bytes of one SPS or PPS
)

// NAL unit types (ITU-T H.264 Table 7-1).
const (
	naluIDR = 5
	naluSPS = 7
	naluPPS = 8
	naluAUD = 9
)

// splitAnnexB returns the NAL units of an Annex B byte stream (h264.SplitAnnexB),
// at most maxNALUs of them. dst is reused.
func splitAnnexB(dst [][]byte, b []byte) ([][]byte, error) {
	if !bytes.Contains(b, []byte{0, 0, 1}) {
		return nil, errors.New("no start code")
	}
	dst = dst[:0]
	tooMany := false
	h264.SplitAnnexB(b, func(nal []byte) bool {
		if len(dst) == maxNALUs {
			tooMany = true
			return false
		}
		dst = append(dst, nal)
		return true
	})
	if tooMany {
		return nil, errors.New("too many NAL units")
	}
	return dst, nil
}

// avcConfig is what an MP4 file needs from the first keyframe: the
// parameter sets (they make the avcC box, ISO/IEC 14496-15 §5.3.3) and the
// picture size from the SPS.
type avcConfig struct {
	sps, pps      []byte
	width, height int
}

// parseAVC finds the SPS and PPS of an IDR access unit and the picture size
// the SPS gives (ITU-T H.264 §7.3.2.1.1, with the frame cropping applied,
// sps.go).
func parseAVC(au []byte) (*avcConfig, error) {
	nalus, err := splitAnnexB(nil, au)
	if err != nil {
		return nil, err
	}
	c := &avcConfig{}
	idr := false
	for _, n := range nalus {
		switch n[0] & 0x1f {
		case naluSPS:
			if c.sps == nil {
				c.sps = n
			}
		case naluPPS:
			if c.pps == nil {
				c.pps = n
			}
		case naluIDR:
			idr = true
		}
	}
	switch {
	case !idr:
		return nil, errors.New("no IDR slice")
	case c.sps == nil || c.pps == nil:
		return nil, errors.New("no SPS or PPS before the IDR")
	case len(c.sps) > maxParamSet || len(c.pps) > maxParamSet || len(c.sps) < 4:
		return nil, errors.New("parameter set size out of range")
	}
	// Our own reader first: it checks the ranges mp4ff's parser trusts.
	if c.width, c.height, err = spsSize(c.sps); err != nil {
		return nil, err
	}
	if c.width <= 0 || c.height <= 0 || c.width > 8192 || c.height > 8192 {
		return nil, fmt.Errorf("picture size %dx%d out of range", c.width, c.height)
	}
	c.sps, c.pps = bytes.Clone(c.sps), bytes.Clone(c.pps)
	return c, nil
}

// sameParams reports whether an IDR access unit carries the parameter sets
// of c (or none: then those of c still hold).
func (c *avcConfig) sameParams(au []byte) bool {
	nalus, err := splitAnnexB(nil, au)
	if err != nil {
		return false
	}
	for _, n := range nalus {
		switch n[0] & 0x1f {
		case naluSPS:
			if !bytes.Equal(n, c.sps) {
				return false
			}
		case naluPPS:
			if !bytes.Equal(n, c.pps) {
				return false
			}
		}
	}
	return true
}

// toAVCC rewrites an Annex B access unit as an MP4 sample: each NAL unit
// behind a 4-byte length (ISO/IEC 14496-15 §5.3.2). Access unit delimiters
// are left out (they have no place in a sample, §5.3.2).
func toAVCC(dst []byte, au []byte) ([]byte, error) {
	nalus, err := splitAnnexB(nil, au)
	if err != nil {
		return nil, err
	}
	for _, n := range nalus {
		if n[0]&0x1f == naluAUD {
			continue
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(n)))
		dst = append(dst, n...)
	}
	if len(dst) == 0 {
		return nil, errors.New("empty access unit")
	}
	return dst, nil
}

// opusDuration is the audio an Opus packet holds (RFC 6716 §3.1: the TOC
// byte's configuration gives the frame size, its code the frame count);
// 20 ms when the packet does not say.
func opusDuration(p []byte) time.Duration {
	const fallback = 20 * time.Millisecond
	if len(p) == 0 {
		return fallback
	}
	cfg := p[0] >> 3
	var frame time.Duration
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]time.Duration{10, 20, 40, 60}[cfg&3] * time.Millisecond
	case cfg < 16: // Hybrid: 10, 20 ms
		frame = [2]time.Duration{10, 20}[cfg&1] * time.Millisecond
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]time.Duration{2500, 5000, 10000, 20000}[cfg&3] * time.Microsecond
	}
	n := 1
	switch p[0] & 3 {
	case 1, 2:
		n = 2
	case 3:
		if len(p) < 2 {
			return fallback
		}
		n = int(p[1] & 0x3f)
	}
	if d := frame * time.Duration(n); d > 0 && d <= 120*time.Millisecond {
		return d
	}
	return fallback
}
