package sdp

import (
	"errors"
	"strconv"
	"strings"
)

// What the server's offer uses. Video comes first with mid "0" so that the
// section every sender has is the BUNDLE-tagged one (RFC 8843 §7.2.1);
// audio, when enabled, follows with mid "1".
const (
	OfferVideoPT  = 96
	OfferAudioPT  = 111
	OfferVideoMid = "0"
	OfferAudioMid = "1"
	// opusFmtp: 10 ms minimum packet time and in-band FEC (RFC 7587 §6.1),
	// what browsers offer.
	opusFmtp = "minptime=10;useinbandfec=1"
	// rtpProto is RTP/AVPF over DTLS-SRTP over UDP (RFC 5764 §8).
	rtpProto = "UDP/TLS/RTP/SAVPF"
	// discardPort is the m= port when candidates carry the real addresses
	// (RFC 8829 §5.2.1).
	discardPort = "9"
)

// Feedback the server sends for video: NACK (RFC 4585 §6.2.1), PLI
// (RFC 4585 §6.3.1) and FIR (RFC 5104 §7.1). No REMB or transport-cc: the
// receiver does no bandwidth estimation.
var videoFeedback = [...]string{"nack", "nack pli", "ccm fir"}

// OfferParams is what BuildOffer needs. Credentials and fingerprint must be
// valid (see ValidCredentials and Fingerprint.Digest); BuildOffer cannot
// fail and writes them as given, minus line breaks.
type OfferParams struct {
	// SessionID is the o= session id; the top bit is cleared (RFC 8829
	// §5.2.1: it must fit a signed 64-bit integer).
	SessionID   uint64
	ICEUfrag    string
	ICEPwd      string
	Fingerprint Fingerprint // Algorithm "" means sha-256
	Candidates  []Candidate
	Audio       bool // add a recvonly opus section
	// VideoCodecs lists CodecVP8 and/or CodecH264 in order of preference
	// (the m= line's order); none means VP8 alone.
	VideoCodecs []string
}

// BuildOffer writes the server's offer: an ICE-lite (RFC 8445 §2.5),
// actpass (RFC 5763 §5), BUNDLE and rtcp-mux description with one recvonly
// VP8 video section (PT 96, mid "0") and, with Audio, one recvonly opus
// section (PT 111, mid "1"). Every section carries the credentials,
// fingerprint and candidates, followed by a=end-of-candidates: a lite agent
// knows all of its candidates up front.
func BuildOffer(p OfferParams) string {
	var w writer
	w.sessionHeader(p.SessionID)
	if p.Audio {
		w.line("a=group:BUNDLE ", OfferVideoMid, " ", OfferAudioMid)
	} else {
		w.line("a=group:BUNDLE ", OfferVideoMid)
	}
	// An empty WMS list: the server sends no streams (RFC 8830 §2 history).
	w.line("a=msid-semantic: WMS")

	t := transport{ufrag: p.ICEUfrag, pwd: p.ICEPwd, fp: p.Fingerprint, setup: SetupActPass, cands: p.Candidates}
	formats := offerFormats(p.VideoCodecs)
	ml := "m=video " + discardPort + " " + rtpProto
	for _, f := range formats {
		ml += " " + strconv.Itoa(int(f.PT))
	}
	w.line(ml)
	w.mediaHead(OfferVideoMid, &t, true, true, RecvOnly)
	for _, f := range formats {
		pt := strconv.Itoa(int(f.PT))
		w.line("a=rtpmap:", pt, " ", f.Codec, "/90000")
		for _, fb := range videoFeedback {
			w.line("a=rtcp-fb:", pt, " ", fb)
		}
		if f.Fmtp != "" {
			w.line("a=fmtp:", pt, " ", f.Fmtp)
		}
	}
	w.candidates(&t)

	if p.Audio {
		apt := strconv.Itoa(OfferAudioPT)
		w.line("m=audio ", discardPort, " ", rtpProto, " ", apt)
		w.mediaHead(OfferAudioMid, &t, true, true, RecvOnly)
		w.line("a=rtpmap:", apt, " opus/48000/2")
		w.line("a=fmtp:", apt, " ", opusFmtp)
		w.candidates(&t)
	}
	return string(w.b)
}

// AnswerParams is what BuildAnswer needs.
type AnswerParams struct {
	ICEUfrag    string
	ICEPwd      string
	Fingerprint Fingerprint // Algorithm "" means sha-256
	Candidates  []Candidate
	SessionID   uint64
	// RejectAudio answers an opus section with port 0 instead of accepting
	// it; the zero value accepts audio.
	RejectAudio bool
	// VideoCodecs lists the codecs the server takes, CodecVP8 and/or
	// CodecH264, in order of preference; none means VP8 alone.
	VideoCodecs []string
}

// Errors BuildAnswer returns for bad parameters (not the offer's fault).
var (
	ErrNilOffer         = errors.New("sdp: no offer")
	ErrLocalCredentials = errors.New("sdp: invalid local ICE credentials")
	ErrLocalFingerprint = errors.New("sdp: invalid local DTLS fingerprint")
)

// BuildAnswer answers a WHIP offer (RFC 9725 §4.2): every m= section of the
// offer, in order and with the same mid. The first video section with a
// codec of VideoCodecs is accepted with one payload type of the offer: the
// first codec of VideoCodecs it carries (H.264 in packetization mode 1 before
// mode 0), answered for H.264 with the offer's own profile-level-id and mode,
// and with the feedback the server supports (nack, nack pli, ccm fir) of
// those the offer lists; the first
// opus audio section is accepted likewise when it is bundled with the video
// (the server runs one transport). Every other section is rejected with port
// 0 (RFC 8829 §5.3.1). The server is ICE-lite, takes the DTLS role the
// offer leaves it (answerSetup), receives only (recvonly, or inactive where the offer does
// not send), and lists the accepted mids in a=group:BUNDLE when the offer
// bundles.
//
// Errors name the offer's problem (no video codec the server takes, no ICE
// credentials, no usable fingerprint, setup:holdconn) in the same words as
// Session.Remote.
func BuildAnswer(offer *Session, p AnswerParams) (string, error) {
	if offer == nil {
		return "", ErrNilOffer
	}
	if !ValidCredentials(p.ICEUfrag, p.ICEPwd) {
		return "", ErrLocalCredentials
	}
	fp := p.Fingerprint
	if fp.Algorithm == "" {
		fp.Algorithm = "sha-256"
	}
	if _, err := fp.Digest(); err != nil || !isToken(fp.Algorithm) {
		return "", ErrLocalFingerprint
	}
	r, vi, ai, err := offer.remote("offer", p.VideoCodecs, true)
	if err != nil {
		return "", err
	}
	setup, err := answerSetup(offer.Media[offer.transport(vi)].Setup)
	if err != nil {
		return "", err
	}
	group, bundled := offer.bundleOf(offer.Media[vi].Mid)
	if ai >= 0 && (p.RejectAudio || !bundled || !contains(group, offer.Media[ai].Mid)) {
		ai = -1
	}

	var w writer
	w.sessionHeader(p.SessionID)
	if bundled {
		b := []byte("a=group:BUNDLE")
		for _, mid := range group {
			if mid == offer.Media[vi].Mid || (ai >= 0 && mid == offer.Media[ai].Mid) {
				b = append(b, ' ')
				b = append(b, mid...)
			}
		}
		w.line(string(b))
	}
	t := transport{ufrag: p.ICEUfrag, pwd: p.ICEPwd, fp: fp, setup: setup, cands: p.Candidates}
	for i := range offer.Media {
		m := &offer.Media[i]
		switch i {
		case vi:
			pl, _ := m.Payload(r.VideoPT)
			fmtp := ""
			if r.VideoCodec == CodecH264 {
				fmtp = h264AnswerFmtp(pl.Fmtp)
			}
			w.answerMedia(m, &t, pl, r.VideoCodec, vp8ClockRate, 0, fmtp)
		case ai:
			pl, _ := m.Codec(opusName, opusClockRate, opusChannels)
			w.answerMedia(m, &t, pl, opusName, opusClockRate, opusChannels, opusFmtp)
		default:
			// Kind, proto and formats were checked as tokens by Parse, so
			// echoing them cannot break the line structure.
			w.line("m=", m.Kind, " 0 ", m.Proto, " ", strings.Join(m.Formats, " "))
			w.line("c=IN IP4 0.0.0.0")
			if m.Mid != "" {
				w.line("a=mid:", m.Mid)
			}
		}
	}
	return string(w.b), nil
}

func (w *writer) answerMedia(m *Media, t *transport, pl *Payload, name string, rate, chans int, fmtp string) {
	pt := strconv.Itoa(int(pl.Type))
	w.line("m=", m.Kind, " ", discardPort, " ", m.Proto, " ", pt)
	dir := RecvOnly
	if m.Direction != SendOnly && m.Direction != SendRecv {
		dir = Inactive
	}
	w.mediaHead(m.Mid, t, m.RTCPMux, m.RTCPRsize, dir)
	rtpmap := name + "/" + strconv.Itoa(rate)
	if chans != 0 {
		rtpmap += "/" + strconv.Itoa(chans)
	}
	w.line("a=rtpmap:", pt, " ", rtpmap)
	if fmtp != "" {
		w.line("a=fmtp:", pt, " ", fmtp)
	}
	if m.Kind == KindVideo {
		offered := m.Feedback(pl.Type)
		for _, fb := range videoFeedback {
			for _, o := range offered {
				if equalFold(strings.Join(strings.Fields(o), " "), fb) {
					w.line("a=rtcp-fb:", pt, " ", fb)
					break
				}
			}
		}
	}
	w.candidates(t)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// transport is what every section the server accepts repeats.
type transport struct {
	ufrag, pwd string
	fp         Fingerprint
	setup      string
	cands      []Candidate
}

// writer appends CRLF-terminated lines (RFC 8866 §5).
type writer struct{ b []byte }

// line appends the parts and CRLF, dropping CR, LF and NUL from the parts
// so that no value can start a line of its own.
func (w *writer) line(parts ...string) {
	for _, s := range parts {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c != '\r' && c != '\n' && c != 0 {
				w.b = append(w.b, c)
			}
		}
	}
	w.b = append(w.b, '\r', '\n')
}

func (w *writer) sessionHeader(id uint64) {
	w.b = make([]byte, 0, 2048)
	w.line("v=0")
	w.line("o=- ", strconv.FormatUint(id&(1<<63-1), 10), " 2 IN IP4 127.0.0.1")
	w.line("s=-")
	w.line("t=0 0")
	w.line("a=ice-lite")
}

func (w *writer) mediaHead(mid string, t *transport, mux, rsize bool, dir string) {
	w.line("c=IN IP4 0.0.0.0")
	if mid != "" {
		w.line("a=mid:", mid)
	}
	w.line("a=ice-ufrag:", t.ufrag)
	w.line("a=ice-pwd:", t.pwd)
	alg := strings.ToLower(sanitizeToken(t.fp.Algorithm))
	if alg == "" {
		alg = "sha-256"
	}
	w.line("a=fingerprint:", alg, " ", t.fp.Value)
	w.line("a=setup:", t.setup)
	if mux {
		w.line("a=rtcp-mux")
	}
	if rsize {
		w.line("a=rtcp-rsize")
	}
	w.line("a=", dir)
}

func (w *writer) candidates(t *transport) {
	for _, c := range t.cands {
		w.b = append(w.b, "a=candidate:"...)
		w.b = c.AppendTo(w.b)
		w.b = append(w.b, '\r', '\n')
	}
	w.line("a=end-of-candidates")
}

// answerSetup is our a=setup for an offer's (RFC 5763 §5, RFC 8842 §5.2):
// to actpass, active or nothing (RFC 8842 §5.3 reads a missing one as
// active) we answer passive and are the DTLS server, as browsers expect of
// an ICE-lite answerer; to passive we answer active and are the client.
// holdconn opens no connection.
func answerSetup(offered string) (string, error) {
	switch offered {
	case SetupPassive:
		return SetupActive, nil
	case SetupHoldConn:
		return "", &descError{role: "offer", reason: ErrSetupConflict}
	}
	return SetupPassive, nil
}
