package sdp

import (
	"slices"
	"strings"
	"testing"
)

// TestBuildAnswerEncoderOffers covers offer layouts of non-browser WHIP
// senders (hand-written after their shape): transport attributes only at
// session level with no msid-semantic, as libdatachannel-based encoders
// write them; a bundle-only video section with port 0 behind an audio
// section, as a max-bundle GStreamer webrtcbin writes; and no BUNDLE group
// at all.
func TestBuildAnswerEncoderOffers(t *testing.T) {
	const head = "v=0\r\no=rtc 3219912395 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	const creds = "a=ice-ufrag:Kq7P\r\na=ice-pwd:c2VjcmV0LXBhc3N3b3JkLTEyMzQ1\r\n" +
		"a=fingerprint:sha-256 " + chromiumFingerprint + "\r\n"
	for _, tc := range []struct {
		name, offer       string
		bundle            []string
		videoMid, audioPT string
	}{
		{
			name: "session-level transport",
			offer: head + "a=group:BUNDLE 0 1\r\na=setup:actpass\r\n" + creds + "a=ice-options:ice2,trickle\r\n" +
				"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n" +
				"a=rtpmap:111 opus/48000/2\r\n" +
				"m=video 9 UDP/TLS/RTP/SAVPF 102 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n" +
				"a=rtpmap:102 H264/90000\r\na=fmtp:102 profile-level-id=42e01f;packetization-mode=1\r\n" +
				"a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n",
			bundle: []string{"0", "1"}, videoMid: "1", audioPT: "111",
		},
		{
			name: "bundle-only video",
			offer: head + "a=group:BUNDLE audio0 video1\r\n" +
				"m=audio 9 UDP/TLS/RTP/SAVPF 97\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\n" + creds +
				"a=mid:audio0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:97 OPUS/48000/2\r\n" +
				"m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\na=setup:actpass\r\n" + creds +
				"a=mid:video1\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 ccm fir\r\n",
			bundle: []string{"audio0", "video1"}, videoMid: "video1", audioPT: "97",
		},
		{
			name: "no BUNDLE",
			offer: head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\n" + creds +
				"a=mid:v\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n" +
				"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\n" + creds +
				"a=mid:a\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n",
			videoMid: "v", // one transport: the unbundled audio is declined
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offer, err := Parse(tc.offer)
			if err != nil {
				t.Fatal(err)
			}
			out, err := BuildAnswer(offer, testAnswerParams())
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !slices.Equal(s.Bundle(), tc.bundle) || len(s.Media) != len(offer.Media) {
				t.Fatalf("answer:\n%s", out)
			}
			for i, m := range s.Media {
				accepted := m.Mid == tc.videoMid || (tc.audioPT != "" && m.Kind == KindAudio)
				if (m.Port != 0) != accepted || m.Mid != offer.Media[i].Mid {
					t.Errorf("section %d (%s): port %d\n%s", i, m.Mid, m.Port, out)
				}
				if accepted && (m.Setup != SetupPassive || m.Direction != RecvOnly || !m.RTCPMux) {
					t.Errorf("section %d: %+v", i, m)
				}
			}
			v, _ := s.MediaByMid(tc.videoMid)
			if v == nil || len(v.Payloads) != 1 || v.Payloads[0].Name != "VP8" || v.Payloads[0].Type != 96 {
				t.Errorf("video %+v", v)
			}
			if tc.audioPT != "" && !strings.Contains(out, "a=rtpmap:"+tc.audioPT+" opus/48000/2\r\n") {
				t.Errorf("audio not accepted:\n%s", out)
			}
		})
	}
}
