package sdp

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const chromiumFingerprint = "51:B3:F2:6F:9F:33:A6:72:E7:D0:A9:AB:63:87:21:C1:90:B5:09:79:28:2E:43:24:41:C4:26:60:F6:7D:13:BC"

func TestParseChromiumOffer(t *testing.T) {
	s, err := Parse(readTestdata(t, "chromium156-offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin.SessionID != "6085623644945300844" || s.Origin.SessionVersion != "2" || s.Origin.Address != "127.0.0.1" {
		t.Errorf("origin = %+v", s.Origin)
	}
	if s.Name != "-" || s.Timing != "0 0" {
		t.Errorf("s=%q t=%q", s.Name, s.Timing)
	}
	if got := s.Bundle(); !slices.Equal(got, []string{"0", "1"}) {
		t.Errorf("BUNDLE = %q", got)
	}
	if !s.ExtmapAllowMixed || s.MsidSemantic != "WMS 2f741b7a-40d2-4168-9215-ab0f02681292" {
		t.Errorf("extmap-allow-mixed %v, msid-semantic %q", s.ExtmapAllowMixed, s.MsidSemantic)
	}
	if s.ICELite {
		t.Error("Chromium is not ice-lite")
	}
	if len(s.Media) != 2 {
		t.Fatalf("%d media sections", len(s.Media))
	}

	a, v := &s.Media[0], &s.Media[1]
	for _, m := range []*Media{a, v} {
		if m.ICEUfrag != "847+" || m.ICEPwd != "jNW4ET/a3vMhkHYVVdYHtjTz" {
			t.Errorf("mid %s: ice %q %q", m.Mid, m.ICEUfrag, m.ICEPwd)
		}
		if !slices.Equal(m.ICEOptions, []string{"trickle"}) {
			t.Errorf("mid %s: ice-options %q", m.Mid, m.ICEOptions)
		}
		want := []Fingerprint{{Algorithm: "sha-256", Value: chromiumFingerprint}}
		if !reflect.DeepEqual(m.Fingerprints, want) {
			t.Errorf("mid %s: fingerprints %+v", m.Mid, m.Fingerprints)
		}
		if m.Setup != SetupActPass || m.Direction != SendRecv || !m.RTCPMux || !m.RTCPRsize {
			t.Errorf("mid %s: setup %q dir %q mux %v rsize %v", m.Mid, m.Setup, m.Direction, m.RTCPMux, m.RTCPRsize)
		}
		if m.Proto != "UDP/TLS/RTP/SAVPF" || m.Connection != "IN IP4 127.0.0.1" {
			t.Errorf("mid %s: proto %q c=%q", m.Mid, m.Proto, m.Connection)
		}
		if len(m.Candidates) != 2 || len(m.UnparsedCandidates) != 0 || m.EndOfCandidates {
			t.Errorf("mid %s: candidates %+v unparsed %q eoc %v", m.Mid, m.Candidates, m.UnparsedCandidates, m.EndOfCandidates)
		}
		// a=rtcp and a=rtcp-xr are not modelled and must be kept.
		if !slices.Contains(m.Unknown, "a=rtcp:9 IN IP4 0.0.0.0") || !slices.Contains(m.Unknown, "a=rtcp-xr:rcvr-rtt=all") {
			t.Errorf("mid %s: unknown %q", m.Mid, m.Unknown)
		}
	}

	// Audio.
	if a.Kind != KindAudio || a.Mid != "0" || a.Port != 40956 {
		t.Errorf("audio %q mid %q port %d", a.Kind, a.Mid, a.Port)
	}
	if !slices.Equal(a.Formats, strings.Fields("111 63 9 0 8 13 110 126")) || len(a.Payloads) != 8 {
		t.Errorf("audio formats %q, %d payloads", a.Formats, len(a.Payloads))
	}
	opus := Payload{Type: 111, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1", RTCPFB: []string{"transport-cc"}}
	if !reflect.DeepEqual(a.Payloads[0], opus) {
		t.Errorf("opus = %+v", a.Payloads[0])
	}
	if p, ok := a.Payload(0); !ok || p.Name != "PCMU" || p.ClockRate != 8000 || p.Channels != 0 {
		t.Errorf("PCMU = %+v", p)
	}
	if p, ok := a.Payload(63); !ok || p.Name != "red" || p.Fmtp != "111/111" {
		t.Errorf("red = %+v", p)
	}
	wantExt := []Extmap{
		{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"},
		{ID: 2, URI: "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"},
		{ID: 3, URI: "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"},
		{ID: 4, URI: "urn:ietf:params:rtp-hdrext:sdes:mid"},
	}
	if !reflect.DeepEqual(a.Extmaps, wantExt) {
		t.Errorf("audio extmaps %+v", a.Extmaps)
	}
	if !slices.Equal(a.SSRCs, []uint32{22398945}) || len(a.SSRCAttrs) != 2 ||
		a.SSRCAttrs[0] != (SSRCAttr{ID: 22398945, Name: "cname", Value: "ezKkEvv2ngUllDj/"}) ||
		a.SSRCAttrs[1].Name != "msid" || a.SSRCAttrs[1].Value != "2f741b7a-40d2-4168-9215-ab0f02681292 d444daca-022d-4209-98ed-f80c853264d5" {
		t.Errorf("audio ssrcs %v %+v", a.SSRCs, a.SSRCAttrs)
	}
	if a.Msid != "2f741b7a-40d2-4168-9215-ab0f02681292 d444daca-022d-4209-98ed-f80c853264d5" {
		t.Errorf("audio msid %q", a.Msid)
	}
	wantCand := Candidate{
		Foundation: "3816476945", Component: 1, Protocol: "udp", Priority: 2122260223,
		Addr: netip.MustParseAddrPort("127.0.0.1:40956"), Type: "host",
		Extensions: []CandidateExt{{"generation", "0"}, {"network-id", "1"}, {"network-cost", "50"}},
	}
	if !reflect.DeepEqual(a.Candidates[0], wantCand) {
		t.Errorf("candidate 0 = %+v", a.Candidates[0])
	}
	if c := a.Candidates[1]; c.Protocol != "tcp" || c.TCPType != "active" || c.Addr.Port() != 9 || c.Priority != 1518280447 {
		t.Errorf("candidate 1 = %+v", c)
	}

	// Video.
	if v.Kind != KindVideo || v.Mid != "1" || v.Port != 43430 || len(v.Payloads) != 23 || len(v.Formats) != 23 {
		t.Errorf("video %q mid %q port %d payloads %d", v.Kind, v.Mid, v.Port, len(v.Payloads))
	}
	vp8 := Payload{Type: 96, Name: "VP8", ClockRate: 90000, RTCPFB: []string{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"}}
	if !reflect.DeepEqual(v.Payloads[0], vp8) {
		t.Errorf("VP8 = %+v", v.Payloads[0])
	}
	if p, ok := v.Codec("vp8", 90000, 0); !ok || p.Type != 96 {
		t.Errorf("Codec(vp8) = %+v %v", p, ok)
	}
	if p, ok := v.Payload(97); !ok || p.Name != "rtx" || p.Fmtp != "apt=96" {
		t.Errorf("rtx = %+v", p)
	}
	if p, ok := v.Payload(102); !ok || p.Name != "H264" || p.Fmtp != "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f" {
		t.Errorf("H264 = %+v", p)
	}
	if len(v.Extmaps) != 11 || v.Extmaps[0] != (Extmap{ID: 14, URI: "urn:ietf:params:rtp-hdrext:toffset"}) ||
		v.Extmaps[10] != (Extmap{ID: 11, URI: "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"}) {
		t.Errorf("video extmaps %+v", v.Extmaps)
	}
	if !slices.Equal(v.SSRCs, []uint32{28675196, 3719380547}) || len(v.SSRCAttrs) != 4 {
		t.Errorf("video ssrcs %v %+v", v.SSRCs, v.SSRCAttrs)
	}
	if !reflect.DeepEqual(v.SSRCGroups, []SSRCGroup{{Semantics: "FID", SSRCs: []uint32{28675196, 3719380547}}}) {
		t.Errorf("ssrc-group %+v", v.SSRCGroups)
	}
	if v.Candidates[0].Addr != netip.MustParseAddrPort("127.0.0.1:43430") {
		t.Errorf("video candidate %+v", v.Candidates[0])
	}
}

const pionFingerprint = "83:93:D6:CF:93:32:B2:CC:A5:FD:D2:F2:D3:F1:14:C0:8C:08:AD:D6:34:52:81:3B:55:AC:94:9D:65:E2:D0:82"

func TestParsePionAnswer(t *testing.T) {
	s, err := Parse(readTestdata(t, "pion-answer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.ICELite || !slices.Equal(s.Bundle(), []string{"0", "1"}) || s.MsidSemantic != "WMS *" {
		t.Errorf("lite %v bundle %q msid-semantic %q", s.ICELite, s.Bundle(), s.MsidSemantic)
	}
	// The fingerprint is session-level here and inherited by both sections.
	wantFP := []Fingerprint{{Algorithm: "sha-256", Value: pionFingerprint}}
	if !reflect.DeepEqual(s.Fingerprints, wantFP) {
		t.Errorf("session fingerprints %+v", s.Fingerprints)
	}
	if len(s.Media) != 2 {
		t.Fatalf("%d sections", len(s.Media))
	}
	a, v := &s.Media[0], &s.Media[1]
	for _, m := range []*Media{a, v} {
		if !reflect.DeepEqual(m.Fingerprints, wantFP) {
			t.Errorf("mid %s fingerprints %+v", m.Mid, m.Fingerprints)
		}
		if m.ICEUfrag != "wxwEaKUYrnfdHCnY" || m.ICEPwd != "GMqhsyrIRToHXKgsHPecZvbokKQUzzRX" {
			t.Errorf("mid %s ice %q %q", m.Mid, m.ICEUfrag, m.ICEPwd)
		}
		if m.Setup != SetupPassive || m.Direction != RecvOnly || !m.RTCPMux || !m.RTCPRsize || m.Port != 9 {
			t.Errorf("mid %s: %+v", m.Mid, m)
		}
	}
	if a.Kind != KindAudio || a.Mid != "0" || !reflect.DeepEqual(a.Payloads, []Payload{{Type: 111, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1", RTCPFB: []string{"transport-cc"}}}) {
		t.Errorf("audio %+v", a)
	}
	if len(a.Candidates) != 2 || a.Candidates[1].Component != 2 || !a.EndOfCandidates ||
		!reflect.DeepEqual(a.Candidates[0].Extensions, []CandidateExt{{"ufrag", "wxwEaKUYrnfdHCnY"}, {"generation", "0"}}) {
		t.Errorf("audio candidates %+v eoc %v", a.Candidates, a.EndOfCandidates)
	}
	if v.Kind != KindVideo || v.Mid != "1" || len(v.Payloads) != 1 || v.Payloads[0].Name != "VP8" || v.Payloads[0].Type != 96 ||
		!slices.Equal(v.Payloads[0].RTCPFB, []string{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"}) {
		t.Errorf("video %+v", v)
	}
	if len(v.Extmaps) != 4 || v.Extmaps[1].URI != "urn:ietf:params:rtp-hdrext:sdes:mid" || v.Extmaps[1].ID != 4 {
		t.Errorf("video extmaps %+v", v.Extmaps)
	}
	if len(v.Candidates) != 0 || v.EndOfCandidates {
		t.Errorf("video candidates %+v", v.Candidates)
	}
}

func TestParseTolerant(t *testing.T) {
	// LF endings, blank lines, trailing spaces, odd case, unknown lines at
	// both levels, session-level ICE, extmap with direction, rtcp-fb:*, an
	// mDNS candidate, a data channel section.
	in := "v=0\n\n" +
		"o=- 1 1 IN IP4 0.0.0.0  \n" +
		"s=-\nt=0 0\n" +
		"b=AS:300\n" +
		"a=ice-ufrag:abcd\na=ice-pwd:0123456789abcdefghijkl\n" +
		"a=fingerprint:SHA-256 " + chromiumFingerprint + "\n" +
		"a=setup:ACTIVE\n" +
		"a=recvonly\n" +
		"a=x-custom:1\n" +
		"garbage line\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96 96 97\n" +
		"a=mid:v\n" +
		"a=rtpmap:96 VP8/90000\n" +
		"a=rtpmap:96 VP9/90000\n" +
		"a=rtpmap:55 H264/90000\n" +
		"a=rtcp-fb:* nack\n" +
		"a=rtcp-fb:96 ccm fir\n" +
		"a=extmap:7/sendonly urn:x attr1 attr2\n" +
		"a=extmap:0 urn:bad\n" +
		"a=candidate:1 1 udp 100 3a4f5b6c-1111-2222-3333-444455556666.local 5000 typ host\n" +
		"a=candidate:2 1 UDP 100 ::1 5001 typ srflx raddr :: rport 0\n" +
		"a=sendonly\n" +
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n" +
		"a=mid:d\n" +
		"a=sctp-port:5000\n"
	s, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Unknown, []string{"b=AS:300", "a=x-custom:1", "garbage line"}) {
		t.Errorf("session unknown %q", s.Unknown)
	}
	if s.Origin.Address != "0.0.0.0" || s.Setup != SetupActive || s.Direction != RecvOnly {
		t.Errorf("origin %+v setup %q dir %q", s.Origin, s.Setup, s.Direction)
	}
	v, d := &s.Media[0], &s.Media[1]
	if v.ICEUfrag != "abcd" || v.Setup != SetupActive || v.Direction != SendOnly || len(v.Fingerprints) != 1 || v.Fingerprints[0].Algorithm != "sha-256" {
		t.Errorf("video %+v", v)
	}
	if d.Direction != RecvOnly || d.ICEPwd != "0123456789abcdefghijkl" || len(d.Payloads) != 0 || !slices.Equal(d.Formats, []string{"webrtc-datachannel"}) {
		t.Errorf("data %+v", d)
	}
	if !slices.Equal(d.Unknown, []string{"a=sctp-port:5000"}) {
		t.Errorf("data unknown %q", d.Unknown)
	}
	if len(v.Payloads) != 2 || v.Payloads[0].Name != "VP8" || v.Payloads[1].Name != "" {
		t.Errorf("payloads %+v", v.Payloads)
	}
	if got := v.Feedback(96); !slices.Equal(got, []string{"ccm fir", "nack"}) {
		t.Errorf("Feedback(96) = %q", got)
	}
	if !slices.Equal(v.Unknown, []string{"a=rtpmap:96 VP9/90000", "a=rtpmap:55 H264/90000", "a=extmap:0 urn:bad"}) {
		t.Errorf("video unknown %q", v.Unknown)
	}
	if !reflect.DeepEqual(v.Extmaps, []Extmap{{ID: 7, Direction: SendOnly, URI: "urn:x", Attrs: "attr1 attr2"}}) {
		t.Errorf("extmaps %+v", v.Extmaps)
	}
	if len(v.UnparsedCandidates) != 1 || !strings.Contains(v.UnparsedCandidates[0], ".local") {
		t.Errorf("unparsed %q", v.UnparsedCandidates)
	}
	if len(v.Candidates) != 1 || v.Candidates[0].Protocol != "udp" || v.Candidates[0].Related != netip.MustParseAddrPort("[::]:0") {
		t.Errorf("candidates %+v", v.Candidates)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrNoVersion},
		{"blank", "\r\n\n", ErrNoVersion},
		{"no v", "o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", ErrNoVersion},
		{"v=1", "v=1\r\n", ErrNoVersion},
		{"two v", head + "v=0\r\n", ErrNoVersion},
		{"too large", head + strings.Repeat("a=x\r\n", MaxSize/5), ErrTooLarge},
		{"too many lines", head + strings.Repeat("a\n", MaxLines), ErrTooMany},
		{"too many media", head + strings.Repeat("m=audio 9 RTP/AVP 0\r\n", MaxMedia+1), ErrTooMany},
		{"too many formats", head + "m=audio 9 RTP/AVP" + strings.Repeat(" 0", MaxFormats+1) + "\r\n", ErrTooMany},
		{"short m", head + "m=audio 9 RTP/AVP\r\n", ErrBadMLine},
		{"port text", head + "m=audio x RTP/AVP 0\r\n", ErrBadMLine},
		{"port range", head + "m=audio 65536 RTP/AVP 0\r\n", ErrBadMLine},
		{"negative port", head + "m=audio -1 RTP/AVP 0\r\n", ErrBadMLine},
		{"port count", head + "m=audio 9/0 RTP/AVP 0\r\n", ErrBadMLine},
		{"proto", head + "m=audio 9 RTP//AVP 0\r\n", ErrBadMLine},
		{"pt range", head + "m=audio 9 RTP/AVP 128\r\n", ErrBadMLine},
		{"pt text", head + "m=audio 9 UDP/TLS/RTP/SAVPF opus\r\n", ErrBadMLine},
		{"duplicate mid", head + "m=audio 9 RTP/AVP 0\r\na=mid:a\r\nm=video 9 RTP/AVP 96\r\na=mid:a\r\n", ErrDuplicates},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.in)
			if !errors.Is(err, tc.want) || s != nil {
				t.Errorf("Parse = %v, %v; want %v", s, err, tc.want)
			}
		})
	}
	// At the limits, it parses.
	if _, err := Parse(head + strings.Repeat("m=audio 9 RTP/AVP 0\r\n", MaxMedia)); err != nil {
		t.Errorf("MaxMedia sections: %v", err)
	}
	if _, err := Parse(head + "m=audio 9 RTP/AVP" + strings.Repeat(" 1", MaxFormats) + "\r\n"); err != nil {
		t.Errorf("MaxFormats formats: %v", err)
	}
}

func TestCandidateRoundTrip(t *testing.T) {
	for _, v := range []string{
		"3816476945 1 udp 2122260223 127.0.0.1 40956 typ host generation 0 network-id 1 network-cost 50",
		"2645898121 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0",
		"842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 192.168.1.2 rport 61234",
		"a+/b 2 udp 1 2001:db8::1 1 typ relay raddr 2001:db8::2 rport 3478",
	} {
		c, err := ParseCandidate(v)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if got := c.String(); got != v {
			t.Errorf("round trip\n got %q\nwant %q", got, v)
		}
	}
	for _, v := range []string{
		"", "1 1 udp 1 127.0.0.1 1 typ", "1 1 udp 1 127.0.0.1 1 type host",
		"1 0 udp 1 127.0.0.1 1 typ host", "1 257 udp 1 127.0.0.1 1 typ host",
		"1 1 udp -1 127.0.0.1 1 typ host", "1 1 udp 4294967296 127.0.0.1 1 typ host",
		"1 1 udp 1 127.0.0.1 65536 typ host", "1 1 udp 1 fe80::1%eth0 1 typ host",
		"1 1 udp 1 host.local 1 typ host", "1 1 udp 1 127.0.0.1 1 typ host raddr",
		"1 1 udp 1 127.0.0.1 1 typ srflx raddr x rport 1",
		strings.Repeat("f", 33) + " 1 udp 1 127.0.0.1 1 typ host",
		"f:f 1 udp 1 127.0.0.1 1 typ host",
	} {
		if c, err := ParseCandidate(v); err == nil {
			t.Errorf("ParseCandidate(%q) = %+v, want error", v, c)
		}
	}
}

func TestCandidateDefaults(t *testing.T) {
	c := Candidate{Addr: netip.MustParseAddrPort("192.0.2.1:15000")}
	got, err := ParseCandidate(c.String())
	if err != nil {
		t.Fatalf("%q: %v", c.String(), err)
	}
	// Component 1, udp, host; foundation and priority are the caller's.
	if got.Component != 1 || got.Protocol != "udp" || got.Type != CandidateHost || got.Priority != 0 || got.Foundation != "0" {
		t.Errorf("defaults: %q -> %+v", c.String(), got)
	}
	srflx := Candidate{Foundation: "x\r\ny", Type: CandidateSrflx, Addr: netip.MustParseAddrPort("[2001:db8::1]:1")}
	s := srflx.String()
	if strings.ContainsAny(s, "\r\n") || !strings.Contains(s, " raddr :: rport 0") || !strings.HasPrefix(s, "xy ") {
		t.Errorf("srflx = %q", s)
	}
	var zero Candidate
	if _, err := ParseCandidate(zero.String()); err != nil {
		t.Errorf("zero candidate %q: %v", zero.String(), err)
	}
}

func TestFingerprintDigest(t *testing.T) {
	d, err := Fingerprint{Algorithm: "sha-256", Value: chromiumFingerprint}.Digest()
	if err != nil || len(d) != 32 || d[0] != 0x51 || d[31] != 0xbc {
		t.Fatalf("Digest = %x, %v", d, err)
	}
	if d, err := (Fingerprint{Algorithm: "x-unknown", Value: "ab:CD"}).Digest(); err != nil || len(d) != 2 || d[1] != 0xcd {
		t.Errorf("unknown hash: %x %v", d, err)
	}
	for _, v := range []string{"", "A", "AB:", "AB:CD:", "ABCD", "AB-CD", "AG", ":AB", "AB::CD"} {
		if _, err := (Fingerprint{Algorithm: "x", Value: v}).Digest(); err == nil {
			t.Errorf("Digest(%q) succeeded", v)
		}
	}
	if _, err := (Fingerprint{Algorithm: "sha-384", Value: chromiumFingerprint}).Digest(); err == nil {
		t.Error("sha-384 with a 32-byte value accepted")
	}
}

func TestParseHostile(t *testing.T) {
	const head = "v=0\n"
	for _, in := range []string{
		head + "a=",
		head + "a",
		head + "=",
		head + "a=:",
		head + "a=fingerprint:",
		head + "a=fingerprint: ",
		head + "a=group:",
		head + "m=audio 9 RTP/AVP 0\na=rtpmap:",
		head + "m=audio 9 RTP/AVP 0\na=rtpmap:0",
		head + "m=audio 9 RTP/AVP 0\na=rtpmap:0 /",
		head + "m=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/0",
		head + "m=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/8000/0",
		head + "m=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/8000/256",
		head + "m=audio 9 RTP/AVP 0\na=rtpmap:99999999999999999999 x/1",
		head + "m=audio 9 RTP/AVP 0\na=fmtp:0",
		head + "m=audio 9 RTP/AVP 0\na=rtcp-fb:*",
		head + "m=audio 9 RTP/AVP 0\na=rtcp-fb:* ",
		head + "m=audio 9 RTP/AVP 0\na=rtcp-fb:0",
		head + "m=audio 9 RTP/AVP 0\na=ssrc:",
		head + "m=audio 9 RTP/AVP 0\na=ssrc:1",
		head + "m=audio 9 RTP/AVP 0\na=ssrc-group:FID",
		head + "m=audio 9 RTP/AVP 0\na=ssrc-group:FID x",
		head + "m=audio 9 RTP/AVP 0\na=extmap:",
		head + "m=audio 9 RTP/AVP 0\na=extmap:1/bogus urn:x",
		head + "m=audio 9 RTP/AVP 0\na=extmap:65536 urn:x",
		head + "m=audio 9 RTP/AVP 0\na=candidate:",
		head + "m=audio 9 RTP/AVP 0\na=mid:a b",
		head + "m=audio 9 RTP/AVP 0\na=mid:",
		head + "m=audio 9 RTP/AVP 0\na=setup:",
		head + "m=audio 9 RTP/AVP 0\x00\n",
		head + "m=\xff 9 RTP/AVP 0",
		head + strings.Repeat("m=audio 9 RTP/AVP 0\n"+strings.Repeat("a=ssrc:1 x\n", 10), 5),
	} {
		s, err := Parse(in)
		if err == nil {
			_, _ = s.Remote()
			_, _ = BuildAnswer(s, testAnswerParams())
		}
	}
	// Many distinct SSRCs: bounded, the rest kept as unknown lines.
	var b strings.Builder
	b.WriteString(head + "m=video 9 RTP/AVP 96\n")
	for i := range MaxSSRCs + 10 {
		b.WriteString("a=ssrc:" + strconv.Itoa(i+1) + " cname:x\n")
	}
	s, err := Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Media[0].SSRCs) != MaxSSRCs || len(s.Media[0].Unknown) != 10 {
		t.Errorf("%d ssrcs, %d unknown", len(s.Media[0].SSRCs), len(s.Media[0].Unknown))
	}
}

func BenchmarkParseChromiumOffer(b *testing.B) {
	in := readTestdata(b, "chromium156-offer.sdp")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
