package sdp

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const serverFingerprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"

func testCandidates() []Candidate {
	return []Candidate{
		{Foundation: "1", Component: 1, Protocol: "udp", Priority: 2130706431, Addr: netip.MustParseAddrPort("127.0.0.1:15000"), Type: CandidateHost},
		{Foundation: "2", Component: 1, Protocol: "udp", Priority: 2130706175, Addr: netip.MustParseAddrPort("[::1]:15000"), Type: CandidateHost},
		{Foundation: "3", Component: 1, Protocol: "udp", Priority: 1694498815, Addr: netip.MustParseAddrPort("203.0.113.9:15000"),
			Type: CandidateSrflx, Related: netip.MustParseAddrPort("127.0.0.1:15000")},
	}
}

func testOfferParams(audio bool) OfferParams {
	return OfferParams{
		SessionID:   1<<63 | 42, // the top bit must be cleared
		ICEUfrag:    "srvU",
		ICEPwd:      "abcdefghijklmnopqrstuv+/",
		Fingerprint: Fingerprint{Algorithm: "sha-256", Value: serverFingerprint},
		Candidates:  testCandidates(),
		Audio:       audio,
	}
}

func testAnswerParams() AnswerParams {
	return AnswerParams{
		ICEUfrag:    "whipUfrag",
		ICEPwd:      "0123456789ABCDEFGHIJKLmn",
		Fingerprint: Fingerprint{Algorithm: "sha-256", Value: serverFingerprint},
		Candidates:  testCandidates(),
		SessionID:   7,
	}
}

func TestBuildOfferRoundTrip(t *testing.T) {
	for _, audio := range []bool{false, true} {
		p := testOfferParams(audio)
		out := BuildOffer(p)
		if !strings.HasPrefix(out, "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n") {
			t.Errorf("header:\n%s", out)
		}
		if strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") || !strings.HasSuffix(out, "\r\n") {
			t.Error("lines must end in CRLF")
		}
		if strings.Contains(out, "ice-options") || strings.Contains(out, "goog-remb") {
			t.Errorf("unexpected attribute:\n%s", out)
		}
		s, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(BuildOffer): %v\n%s", err, out)
		}
		wantMids := []string{"0"}
		if audio {
			wantMids = []string{"0", "1"}
		}
		if !s.ICELite || !slices.Equal(s.Bundle(), wantMids) || s.MsidSemantic != "WMS" || len(s.Media) != len(wantMids) {
			t.Fatalf("session %+v", s)
		}
		if len(s.Unknown) != 0 {
			t.Errorf("session unknown %q", s.Unknown)
		}
		for i, m := range s.Media {
			if m.Mid != wantMids[i] || m.Port != 9 || m.Proto != "UDP/TLS/RTP/SAVPF" || m.Connection != "IN IP4 0.0.0.0" {
				t.Errorf("section %d: %+v", i, m)
			}
			if m.ICEUfrag != p.ICEUfrag || m.ICEPwd != p.ICEPwd || !reflect.DeepEqual(m.Fingerprints, []Fingerprint{p.Fingerprint}) {
				t.Errorf("section %d transport: %q %q %+v", i, m.ICEUfrag, m.ICEPwd, m.Fingerprints)
			}
			if m.Setup != SetupActPass || m.Direction != RecvOnly || !m.RTCPMux || !m.RTCPRsize || m.ICEOptions != nil {
				t.Errorf("section %d: setup %q dir %q mux %v rsize %v", i, m.Setup, m.Direction, m.RTCPMux, m.RTCPRsize)
			}
			if !reflect.DeepEqual(m.Candidates, p.Candidates) || !m.EndOfCandidates || len(m.UnparsedCandidates) != 0 {
				t.Errorf("section %d candidates %+v", i, m.Candidates)
			}
			if len(m.Unknown) != 0 {
				t.Errorf("section %d unknown %q", i, m.Unknown)
			}
		}
		v := s.Media[0]
		want := []Payload{{Type: 96, Name: "VP8", ClockRate: 90000, RTCPFB: []string{"nack", "nack pli", "ccm fir"}}}
		if v.Kind != KindVideo || !reflect.DeepEqual(v.Payloads, want) {
			t.Errorf("video %+v", v.Payloads)
		}
		if audio {
			a := s.Media[1]
			want := []Payload{{Type: 111, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1"}}
			if a.Kind != KindAudio || !reflect.DeepEqual(a.Payloads, want) {
				t.Errorf("audio %+v", a.Payloads)
			}
		}
		// Our own offer, read as a peer's description, satisfies Remote.
		r, err := s.Remote()
		if err != nil {
			t.Fatal(err)
		}
		if r.VideoPT != OfferVideoPT || r.VideoMid != OfferVideoMid || r.ICEUfrag != p.ICEUfrag {
			t.Errorf("Remote = %+v", r)
		}
		if audio && (r.AudioPT != OfferAudioPT || r.AudioMid != OfferAudioMid) || !audio && (r.AudioPT != 0 || r.AudioMid != "") {
			t.Errorf("Remote audio = %d %q", r.AudioPT, r.AudioMid)
		}
	}
}

func TestBuildOfferSanitizes(t *testing.T) {
	p := testOfferParams(false)
	p.ICEUfrag = "ab\r\na=evil:1\r\n"
	p.Fingerprint.Algorithm = "SHA-256\n"
	out := BuildOffer(p)
	s, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Media[0].Unknown) != 0 || s.Media[0].ICEUfrag != "aba=evil:1" || s.Media[0].Fingerprints[0].Algorithm != "sha-256" {
		t.Errorf("%+v", s.Media[0])
	}
}

func TestRemotePionAnswer(t *testing.T) {
	s, err := Parse(readTestdata(t, "pion-answer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Remote()
	if err != nil {
		t.Fatal(err)
	}
	want := Remote{
		ICEUfrag: "wxwEaKUYrnfdHCnY", ICEPwd: "GMqhsyrIRToHXKgsHPecZvbokKQUzzRX",
		Fingerprints: []Fingerprint{{Algorithm: "sha-256", Value: pionFingerprint}},
		Setup:        SetupPassive, VideoPT: 96, AudioPT: 111, VideoMid: "1", AudioMid: "0",
		VideoCodec: CodecVP8, VideoFormats: []VideoFormat{{96, CodecVP8, ""}},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("Remote =\n%+v\nwant\n%+v", r, want)
	}
}

func TestRemoteChromiumOffer(t *testing.T) {
	s, err := Parse(readTestdata(t, "chromium156-offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Remote()
	if err != nil {
		t.Fatal(err)
	}
	if r.ICEUfrag != "847+" || r.VideoPT != 96 || r.AudioPT != 111 || r.VideoMid != "1" || r.AudioMid != "0" || r.Setup != SetupActPass {
		t.Errorf("Remote = %+v", r)
	}
}

// answerSDP is a minimal valid answer to our offer; tests break one part.
const answerSDP = "v=0\r\n" +
	"o=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 100\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=mid:0\r\n" +
	"a=ice-ufrag:ABCD\r\n" +
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=fingerprint:sha-256 " + chromiumFingerprint + "\r\n" +
	"a=setup:active\r\n" +
	"a=sendonly\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtpmap:100 VP8/90000\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 109\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=mid:1\r\n" +
	"a=ice-ufrag:ABCD\r\n" +
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=fingerprint:sha-256 " + chromiumFingerprint + "\r\n" +
	"a=setup:active\r\n" +
	"a=sendonly\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtpmap:109 opus/48000/2\r\n"

func TestRemoteErrors(t *testing.T) {
	s, err := Parse(answerSDP)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Remote()
	if err != nil || r.VideoPT != 100 || r.AudioPT != 109 || r.Setup != SetupActive || r.VideoMid != "0" || r.AudioMid != "1" {
		t.Fatalf("baseline: %+v %v", r, err)
	}
	for _, tc := range []struct {
		name     string
		old, new string
		want     error
		msg      string
	}{
		{"no ufrag", "a=ice-ufrag:ABCD\r\n", "", ErrNoICECredentials, "sdp: answer has no ICE credentials"},
		{"no pwd", "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n", "", ErrNoICECredentials, "sdp: answer has no ICE credentials"},
		{"short ufrag", "a=ice-ufrag:ABCD\r\n", "a=ice-ufrag:ABC\r\n", ErrBadICECredentials, "sdp: answer has invalid ICE credentials (ice-ufrag must be 4 to 256 characters)"},
		{"long ufrag", "a=ice-ufrag:ABCD\r\n", "a=ice-ufrag:" + strings.Repeat("A", 257) + "\r\n", ErrBadICECredentials, ""},
		{"ufrag chars", "a=ice-ufrag:ABCD\r\n", "a=ice-ufrag:AB-CD\r\n", ErrBadICECredentials, ""},
		{"short pwd", "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n", "a=ice-pwd:abcdefghijklmnopqrstu\r\n", ErrBadICECredentials, "sdp: answer has invalid ICE credentials (ice-pwd must be 22 to 256 characters)"},
		{"pwd chars", "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n", "a=ice-pwd:abcdefghijklmnopqrstuvw=\r\n", ErrBadICECredentials, ""},
		{"no fingerprint", "a=fingerprint:sha-256 " + chromiumFingerprint + "\r\n", "", ErrNoFingerprint, "sdp: answer has no DTLS fingerprint"},
		{"sha-1 only", "a=fingerprint:sha-256 " + chromiumFingerprint + "\r\n", "a=fingerprint:sha-1 " + chromiumFingerprint[:59] + "\r\n", ErrNoFingerprint, ""},
		{"bad fingerprint", "a=fingerprint:sha-256 " + chromiumFingerprint + "\r\n", "a=fingerprint:sha-256 " + chromiumFingerprint[:59] + "\r\n", ErrNoFingerprint, ""},
		{"no VP8", "a=rtpmap:100 VP8/90000\r\n", "a=rtpmap:100 H264/90000\r\n", ErrNoVP8, "sdp: answer has no video codec the server accepts (VP8)"},
		{"VP8 wrong clock", "a=rtpmap:100 VP8/90000\r\n", "a=rtpmap:100 VP8/8000\r\n", ErrNoVP8, ""},
		{"video rejected", "m=video 9 ", "m=video 0 ", ErrNoVP8, ""},
		{"video not SRTP", "m=video 9 UDP/TLS/RTP/SAVPF", "m=video 9 RTP/AVP", ErrNoVP8, ""},
		{"VP8 in audio", "m=video 9", "m=audio 9", ErrNoVP8, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(answerSDP, tc.old, tc.new, 1)
			if in == answerSDP {
				t.Fatal("test does not change the answer")
			}
			s, err := Parse(in)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Remote()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Remote error %v, want %v", err, tc.want)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("message %q, want %q", err.Error(), tc.msg)
			}
		})
	}
}

func TestRemoteVariants(t *testing.T) {
	// No audio, or opus with the wrong channel count: audio is optional.
	for _, in := range []string{
		strings.Replace(answerSDP, "a=rtpmap:109 opus/48000/2", "a=rtpmap:109 opus/48000", 1),
		strings.Replace(answerSDP, "m=audio 9 ", "m=audio 0 ", 1),
		answerSDP[:strings.Index(answerSDP, "m=audio")],
	} {
		s, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Remote()
		if err != nil || r.AudioPT != 0 || r.AudioMid != "" || r.VideoPT != 100 {
			t.Errorf("Remote = %+v, %v", r, err)
		}
	}
	// Session-level credentials and fingerprint are inherited; several
	// fingerprints keep those with a strong hash.
	in := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"a=ice-ufrag:ABCD\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
		"a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:00:11:22:33:44:55:66:77:88:99\r\n" +
		"a=fingerprint:SHA-256 " + chromiumFingerprint + "\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 vp8/90000\r\n"
	s, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Remote()
	if err != nil || r.ICEUfrag != "ABCD" || len(r.Fingerprints) != 1 || r.Fingerprints[0].Algorithm != "sha-256" || r.VideoMid != "" || r.Setup != "" {
		t.Errorf("Remote = %+v, %v", r, err)
	}
	// With BUNDLE, the transport is the tagged (first) section's.
	in = strings.Replace(answerSDP, "a=group:BUNDLE 0 1", "a=group:BUNDLE 1 0", 1)
	in = strings.Replace(in, "a=mid:1\r\na=ice-ufrag:ABCD", "a=mid:1\r\na=ice-ufrag:WXYZ", 1)
	if s, err = Parse(in); err != nil {
		t.Fatal(err)
	}
	if r, err = s.Remote(); err != nil || r.ICEUfrag != "WXYZ" {
		t.Errorf("Remote = %+v, %v", r, err)
	}
}

func TestBuildAnswerChromiumOffer(t *testing.T) {
	offer, err := Parse(readTestdata(t, "chromium156-offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	p := testAnswerParams()
	out, err := BuildAnswer(offer, p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(answer): %v\n%s", err, out)
	}
	if !s.ICELite || !slices.Equal(s.Bundle(), []string{"0", "1"}) || len(s.Media) != len(offer.Media) {
		t.Fatalf("answer:\n%s", out)
	}
	for i, m := range s.Media {
		o := offer.Media[i]
		if m.Mid != o.Mid || m.Kind != o.Kind || m.Port != 9 {
			t.Errorf("section %d: mid %q kind %q port %d", i, m.Mid, m.Kind, m.Port)
		}
		if m.Setup != SetupPassive || m.Direction != RecvOnly || !m.RTCPMux || !m.RTCPRsize {
			t.Errorf("section %d: setup %q dir %q", i, m.Setup, m.Direction)
		}
		if m.ICEUfrag != p.ICEUfrag || m.ICEPwd != p.ICEPwd || !reflect.DeepEqual(m.Fingerprints, []Fingerprint{p.Fingerprint}) ||
			!reflect.DeepEqual(m.Candidates, p.Candidates) || !m.EndOfCandidates {
			t.Errorf("section %d transport %+v", i, m)
		}
	}
	a, v := s.Media[0], s.Media[1]
	if !reflect.DeepEqual(a.Payloads, []Payload{{Type: 111, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1"}}) {
		t.Errorf("audio %+v", a.Payloads)
	}
	if !reflect.DeepEqual(v.Payloads, []Payload{{Type: 96, Name: "VP8", ClockRate: 90000, RTCPFB: []string{"nack", "nack pli", "ccm fir"}}}) {
		t.Errorf("video %+v", v.Payloads)
	}
	// The answer is a valid remote description for the offerer's side.
	r, err := s.Remote()
	if err != nil || r.VideoPT != 96 || r.AudioPT != 111 || r.Setup != SetupPassive {
		t.Errorf("answer Remote = %+v, %v", r, err)
	}
}

func TestBuildAnswerSelection(t *testing.T) {
	// A WHIP-style offer: sendonly, VP8 at a non-default PT after H264,
	// rtcp-fb for "*", a data channel and a second video section.
	offer := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"a=group:BUNDLE a v d v2\r\n" +
		"a=ice-ufrag:ABCD\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
		"a=fingerprint:sha-512 " + strings.Repeat("AB:", 63) + "AB\r\n" +
		"a=setup:actpass\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\na=mid:a\r\na=sendonly\r\na=rtpmap:0 PCMU/8000\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 102 120\r\na=mid:v\r\na=sendonly\r\na=rtcp-mux\r\n" +
		"a=rtpmap:102 H264/90000\r\na=rtpmap:120 VP8/90000\r\n" +
		"a=rtcp-fb:* nack\r\na=rtcp-fb:120 goog-remb\r\na=rtcp-fb:120 nack  pli\r\n" +
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:d\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v2\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n"
	o, err := Parse(offer)
	if err != nil {
		t.Fatal(err)
	}
	out, err := BuildAnswer(o, testAnswerParams())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !slices.Equal(s.Bundle(), []string{"v"}) || len(s.Media) != 4 {
		t.Fatalf("answer:\n%s", out)
	}
	wantPorts := []int{0, 9, 0, 0}
	for i, m := range s.Media {
		if m.Port != wantPorts[i] || m.Mid != o.Media[i].Mid || m.Kind != o.Media[i].Kind || m.Proto != o.Media[i].Proto {
			t.Errorf("section %d: %q %d %q %q", i, m.Kind, m.Port, m.Mid, m.Proto)
		}
	}
	if !slices.Equal(s.Media[0].Formats, []string{"0", "8"}) || !slices.Equal(s.Media[2].Formats, []string{"webrtc-datachannel"}) {
		t.Errorf("rejected formats %q %q", s.Media[0].Formats, s.Media[2].Formats)
	}
	v := s.Media[1]
	if !reflect.DeepEqual(v.Payloads, []Payload{{Type: 120, Name: "VP8", ClockRate: 90000, RTCPFB: []string{"nack", "nack pli"}}}) {
		t.Errorf("video %+v", v.Payloads)
	}
	if v.RTCPRsize || !v.RTCPMux || v.Direction != RecvOnly {
		t.Errorf("video rsize %v mux %v dir %q", v.RTCPRsize, v.RTCPMux, v.Direction)
	}
}

func TestBuildAnswerAudio(t *testing.T) {
	offer := strings.Replace(answerSDP, "a=setup:active", "a=setup:actpass", -1)
	o, err := Parse(offer)
	if err != nil {
		t.Fatal(err)
	}
	count := func(out string) (accepted int, bundle []string) {
		s, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range s.Media {
			if m.Port != 0 {
				accepted++
			}
		}
		return accepted, s.Bundle()
	}
	out, err := BuildAnswer(o, testAnswerParams())
	if n, b := count(out); err != nil || n != 2 || !slices.Equal(b, []string{"0", "1"}) {
		t.Errorf("audio accepted: %d %q %v", n, b, err)
	}
	p := testAnswerParams()
	p.RejectAudio = true
	out, err = BuildAnswer(o, p)
	if n, b := count(out); err != nil || n != 1 || !slices.Equal(b, []string{"0"}) {
		t.Errorf("RejectAudio: %d %q %v", n, b, err)
	}
	// Without BUNDLE the server's one transport can carry only the video.
	o2, err := Parse(strings.Replace(offer, "a=group:BUNDLE 0 1\r\n", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	out, err = BuildAnswer(o2, testAnswerParams())
	if n, b := count(out); err != nil || n != 1 || b != nil {
		t.Errorf("no BUNDLE: %d %q %v", n, b, err)
	}
	// An offer that only receives gets an inactive answer.
	o3, err := Parse(strings.Replace(offer, "a=sendonly", "a=recvonly", -1))
	if err != nil {
		t.Fatal(err)
	}
	out, err = BuildAnswer(o3, testAnswerParams())
	if err != nil || !strings.Contains(out, "a=inactive\r\n") || strings.Contains(out, "a=recvonly") {
		t.Errorf("recvonly offer: %v\n%s", err, out)
	}
}

func TestBuildAnswerErrors(t *testing.T) {
	good, err := Parse(strings.Replace(answerSDP, "a=setup:active", "a=setup:actpass", -1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BuildAnswer(nil, testAnswerParams()); !errors.Is(err, ErrNilOffer) {
		t.Errorf("nil offer: %v", err)
	}
	p := testAnswerParams()
	p.ICEPwd = "short"
	if _, err := BuildAnswer(good, p); !errors.Is(err, ErrLocalCredentials) {
		t.Errorf("bad local pwd: %v", err)
	}
	p = testAnswerParams()
	p.Fingerprint.Value = "AB:CD"
	if _, err := BuildAnswer(good, p); !errors.Is(err, ErrLocalFingerprint) {
		t.Errorf("bad local fingerprint: %v", err)
	}
	for _, tc := range []struct {
		old, new string
		want     error
		msg      string
	}{
		{"a=rtpmap:100 VP8/90000", "a=rtpmap:100 H264/90000", ErrNoVP8, "sdp: offer has no video codec the server accepts (VP8)"},
		{"a=ice-ufrag:ABCD\r\n", "", ErrNoICECredentials, "sdp: offer has no ICE credentials"},
		{"a=fingerprint:sha-256 " + chromiumFingerprint + "\r\n", "", ErrNoFingerprint, "sdp: offer has no DTLS fingerprint"},
		{"a=setup:active", "a=setup:holdconn", ErrSetupConflict, "sdp: offer has a=setup:holdconn, which opens no DTLS connection"},
	} {
		o, err := Parse(strings.Replace(answerSDP, tc.old, tc.new, 1))
		if err != nil {
			t.Fatal(err)
		}
		_, err = BuildAnswer(o, testAnswerParams())
		if !errors.Is(err, tc.want) || err.Error() != tc.msg {
			t.Errorf("%q: %v, want %q", tc.new, err, tc.msg)
		}
	}
}
