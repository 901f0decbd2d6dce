package sdp_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/pion/ice/v4"
	pionsdp "github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
)

func interopOffer() string {
	return sdp.BuildOffer(sdp.OfferParams{
		SessionID:   99,
		ICEUfrag:    "srvU",
		ICEPwd:      "abcdefghijklmnopqrstuv+/",
		Fingerprint: sdp.Fingerprint{Algorithm: "sha-256", Value: "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"},
		Candidates:  []sdp.Candidate{{Addr: netip.MustParseAddrPort("127.0.0.1:15000")}},
		Audio:       true,
	})
}

// An independent parser reads our offer the same way.
func TestInteropPionParsesOffer(t *testing.T) {
	var d pionsdp.SessionDescription
	if err := d.UnmarshalString(interopOffer()); err != nil {
		t.Fatal(err)
	}
	if len(d.MediaDescriptions) != 2 {
		t.Fatalf("%d sections", len(d.MediaDescriptions))
	}
	for i, want := range []struct{ kind, mid, codec string }{{"video", "0", "96"}, {"audio", "1", "111"}} {
		m := d.MediaDescriptions[i]
		if m.MediaName.Media != want.kind || len(m.MediaName.Formats) != 1 || m.MediaName.Formats[0] != want.codec {
			t.Errorf("section %d: %+v", i, m.MediaName)
		}
		if v, _ := m.Attribute("mid"); v != want.mid {
			t.Errorf("section %d mid %q", i, v)
		}
		if v, _ := m.Attribute("setup"); v != "actpass" {
			t.Errorf("section %d setup %q", i, v)
		}
		if _, ok := m.Attribute("recvonly"); !ok {
			t.Errorf("section %d not recvonly", i)
		}
	}
}

// pion/webrtc answers our offer with a sending VP8 track, and Remote reads
// the answer. A full pion agent answering an ice-lite actpass offer picks
// setup:passive unless told otherwise (it makes the lite side the DTLS
// client, which the server then is); with its answering role set to client
// it says active.
func TestInteropPionAnswersOffer(t *testing.T) {
	for _, role := range []webrtc.DTLSRole{webrtc.DTLSRoleClient, 0} {
		want := sdp.SetupActive
		if role == 0 {
			want = sdp.SetupPassive
		}
		if got := pionAnswerSetup(t, role); got != want {
			t.Errorf("answering role %v: setup %q, want %q", role, got, want)
		}
	}
}

func pionAnswerSetup(t *testing.T, role webrtc.DTLSRole) string {
	var se webrtc.SettingEngine
	if role != 0 {
		if err := se.SetAnsweringDTLSRole(role); err != nil {
			t.Fatal(err)
		}
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "cam")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: interopOffer()}); err != nil {
		t.Fatal(err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sdp.Parse(answer.SDP)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Remote()
	if err != nil {
		t.Fatalf("Remote: %v\n%s", err, answer.SDP)
	}
	if r.VideoPT != 96 || r.VideoMid != "0" || r.AudioPT != 111 || r.AudioMid != "1" {
		t.Errorf("Remote = %+v\n%s", r, answer.SDP)
	}
	if v, _ := s.MediaByMid("0"); v.Direction != sdp.SendOnly {
		t.Errorf("video direction %q", v.Direction)
	}
	return r.Setup
}

// WHIP: pion offers VP8 and opus (sendonly), BuildAnswer answers, and pion
// accepts the answer. Gathering is limited to loopback.
func TestInteropPionWHIP(t *testing.T) {
	var se webrtc.SettingEngine
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, c := range []webrtc.RTPCodecCapability{
		{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
	} {
		track, err := webrtc.NewTrackLocalStaticSample(c, "t", "whip")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	o, err := sdp.Parse(offer.SDP)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := sdp.BuildAnswer(o, sdp.AnswerParams{
		ICEUfrag:    "whipUfrag",
		ICEPwd:      "0123456789ABCDEFGHIJKLmn",
		Fingerprint: sdp.Fingerprint{Algorithm: "sha-256", Value: "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"},
		Candidates:  []sdp.Candidate{{Addr: netip.MustParseAddrPort("127.0.0.1:9")}},
		SessionID:   5,
	})
	if err != nil {
		t.Fatalf("BuildAnswer: %v\n%s", err, offer.SDP)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("pion rejects the answer: %v\n%s", err, answer)
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Sender() == nil || len(tr.Sender().GetParameters().Codecs) != 1 {
			t.Errorf("transceiver %s: negotiated %+v", tr.Mid(), tr.Sender().GetParameters().Codecs)
		}
	}
}
