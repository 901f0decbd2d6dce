package sdp

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// obsOffer is shaped like the WHIP offer of OBS Studio 30 (libdatachannel):
// H.264 only, session-level ICE and DTLS attributes, trickle, real ports.
const obsOffer = "v=0\r\n" +
	"o=rtc 2930097001 0 IN IP4 127.0.0.1\r\n" +
	"s=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"a=group:LS 0 1\r\n" +
	"a=msid-semantic:WMS *\r\n" +
	"a=setup:actpass\r\n" +
	"a=ice-ufrag:Ynft\r\n" +
	"a=ice-pwd:t3Tr3ZhY0b6UQaXaxNo3zM\r\n" +
	"a=ice-options:ice2,trickle\r\n" +
	"a=fingerprint:sha-256 " + chromiumFingerprint + "\r\n" +
	"m=audio 60290 UDP/TLS/RTP/SAVPF 111\r\n" +
	"c=IN IP4 127.0.0.1\r\n" +
	"a=mid:0\r\na=sendonly\r\n" +
	"a=ssrc:3447914236 cname:hUiWWLXyXfDGZChY\r\n" +
	"a=msid:obs-stream audio\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\n" +
	"a=fmtp:111 minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1\r\n" +
	"a=candidate:1 1 UDP 2122317823 127.0.0.1 60290 typ host\r\n" +
	"a=end-of-candidates\r\n" +
	"m=video 60290 UDP/TLS/RTP/SAVPF 96\r\n" +
	"c=IN IP4 127.0.0.1\r\n" +
	"a=mid:1\r\na=sendonly\r\n" +
	"a=ssrc:3447914237 cname:hUiWWLXyXfDGZChY\r\n" +
	"a=msid:obs-stream video\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtpmap:96 H264/90000\r\n" +
	"a=rtcp-fb:96 nack\r\n" +
	"a=rtcp-fb:96 nack pli\r\n" +
	"a=rtcp-fb:96 goog-remb\r\n" +
	"a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1\r\n"

// gstOffer is shaped like GStreamer webrtcbin's offer behind whipclientsink
// with x264enc ! rtph264pay: the parameter sets in sprop-parameter-sets,
// rtcp-fb with ccm fir, no audio.
const gstOffer = "v=0\r\n" +
	"o=- 1788365512960302813 0 IN IP4 0.0.0.0\r\n" +
	"s=-\r\nt=0 0\r\n" +
	"a=ice-options:trickle\r\n" +
	"a=group:BUNDLE video0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:actpass\r\n" +
	"a=ice-ufrag:ZV3xmuFbFqnyOdSQlu9PcsBBa0pLXp+W\r\n" +
	"a=ice-pwd:iMZMj0jI+ynAd/5dmGvPoPwdTjc9Y4nC\r\n" +
	"a=rtcp-mux\r\na=rtcp-rsize\r\n" +
	"a=sendonly\r\n" +
	"a=rtpmap:96 H264/90000\r\n" +
	"a=rtcp-fb:96 nack\r\n" +
	"a=rtcp-fb:96 nack pli\r\n" +
	"a=rtcp-fb:96 ccm fir\r\n" +
	"a=framerate:30\r\n" +
	"a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAH9oCgPY=,aM48gA==;profile-level-id=42c01f;level-asymmetry-allowed=1\r\n" +
	"a=ssrc:1349495402 msid:user1394155539@host-7d5e webrtctransceiver0\r\n" +
	"a=ssrc:1349495402 cname:user1394155539@host-7d5e\r\n" +
	"a=mid:video0\r\n" +
	"a=fingerprint:sha-256 " + chromiumFingerprint + "\r\n"

func answerOf(t *testing.T, offer string, codecs ...string) (*Session, Remote) {
	t.Helper()
	o, err := Parse(offer)
	if err != nil {
		t.Fatal(err)
	}
	p := testAnswerParams()
	p.VideoCodecs = codecs
	out, err := BuildAnswer(o, p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r, err := o.RemoteOffer(codecs)
	if err != nil {
		t.Fatal(err)
	}
	return a, r
}

func videoOf(s *Session) *Media {
	for i := range s.Media {
		if s.Media[i].Kind == KindVideo && s.Media[i].Port != 0 {
			return &s.Media[i]
		}
	}
	return nil
}

func TestH264OBSOffer(t *testing.T) {
	// VP8 alone (the sdp default) cannot take it; the message speaks of the offer.
	o, _ := Parse(obsOffer)
	if _, err := BuildAnswer(o, testAnswerParams()); !errors.Is(err, ErrNoVideoCodec) ||
		err.Error() != "sdp: offer has no video codec the server accepts (VP8)" {
		t.Fatalf("VP8 only: %v", err)
	}
	if _, err := o.RemoteOffer(nil); err == nil || !strings.HasPrefix(err.Error(), "sdp: offer ") {
		t.Fatalf("RemoteOffer: %v", err)
	}

	a, r := answerOf(t, obsOffer, CodecVP8, CodecH264)
	if r.VideoCodec != CodecH264 || r.VideoPT != 96 || r.VideoMid != "1" || r.AudioPT != 111 || r.VideoFIROnly || len(r.VideoFormats) != 1 {
		t.Fatalf("remote %+v", r)
	}
	v := videoOf(a)
	want := Payload{Type: 96, Name: "H264", ClockRate: 90000,
		Fmtp:   "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		RTCPFB: []string{"nack", "nack pli"}}
	if v == nil || len(v.Payloads) != 1 || !equalPayload(v.Payloads[0], want) || v.Direction != RecvOnly {
		t.Fatalf("video %+v", v)
	}
	if !slices.Equal(a.Bundle(), []string{"0", "1"}) {
		t.Fatalf("bundle %v", a.Bundle())
	}
}

func TestH264GStreamerOffer(t *testing.T) {
	a, r := answerOf(t, gstOffer, CodecH264)
	if r.VideoCodec != CodecH264 || r.VideoPT != 96 || r.AudioPT != 0 {
		t.Fatalf("remote %+v", r)
	}
	// The sender's parameter sets reach the depacketizer through VideoFmtp.
	if sp, ok := FmtpParam(r.VideoFmtp, "sprop-parameter-sets"); !ok || sp != "Z0LAH9oCgPY=,aM48gA==" {
		t.Fatalf("sprop %q %v", sp, ok)
	}
	v := videoOf(a)
	if v.Payloads[0].Fmtp != "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c01f" ||
		!slices.Equal(v.Payloads[0].RTCPFB, []string{"nack", "nack pli", "ccm fir"}) {
		t.Fatalf("video %+v", v.Payloads)
	}
}

// Chromium's offer lists VP8, then H.264 in six variants: the host's order
// decides, and among H.264 packetization mode 1 comes first.
func TestH264ChromiumOffer(t *testing.T) {
	offer := readTestdata(t, "chromium156-offer.sdp")
	_, r := answerOf(t, offer, CodecVP8, CodecH264)
	if r.VideoCodec != CodecVP8 || r.VideoPT != 96 {
		t.Fatalf("VP8 first: %+v", r)
	}
	a, r := answerOf(t, offer, CodecH264, CodecVP8)
	if r.VideoCodec != CodecH264 || r.VideoPT != 102 {
		t.Fatalf("H.264 first: %+v", r)
	}
	v := videoOf(a)
	if len(v.Payloads) != 1 || v.Payloads[0].Fmtp != "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f" {
		t.Fatalf("video %+v", v.Payloads)
	}
	// Only mode 0 offered: taken.
	m0 := offer
	for _, pt := range []string{"102", "108", "116"} {
		m0 = strings.Replace(m0, "a=rtpmap:"+pt+" H264/90000", "a=rtpmap:"+pt+" H265/90000", 1)
	}
	_, r = answerOf(t, m0, CodecH264)
	if r.VideoPT != 104 {
		t.Fatalf("mode 0: %+v", r)
	}
}

func TestH264FormatChecks(t *testing.T) {
	for fmtp, ok := range map[string]bool{
		"": true, // baseline level 1, mode 0 (RFC 6184 §8.1 defaults)
		"packetization-mode=1;profile-level-id=42e01f": true,
		"profile-level-id=42C01F;packetization-mode=1": true,
		"profile-level-id=42001f":                      true,
		"profile-level-id=4d0028;packetization-mode=1": true,
		"profile-level-id=640c1f;packetization-mode=1": true,
		"profile-level-id=640032;packetization-mode=1": true,
		"packetization-mode=2;profile-level-id=42e01f": false, // interleaved
		"profile-level-id=f4001f":                      false, // High 4:4:4
		"profile-level-id=6e001f":                      false, // High 10
		"profile-level-id=64003c;packetization-mode=1": false, // level 6: beyond 5.2
		"profile-level-id=42e01":                       false,
		"profile-level-id=zze01f":                      false,
	} {
		if _, got := h264Mode(fmtp); got != ok {
			t.Errorf("%q: %v", fmtp, got)
		}
	}
	if v, ok := FmtpParam("a=1; Packetization-Mode =1", "packetization-mode"); !ok || v != "1" {
		t.Errorf("%q %v", v, ok)
	}
	if _, ok := FmtpParam("a=1", "b"); ok {
		t.Error("b found")
	}
}

// A sender that takes only "ccm fir": keyframes must be asked for by FIR.
func TestH264FIROnly(t *testing.T) {
	offer := strings.Replace(gstOffer, "a=rtcp-fb:96 nack pli\r\n", "", 1)
	a, r := answerOf(t, offer, CodecH264)
	if !r.VideoFIROnly {
		t.Fatalf("remote %+v", r)
	}
	if !slices.Equal(videoOf(a).Payloads[0].RTCPFB, []string{"nack", "ccm fir"}) {
		t.Fatalf("%+v", videoOf(a).Payloads)
	}
	if _, r := answerOf(t, gstOffer, CodecH264); r.VideoFIROnly {
		t.Fatal("PLI offered too")
	}
}

func TestBuildOfferCodecs(t *testing.T) {
	for _, tc := range []struct {
		codecs []string
		pts    []string
	}{
		{[]string{CodecVP8, CodecH264}, []string{"96", "102", "104", "106", "108", "127"}},
		{[]string{CodecH264}, []string{"102", "104", "106", "108", "127"}},
		{[]string{CodecH264, CodecVP8}, []string{"102", "104", "106", "108", "127", "96"}},
	} {
		p := testOfferParams(true)
		p.VideoCodecs = tc.codecs
		s, err := Parse(BuildOffer(p))
		if err != nil {
			t.Fatal(err)
		}
		v := s.Media[0]
		if !slices.Equal(v.Formats, tc.pts) {
			t.Fatalf("%v: formats %v", tc.codecs, v.Formats)
		}
		for _, pl := range v.Payloads {
			if !slices.Equal(pl.RTCPFB, []string{"nack", "nack pli", "ccm fir"}) {
				t.Errorf("%d: feedback %v", pl.Type, pl.RTCPFB)
			}
			if pl.Name == "H264" && !acceptable(&pl, CodecH264) {
				t.Errorf("%d: we offer what we refuse: %q", pl.Type, pl.Fmtp)
			}
		}
		// Read back as an answer that kept every format: the first wins,
		// and the sender may use any of them.
		r, err := s.RemoteAnswer(tc.codecs)
		if err != nil || r.VideoCodec != tc.codecs[0] || len(r.VideoFormats) != len(tc.pts) {
			t.Fatalf("%v: %+v %v", tc.codecs, r, err)
		}
		for i, f := range r.VideoFormats {
			if strconv.Itoa(int(f.PT)) != tc.pts[i] || f.Fmtp != v.Payloads[i].Fmtp {
				t.Fatalf("format %d: %+v", i, f)
			}
		}
	}
	// An answer with a codec that was not offered is refused.
	p := testOfferParams(false)
	p.VideoCodecs = []string{CodecH264}
	s, _ := Parse(BuildOffer(p))
	if _, err := s.RemoteAnswer([]string{CodecVP8}); !errors.Is(err, ErrNoVideoCodec) {
		t.Fatal(err)
	}
}

func equalPayload(a, b Payload) bool {
	return a.Type == b.Type && a.Name == b.Name && a.ClockRate == b.ClockRate && a.Fmtp == b.Fmtp && slices.Equal(a.RTCPFB, b.RTCPFB)
}

// Chromium, with its answer narrowed to H.264 by setCodecPreferences, still
// sends VP8, the first format of the offer: what the server offered stays
// receivable, after the answer's own formats.
func TestRemoteAnswerKeepsOfferedFormats(t *testing.T) {
	p := testOfferParams(true)
	p.VideoCodecs = []string{CodecVP8, CodecH264}
	offer := BuildOffer(p)
	var kept []string
	for _, l := range strings.SplitAfter(offer, "\r\n") {
		if strings.Contains(l, ":96 ") {
			continue // the answer leaves VP8 out
		}
		kept = append(kept, strings.Replace(l, " 96 102", " 102", 1))
	}
	s, err := Parse(strings.Join(kept, ""))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.RemoteAnswer(p.VideoCodecs)
	if err != nil || r.VideoPT != 102 || r.VideoCodec != CodecH264 {
		t.Fatalf("%+v %v", r, err)
	}
	last := r.VideoFormats[len(r.VideoFormats)-1]
	if len(r.VideoFormats) != 6 || last != (VideoFormat{96, CodecVP8, ""}) {
		t.Fatalf("formats %+v", r.VideoFormats)
	}
}
