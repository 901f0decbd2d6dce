package sdp

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The two descriptions below are hand-written, not captured: they follow the
// shape of what Firefox (SDPARTA, around version 128) writes. What matters
// for the parser is Firefox's layout rather than its exact values: the
// fingerprint, ice-options and a direction at session level; ice-ufrag (8 hex
// digits) and ice-pwd (32 hex digits) per section; attributes sorted by
// name; VP8 at PT 120 ahead of VP9 and H264 with rtx, red and ulpfec;
// extmaps with a direction; UDP and TCP candidates written with an upper-case
// transport, and an mDNS candidate.
const (
	firefoxFingerprint = "7E:0A:51:C8:94:2B:3F:6D:1A:88:E0:4C:9B:27:D5:63:F1:0E:B2:48:6A:C3:95:1F:D7:2E:84:5B:A9:30:6C:F4"
	firefoxUfrag       = "3b8e5c1f"
	firefoxPwd         = "c6f1a2d94e0b7835f1d2c4a6e8b09d1f"
)

const firefoxOffer = "v=0\r\n" +
	"o=mozilla...THIS_IS_SDPARTA-128.0 4538715234410913234 0 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=sendrecv\r\n" +
	"a=fingerprint:sha-256 " + firefoxFingerprint + "\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"a=ice-options:trickle\r\n" +
	"a=msid-semantic:WMS *\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=candidate:0 1 UDP 2122252543 192.168.1.23 51234 typ host\r\n" +
	"a=candidate:1 1 UDP 2122187007 4f0c9a5e-2b1d-4c7e-9a3f-6d8e1b2c3a4f.local 51235 typ host\r\n" +
	"a=candidate:2 1 TCP 2105524479 192.168.1.23 9 typ host tcptype active\r\n" +
	"a=candidate:3 1 UDP 1686052863 198.51.100.7 51234 typ srflx raddr 192.168.1.23 rport 51234\r\n" +
	"a=sendonly\r\n" +
	"a=end-of-candidates\r\n" +
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n" +
	"a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n" +
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
	"a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n" +
	"a=fmtp:101 0-15\r\n" +
	"a=ice-pwd:" + firefoxPwd + "\r\n" +
	"a=ice-ufrag:" + firefoxUfrag + "\r\n" +
	"a=mid:0\r\n" +
	"a=msid:{9b5f7a64-0c2d-4e8f-a1b3-5d7c9e0f2a4b} {1e3c5a7b-9d0f-4b2e-8c6a-4f2d0b8e6c1a}\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtpmap:109 opus/48000/2\r\n" +
	"a=rtpmap:9 G722/8000/1\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=setup:actpass\r\n" +
	"a=ssrc:2863957187 cname:{5c3e1a9f-7b2d-4f6e-8a0c-3d5b7f9e1c2a}\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98 123 122 119\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=candidate:0 1 UDP 2122252543 192.168.1.23 51234 typ host\r\n" +
	"a=candidate:1 1 UDP 2122187007 4f0c9a5e-2b1d-4c7e-9a3f-6d8e1b2c3a4f.local 51235 typ host\r\n" +
	"a=candidate:2 1 TCP 2105524479 192.168.1.23 9 typ host tcptype active\r\n" +
	"a=candidate:3 1 UDP 1686052863 198.51.100.7 51234 typ srflx raddr 192.168.1.23 rport 51234\r\n" +
	"a=sendonly\r\n" +
	"a=end-of-candidates\r\n" +
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
	"a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n" +
	"a=extmap:5 urn:ietf:params:rtp-hdrext:toffset\r\n" +
	"a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n" +
	"a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
	"a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1\r\n" +
	"a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1\r\n" +
	"a=fmtp:120 max-fs=12288;max-fr=60\r\n" +
	"a=fmtp:124 apt=120\r\n" +
	"a=fmtp:121 max-fs=12288;max-fr=60\r\n" +
	"a=fmtp:125 apt=121\r\n" +
	"a=fmtp:127 apt=126\r\n" +
	"a=fmtp:98 apt=97\r\n" +
	"a=fmtp:119 apt=122\r\n" +
	"a=ice-pwd:" + firefoxPwd + "\r\n" +
	"a=ice-ufrag:" + firefoxUfrag + "\r\n" +
	"a=mid:1\r\n" +
	"a=msid:{9b5f7a64-0c2d-4e8f-a1b3-5d7c9e0f2a4b} {6a8c0e2f-4b6d-4a1c-9e3f-7b5d1f9c3e0a}\r\n" +
	"a=rtcp-fb:120 nack\r\n" +
	"a=rtcp-fb:120 nack pli\r\n" +
	"a=rtcp-fb:120 ccm fir\r\n" +
	"a=rtcp-fb:120 goog-remb\r\n" +
	"a=rtcp-fb:120 transport-cc\r\n" +
	"a=rtcp-fb:121 nack\r\n" +
	"a=rtcp-fb:121 nack pli\r\n" +
	"a=rtcp-fb:121 ccm fir\r\n" +
	"a=rtcp-fb:126 nack\r\n" +
	"a=rtcp-fb:126 nack pli\r\n" +
	"a=rtcp-fb:126 ccm fir\r\n" +
	"a=rtcp-fb:97 nack\r\n" +
	"a=rtcp-fb:97 nack pli\r\n" +
	"a=rtcp-fb:97 ccm fir\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtcp-rsize\r\n" +
	"a=rtpmap:120 VP8/90000\r\n" +
	"a=rtpmap:124 rtx/90000\r\n" +
	"a=rtpmap:121 VP9/90000\r\n" +
	"a=rtpmap:125 rtx/90000\r\n" +
	"a=rtpmap:126 H264/90000\r\n" +
	"a=rtpmap:127 rtx/90000\r\n" +
	"a=rtpmap:97 H264/90000\r\n" +
	"a=rtpmap:98 rtx/90000\r\n" +
	"a=rtpmap:123 ulpfec/90000\r\n" +
	"a=rtpmap:122 red/90000\r\n" +
	"a=rtpmap:119 rtx/90000\r\n" +
	"a=setup:actpass\r\n" +
	"a=ssrc:3482671903 cname:{5c3e1a9f-7b2d-4f6e-8a0c-3d5b7f9e1c2a}\r\n" +
	"a=ssrc:1129483726 cname:{5c3e1a9f-7b2d-4f6e-8a0c-3d5b7f9e1c2a}\r\n" +
	"a=ssrc-group:FID 3482671903 1129483726\r\n"

// firefoxAnswer is how Firefox answers BuildOffer with audio: it sends both
// streams, is the DTLS client, and keeps its session-level layout.
const firefoxAnswer = "v=0\r\n" +
	"o=mozilla...THIS_IS_SDPARTA-128.0 7012949530394372551 0 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=sendrecv\r\n" +
	"a=fingerprint:sha-256 " + firefoxFingerprint + "\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"a=ice-options:trickle\r\n" +
	"a=msid-semantic:WMS *\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=sendonly\r\n" +
	"a=fmtp:96 max-fs=12288;max-fr=60\r\n" +
	"a=ice-pwd:" + firefoxPwd + "\r\n" +
	"a=ice-ufrag:" + firefoxUfrag + "\r\n" +
	"a=mid:0\r\n" +
	"a=msid:{9b5f7a64-0c2d-4e8f-a1b3-5d7c9e0f2a4b} {6a8c0e2f-4b6d-4a1c-9e3f-7b5d1f9c3e0a}\r\n" +
	"a=rtcp-fb:96 nack\r\n" +
	"a=rtcp-fb:96 nack pli\r\n" +
	"a=rtcp-fb:96 ccm fir\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtcp-rsize\r\n" +
	"a=rtpmap:96 VP8/90000\r\n" +
	"a=setup:active\r\n" +
	"a=ssrc:3482671903 cname:{5c3e1a9f-7b2d-4f6e-8a0c-3d5b7f9e1c2a}\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=sendonly\r\n" +
	"a=fmtp:111 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n" +
	"a=ice-pwd:" + firefoxPwd + "\r\n" +
	"a=ice-ufrag:" + firefoxUfrag + "\r\n" +
	"a=mid:1\r\n" +
	"a=msid:{9b5f7a64-0c2d-4e8f-a1b3-5d7c9e0f2a4b} {1e3c5a7b-9d0f-4b2e-8c6a-4f2d0b8e6c1a}\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\n" +
	"a=setup:active\r\n" +
	"a=ssrc:2863957187 cname:{5c3e1a9f-7b2d-4f6e-8a0c-3d5b7f9e1c2a}\r\n"

func TestParseFirefoxOffer(t *testing.T) {
	s, err := Parse(firefoxOffer)
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin.Username != "mozilla...THIS_IS_SDPARTA-128.0" || s.Origin.SessionID != "4538715234410913234" ||
		s.Direction != SendRecv || s.MsidSemantic != "WMS *" || !slices.Equal(s.ICEOptions, []string{"trickle"}) ||
		!slices.Equal(s.Bundle(), []string{"0", "1"}) ||
		!reflect.DeepEqual(s.Fingerprints, []Fingerprint{{"sha-256", firefoxFingerprint}}) || s.ICEUfrag != "" {
		t.Fatalf("session %+v", s)
	}
	if len(s.Media) != 2 {
		t.Fatalf("%d sections", len(s.Media))
	}
	for i, m := range s.Media {
		// The section's own direction wins over the session's; the
		// session-level fingerprint and ice-options are inherited.
		if m.Direction != SendOnly || m.ICEUfrag != firefoxUfrag || m.ICEPwd != firefoxPwd || m.Setup != SetupActPass ||
			!reflect.DeepEqual(m.Fingerprints, s.Fingerprints) || !slices.Equal(m.ICEOptions, []string{"trickle"}) ||
			!m.RTCPMux || !m.EndOfCandidates {
			t.Errorf("section %d: %+v", i, m)
		}
		// Two UDP candidates, one TCP, one srflx; the mDNS one is kept
		// unparsed.
		if len(m.Candidates) != 3 || len(m.UnparsedCandidates) != 1 ||
			m.Candidates[0].Protocol != "udp" || m.Candidates[1].Protocol != "tcp" || m.Candidates[1].TCPType != "active" ||
			m.Candidates[2].Type != CandidateSrflx || m.Candidates[2].Related.String() != "192.168.1.23:51234" {
			t.Errorf("section %d candidates %+v %q", i, m.Candidates, m.UnparsedCandidates)
		}
	}
	a, v := s.Media[0], s.Media[1]
	if a.Kind != KindAudio || a.Mid != "0" || len(a.Payloads) != 5 || a.RTCPRsize {
		t.Errorf("audio %+v", a)
	}
	if p, ok := a.Codec("opus", 48000, 2); !ok || p.Type != 109 || p.Fmtp != "maxplaybackrate=48000;stereo=1;useinbandfec=1" {
		t.Errorf("opus %+v", p)
	}
	if len(a.Extmaps) != 3 || a.Extmaps[1] != (Extmap{ID: 2, Direction: RecvOnly, URI: "urn:ietf:params:rtp-hdrext:csrc-audio-level"}) {
		t.Errorf("audio extmaps %+v", a.Extmaps)
	}
	if v.Kind != KindVideo || v.Mid != "1" || len(v.Payloads) != 11 || !v.RTCPRsize {
		t.Errorf("video %+v", v)
	}
	p, ok := v.Codec("VP8", 90000, 0)
	if !ok || p.Type != 120 || p.Fmtp != "max-fs=12288;max-fr=60" ||
		!slices.Equal(p.RTCPFB, []string{"nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"}) {
		t.Errorf("VP8 %+v", p)
	}
	if !slices.Equal(v.SSRCs, []uint32{3482671903, 1129483726}) ||
		!reflect.DeepEqual(v.SSRCGroups, []SSRCGroup{{Semantics: "FID", SSRCs: []uint32{3482671903, 1129483726}}}) {
		t.Errorf("video ssrcs %v %+v", v.SSRCs, v.SSRCGroups)
	}
	if len(v.Unknown) != 0 || len(a.Unknown) != 0 || len(s.Unknown) != 0 {
		t.Errorf("unknown lines: %q %q %q", s.Unknown, a.Unknown, v.Unknown)
	}
}

// TestBuildAnswerFirefoxOffer answers a Firefox offer as WHIP would: audio
// first (the BUNDLE-tagged section) and VP8 among other codecs.
func TestBuildAnswerFirefoxOffer(t *testing.T) {
	offer, err := Parse(firefoxOffer)
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
	if !s.ICELite || !slices.Equal(s.Bundle(), []string{"0", "1"}) || len(s.Media) != 2 {
		t.Fatalf("answer:\n%s", out)
	}
	a, v := s.Media[0], s.Media[1]
	for i, m := range s.Media {
		if m.Port != 9 || m.Setup != SetupPassive || m.Direction != RecvOnly || !m.RTCPMux ||
			m.ICEUfrag != p.ICEUfrag || m.ICEPwd != p.ICEPwd {
			t.Errorf("section %d %+v", i, m)
		}
	}
	if a.Mid != "0" || !reflect.DeepEqual(a.Payloads, []Payload{{Type: 109, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1"}}) {
		t.Errorf("audio %+v", a)
	}
	if v.Mid != "1" || !v.RTCPRsize ||
		!reflect.DeepEqual(v.Payloads, []Payload{{Type: 120, Name: "VP8", ClockRate: 90000, RTCPFB: []string{"nack", "nack pli", "ccm fir"}}}) {
		t.Errorf("video %+v", v)
	}
	// What the server takes from the offer for its own transport.
	r, _, _, err := offer.remote("offer", nil, true)
	if err != nil || r.ICEUfrag != firefoxUfrag || r.ICEPwd != firefoxPwd || r.Setup != SetupActPass ||
		r.VideoPT != 120 || r.AudioPT != 109 || r.VideoMid != "1" || r.AudioMid != "0" ||
		!reflect.DeepEqual(r.Fingerprints, []Fingerprint{{"sha-256", firefoxFingerprint}}) {
		t.Errorf("remote %+v %v", r, err)
	}
}

// TestRemoteFirefoxAnswer reads Firefox's answer to the server's offer.
func TestRemoteFirefoxAnswer(t *testing.T) {
	offer, err := Parse(BuildOffer(testOfferParams(true)))
	if err != nil {
		t.Fatal(err)
	}
	if offer.Media[0].Mid != "0" || offer.Media[1].Mid != "1" {
		t.Fatal("the hand-written answer assumes video mid 0, audio mid 1")
	}
	s, err := Parse(firefoxAnswer)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Remote()
	if err != nil {
		t.Fatal(err)
	}
	want := Remote{ICEUfrag: firefoxUfrag, ICEPwd: firefoxPwd, Fingerprints: []Fingerprint{{"sha-256", firefoxFingerprint}},
		Setup: SetupActive, VideoPT: 96, AudioPT: 111, VideoMid: "0", AudioMid: "1",
		VideoCodec: CodecVP8, VideoFmtp: "max-fs=12288;max-fr=60",
		VideoFormats: []VideoFormat{{96, CodecVP8, "max-fs=12288;max-fr=60"}}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("Remote = %+v\nwant     %+v", r, want)
	}
	// Firefox and Chromium credentials, ice-char only: hex, and '+' '/'.
	for _, c := range [][2]string{{firefoxUfrag, firefoxPwd}, {"k+/Q", "Xy3+/AbCdEfGhIjKlMnOpQrS"}} {
		in := strings.ReplaceAll(strings.ReplaceAll(firefoxAnswer, firefoxUfrag, c[0]), firefoxPwd, c[1])
		if s, err = Parse(in); err != nil {
			t.Fatal(err)
		}
		if r, err = s.Remote(); err != nil || r.ICEUfrag != c[0] || r.ICEPwd != c[1] {
			t.Errorf("credentials %q: %+v %v", c, r, err)
		}
	}
}
