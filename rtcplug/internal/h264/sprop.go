package h264

import (
	"encoding/base64"
	"errors"
	"strings"
)

// maxSprop bounds the parameter sets one sprop-parameter-sets value may
// list.
const maxSprop = 16

// ErrBadSprop is returned for a sprop-parameter-sets value that does not
// decode.
var ErrBadSprop = errors.New("h264: bad sprop-parameter-sets")

// ParseSprop decodes the value of a sprop-parameter-sets fmtp parameter
// (RFC 6184 §8.1): base64 NAL units separated by commas. Padding is
// optional, as some senders leave it out. Each NAL unit must be an SPS or
// PPS of at most MaxParamSet bytes.
func ParseSprop(v string) ([][]byte, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > maxSprop {
		return nil, ErrBadSprop
	}
	out := make([][]byte, 0, len(parts))
	for _, s := range parts {
		s = strings.TrimRight(strings.TrimSpace(s), "=")
		if len(s) == 0 || base64.RawStdEncoding.DecodedLen(len(s)) > MaxParamSet {
			return nil, ErrBadSprop
		}
		b, err := base64.RawStdEncoding.DecodeString(s)
		if err != nil || len(b) < 2 || b[0]&0x80 != 0 {
			return nil, ErrBadSprop
		}
		if t := NALType(b[0]); t != NALSPS && t != NALPPS {
			return nil, ErrBadSprop
		}
		out = append(out, b)
	}
	return out, nil
}

// FormatSprop writes NAL units as a sprop-parameter-sets value.
func FormatSprop(nals ...[]byte) string {
	parts := make([]string, len(nals))
	for i, n := range nals {
		parts[i] = base64.StdEncoding.EncodeToString(n)
	}
	return strings.Join(parts, ",")
}

// SplitAnnexB calls fn for every NAL unit of an Annex B byte stream
// (H.264 §B.1: each behind a three- or four-byte start code), without the
// start codes. It stops early when fn returns false.
func SplitAnnexB(b []byte, fn func(nal []byte) bool) {
	start := -1
	i := 0
	for i+2 < len(b) {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				for end > start && b[end-1] == 0 {
					end-- // trailing_zero_8bits and the zero_byte of the next start code
				}
				if end > start && !fn(b[start:end]) {
					return
				}
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		fn(b[start:])
	}
}
