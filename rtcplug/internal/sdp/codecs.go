package sdp

import (
	"strconv"
	"strings"
)

// Video codecs the server receives, by the names hosts use to choose them.
const (
	CodecVP8  = "VP8"  // RFC 7741
	CodecH264 = "H264" // RFC 6184, packetization modes 0 and 1
)

// ValidCodec reports whether name is a video codec the server receives.
func ValidCodec(name string) bool { return name == CodecVP8 || name == CodecH264 }

// codecsOr returns codecs, or VP8 alone when it is empty (what the server
// received before H.264 existed; hosts choose through their options).
func codecsOr(codecs []string) []string {
	if len(codecs) == 0 {
		return []string{CodecVP8}
	}
	return codecs
}

// H.264 payload formats of the server's offer: packetization mode 1 for
// constrained baseline (RFC 7742 §6.2 makes 42e01f mandatory), baseline,
// main and high, then constrained baseline in mode 0. Each level 3.1;
// level-asymmetry-allowed lets a sender use a higher one (RFC 6184 §8.1).
var offerH264 = [...]struct {
	pt   uint8
	fmtp string
}{
	{102, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
	{104, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"},
	{106, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"},
	{108, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f"},
	{127, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"},
}

// offerFormats lists the video formats of the server's offer for codecs,
// in order.
func offerFormats(codecs []string) []VideoFormat {
	var out []VideoFormat
	for _, c := range codecsOr(codecs) {
		switch c {
		case CodecVP8:
			out = append(out, VideoFormat{OfferVideoPT, CodecVP8, ""})
		case CodecH264:
			for _, h := range offerH264 {
				out = append(out, VideoFormat{h.pt, CodecH264, h.fmtp})
			}
		}
	}
	return out
}

// FmtpParam returns the value of parameter name in an a=fmtp parameter
// string ("a=1;b=2"), names compared case-insensitively (RFC 6184 §8.1
// media type parameters are case-insensitive).
func FmtpParam(fmtp, name string) (string, bool) {
	for _, kv := range strings.Split(fmtp, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if equalFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// H.264 profile_idc values the server accepts (ITU-T H.264 Annex A): the
// profiles cameras, browsers and encoders send. Extended, the High 10/4:2:2/
// 4:4:4 profiles and SVC/MVC are not for a receiver that decodes keyframes.
const (
	profileBaseline = 0x42
	profileMain     = 0x4d
	profileHigh     = 0x64
	// maxLevel is level 5.2, the highest of H.264 before 8K levels.
	maxLevel = 52
)

// h264Mode returns the packetization mode of an H.264 payload format and
// whether the server can receive it: mode 0 or 1 (RFC 6184 §6.2, §6.3;
// absent means 0), and a profile-level-id (absent means 42000a, baseline
// level 1.0, §8.1) naming a profile listed above.
func h264Mode(fmtp string) (int, bool) {
	mode := 0
	if v, ok := FmtpParam(fmtp, "packetization-mode"); ok {
		switch v {
		case "0":
		case "1":
			mode = 1
		default:
			return 0, false // 2, interleaved: STAP-B, MTAP and FU-B
		}
	}
	if v, ok := FmtpParam(fmtp, "profile-level-id"); ok {
		profile, level, ok := parseProfileLevelID(v)
		if !ok || level > maxLevel {
			return 0, false
		}
		switch profile {
		case profileBaseline, profileMain, profileHigh:
		default:
			return 0, false
		}
	}
	return mode, true
}

// parseProfileLevelID reads the three hex bytes profile_idc,
// profile-iop (constraint flags) and level_idc (RFC 6184 §8.1).
func parseProfileLevelID(v string) (profile, level uint8, ok bool) {
	if len(v) != 6 {
		return 0, 0, false
	}
	n, err := strconv.ParseUint(v, 16, 32)
	if err != nil {
		return 0, 0, false
	}
	return uint8(n >> 16), uint8(n), true
}

// acceptable reports whether payload p is codec as the server receives it.
func acceptable(p *Payload, codec string) bool {
	if p.ClockRate != vp8ClockRate { // H.264 too: RFC 6184 §8.1
		return false
	}
	switch codec {
	case CodecVP8:
		return equalFold(p.Name, vp8Name)
	case CodecH264:
		if !equalFold(p.Name, "H264") {
			return false
		}
		_, ok := h264Mode(p.Fmtp)
		return ok
	}
	return false
}

// pickVideo chooses the payload of video section m that the server receives
// and its codec. byPreference (a WHIP offer: the server answers) walks
// codecs in order, and prefers H.264 packetization mode 1 to mode 0;
// otherwise (an answer: the sender has chosen) the section's own order wins.
func pickVideo(m *Media, codecs []string, byPreference bool) (*Payload, string, bool) {
	if !byPreference {
		for i := range m.Payloads {
			for _, c := range codecs {
				if acceptable(&m.Payloads[i], c) {
					return &m.Payloads[i], c, true
				}
			}
		}
		return nil, "", false
	}
	for _, c := range codecs {
		var fallback *Payload
		for i := range m.Payloads {
			p := &m.Payloads[i]
			if !acceptable(p, c) {
				continue
			}
			if c == CodecH264 {
				if mode, _ := h264Mode(p.Fmtp); mode == 0 {
					if fallback == nil {
						fallback = p
					}
					continue
				}
			}
			return p, c, true
		}
		if fallback != nil {
			return fallback, c, true
		}
	}
	return nil, "", false
}

// h264AnswerFmtp answers an offered H.264 format (RFC 6184 §8.2.2): the same
// packetization mode and the offer's own profile-level-id, since the server
// receives every profile it accepts at any level; level asymmetry allowed.
func h264AnswerFmtp(offer string) string {
	s := "level-asymmetry-allowed=1"
	if v, ok := FmtpParam(offer, "packetization-mode"); ok {
		s += ";packetization-mode=" + v
	}
	if v, ok := FmtpParam(offer, "profile-level-id"); ok {
		s += ";profile-level-id=" + strings.ToLower(v)
	}
	return s
}

// firOnly reports whether the feedback list has "ccm fir" but not
// "nack pli": the sender can only be asked for a keyframe with a FIR
// (RFC 5104 §4.3.1).
func firOnly(fb []string) bool {
	fir, pli := false, false
	for _, f := range fb {
		switch strings.ToLower(strings.Join(strings.Fields(f), " ")) {
		case "ccm fir":
			fir = true
		case "nack pli":
			pli = true
		}
	}
	return fir && !pli
}
