package sdp

import (
	"errors"
	"slices"
	"strings"
)

// Reasons a peer's description is refused. The errors returned by Remote and
// BuildAnswer wrap these (errors.Is works) and read as whole sentences, for
// example "sdp: answer has no ICE credentials"; they are meant to be shown
// to the user whose browser or encoder sent the description.
var (
	ErrNoICECredentials  = errors.New("has no ICE credentials")
	ErrBadICECredentials = errors.New("has invalid ICE credentials")
	ErrNoFingerprint     = errors.New("has no DTLS fingerprint")
	// ErrNoVideoCodec: no live video section with a codec the server was
	// asked to receive (VP8 and/or H.264 in a mode and profile it takes).
	ErrNoVideoCodec = errors.New("has no video codec the server accepts")
	// ErrNoVP8 is the old name of ErrNoVideoCodec.
	ErrNoVP8         = ErrNoVideoCodec
	ErrSetupConflict = errors.New("has a=setup:holdconn, which opens no DTLS connection")
	ErrAllInactive   = errors.New("has every media section inactive: nothing can flow")
)

// descError names which description (offer or answer) failed and why.
type descError struct {
	role   string
	reason error
	detail string
}

func (e *descError) Error() string {
	s := "sdp: " + e.role + " " + e.reason.Error()
	if e.detail != "" {
		s += " (" + e.detail + ")"
	}
	return s
}

func (e *descError) Unwrap() error { return e.reason }

// ICE credential lengths (RFC 8839 §5.4): ice-ufrag 4-256 ice-chars,
// ice-pwd 22-256 ice-chars.
const (
	minUfragLen = 4
	minPwdLen   = 22
	maxCredLen  = 256
)

// Codecs the server receives.
const (
	vp8Name       = "VP8"
	vp8ClockRate  = 90000
	opusName      = "opus"
	opusClockRate = 48000
	opusChannels  = 2 // RFC 7587 §7: always "opus/48000/2"
)

// Remote is what the server needs from the peer's description, checked.
type Remote struct {
	ICEUfrag, ICEPwd string
	// Fingerprints are those with a hash the server accepts (sha-256,
	// sha-384, sha-512) and a well-formed value; at least one.
	Fingerprints []Fingerprint
	// Setup is the peer's DTLS role, lower-cased, "" when absent; the caller
	// decides what a missing or conflicting role means for it.
	Setup   string
	VideoPT uint8
	// VideoCodec is CodecVP8 or CodecH264, the codec of VideoPT.
	VideoCodec string
	// VideoFmtp is the a=fmtp of VideoPT as the peer wrote it (for H.264
	// its sprop-parameter-sets, RFC 6184 §8.1).
	VideoFmtp string
	// VideoFIROnly is set when the peer takes "ccm fir" but not "nack pli"
	// for VideoPT: keyframes are asked for with FIR (RFC 5104 §4.3.1).
	VideoFIROnly bool
	// VideoFormats are all the payload types of the video section the
	// server can receive, VideoPT first (at most MaxVideoFormats). An
	// answer may list several and its sender may use any of them (RFC 3264
	// §5.1); in a WHIP answer the server lists only VideoPT.
	VideoFormats []VideoFormat
	AudioPT      uint8 // 0 = no opus audio
	VideoMid     string
	AudioMid     string // "" when there is no audio
}

// VideoFormat is one video payload type the server can receive.
type VideoFormat struct {
	PT    uint8
	Codec string // CodecVP8 or CodecH264
	Fmtp  string
}

// MaxVideoFormats bounds Remote.VideoFormats.
const MaxVideoFormats = 16

// Remote extracts and validates what the server needs from the client's
// answer: ICE credentials, a usable DTLS fingerprint, the VP8 video section
// and, optionally, an opus audio section. Errors read "sdp: answer ...".
// It is RemoteAnswer(nil).
func (s *Session) Remote() (Remote, error) { return s.RemoteAnswer(nil) }

// RemoteAnswer is Remote for an answer to the server's offer, built by
// BuildOffer with the same video codecs (CodecVP8, CodecH264; none means
// VP8): the video payload is the first in the answer's order of those
// codecs, the one the sender should use. VideoFormats has the answer's
// formats, then those of the offer the answer left out: Chromium sends the
// offer's first format it supports even when its answer, narrowed with
// setCodecPreferences, does not list it, and what the server offered it can
// always receive.
func (s *Session) RemoteAnswer(codecs []string) (Remote, error) {
	r, _, _, err := s.remote("answer", codecs, false)
	if err != nil {
		return r, err
	}
	for _, f := range offerFormats(codecs) {
		if len(r.VideoFormats) >= MaxVideoFormats {
			break
		}
		if f.PT != r.AudioPT && !slices.ContainsFunc(r.VideoFormats, func(v VideoFormat) bool { return v.PT == f.PT }) {
			r.VideoFormats = append(r.VideoFormats, f)
		}
	}
	return r, nil
}

// RemoteOffer is the same for a sender's offer (WHIP), choosing the video
// codec as BuildAnswer does: the first of codecs (in that order of
// preference) the offer carries. Errors read "sdp: offer ...".
func (s *Session) RemoteOffer(codecs []string) (Remote, error) {
	r, _, _, err := s.remote("offer", codecs, true)
	return r, err
}

// remote returns the checked Remote and the indices of the chosen video and
// audio sections (-1 for no audio).
func (s *Session) remote(role string, codecs []string, byPreference bool) (Remote, int, int, error) {
	codecs = codecsOr(codecs)
	vi := -1
	var r Remote
	for i := range s.Media {
		m := &s.Media[i]
		if m.Kind != KindVideo || !m.live() || !dtlsSRTP(m.Proto) {
			continue
		}
		if p, c, ok := pickVideo(m, codecs, byPreference); ok {
			vi, r.VideoPT, r.VideoMid = i, p.Type, m.Mid
			r.VideoCodec, r.VideoFmtp = c, p.Fmtp
			r.VideoFIROnly = firOnly(m.Feedback(p.Type))
			r.VideoFormats = append(r.VideoFormats, VideoFormat{p.Type, c, p.Fmtp})
			if !byPreference {
				r.VideoFormats = otherFormats(r.VideoFormats, m, codecs)
			}
			break
		}
	}
	if vi < 0 {
		return Remote{}, -1, -1, &descError{role: role, reason: ErrNoVideoCodec, detail: strings.Join(codecs, ", ")}
	}
	ai := -1
	for i := range s.Media {
		m := &s.Media[i]
		if m.Kind != KindAudio || !m.live() || !dtlsSRTP(m.Proto) {
			continue
		}
		// PT 0 would read as "no audio", and a PT shared with video could
		// not be told apart on a bundled transport (RFC 8843 §9.1).
		if p, ok := m.Codec(opusName, opusClockRate, opusChannels); ok && p.Type != 0 && p.Type != r.VideoPT {
			ai, r.AudioPT, r.AudioMid = i, p.Type, m.Mid
			break
		}
	}
	// A payload type cannot be both (RFC 8843 §9.1); audio keeps its own.
	r.VideoFormats = slices.DeleteFunc(r.VideoFormats, func(f VideoFormat) bool { return r.AudioPT != 0 && f.PT == r.AudioPT })

	// An answer that turns everything off can never carry media; an offer
	// is answered inactive where it does not send (BuildAnswer).
	if role == "answer" && s.allInactive() {
		return Remote{}, -1, -1, &descError{role: role, reason: ErrAllInactive}
	}
	t := &s.Media[s.transport(vi)]
	if t.ICEUfrag == "" || t.ICEPwd == "" {
		return Remote{}, -1, -1, &descError{role: role, reason: ErrNoICECredentials}
	}
	if err := checkCredentials(t.ICEUfrag, t.ICEPwd); err != "" {
		return Remote{}, -1, -1, &descError{role: role, reason: ErrBadICECredentials, detail: err}
	}
	r.ICEUfrag, r.ICEPwd = t.ICEUfrag, t.ICEPwd
	for _, f := range t.Fingerprints {
		if !strongHash(f.Algorithm) {
			continue
		}
		if _, err := f.Digest(); err == nil {
			r.Fingerprints = append(r.Fingerprints, f)
		}
	}
	if len(r.Fingerprints) == 0 {
		return Remote{}, -1, -1, &descError{role: role, reason: ErrNoFingerprint}
	}
	r.Setup = t.Setup
	return r, vi, ai, nil
}

// otherFormats appends the section's other receivable payload types to
// formats (which holds the chosen one), in the section's order.
func otherFormats(formats []VideoFormat, m *Media, codecs []string) []VideoFormat {
	for i := range m.Payloads {
		p := &m.Payloads[i]
		if len(formats) >= MaxVideoFormats {
			break
		}
		if p.Type == formats[0].PT {
			continue
		}
		for _, c := range codecs {
			if acceptable(p, c) {
				formats = append(formats, VideoFormat{p.Type, c, p.Fmtp})
				break
			}
		}
	}
	return formats
}

// transport returns the index of the section whose ICE and DTLS attributes
// govern section i: with BUNDLE, the first live section named in i's group
// (the tagged section, RFC 8843 §7.2.1 and §7.3.1); otherwise i itself.
func (s *Session) transport(i int) int {
	g, ok := s.bundleOf(s.Media[i].Mid)
	if !ok {
		return i
	}
	for _, mid := range g {
		for j := range s.Media {
			if s.Media[j].Mid == mid && s.Media[j].live() {
				return j
			}
		}
	}
	return i
}

// bundleOf returns the BUNDLE group that lists mid.
func (s *Session) bundleOf(mid string) ([]string, bool) {
	if mid == "" {
		return nil, false
	}
	for _, g := range s.Groups {
		if g.Semantics != "BUNDLE" {
			continue
		}
		for _, m := range g.Mids {
			if m == mid {
				return g.Mids, true
			}
		}
	}
	return nil, false
}

// dtlsSRTP reports whether a section's protocol is RTP over DTLS-SRTP on
// UDP (RFC 5764 §8), the only transport the server runs.
func dtlsSRTP(proto string) bool {
	return strings.EqualFold(proto, "UDP/TLS/RTP/SAVPF") || strings.EqualFold(proto, "UDP/TLS/RTP/SAVP")
}

// checkCredentials checks RFC 8839 §5.4 lengths and characters and returns
// a description of the first problem, "" when they are valid.
func checkCredentials(ufrag, pwd string) string {
	switch {
	case len(ufrag) < minUfragLen || len(ufrag) > maxCredLen:
		return "ice-ufrag must be 4 to 256 characters"
	case !isICEChars(ufrag):
		return "ice-ufrag may only contain letters, digits, '+' and '/'"
	case len(pwd) < minPwdLen || len(pwd) > maxCredLen:
		return "ice-pwd must be 22 to 256 characters"
	case !isICEChars(pwd):
		return "ice-pwd may only contain letters, digits, '+' and '/'"
	}
	return ""
}

// ValidCredentials reports whether ufrag and pwd are valid ICE credentials
// (RFC 8839 §5.4).
func ValidCredentials(ufrag, pwd string) bool { return checkCredentials(ufrag, pwd) == "" }

// allInactive reports whether every section in use is a=inactive (RFC 8866
// §6.7.4, RFC 3264 §6.1): no media can ever flow either way.
func (s *Session) allInactive() bool {
	for i := range s.Media {
		if s.Media[i].live() && s.Media[i].Direction != Inactive {
			return false
		}
	}
	return true
}
