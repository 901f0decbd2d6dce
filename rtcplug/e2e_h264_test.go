package rtcplug_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pionice "github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/nutsbolts/webrtc/rtcplug"
	"github.com/nutsbolts/webrtc/rtcplug/internal/h264"
)

// The H.264 samples of testdata/README.txt (libx264, 3 s at 30 fps, an IDR
// picture every second, no B-frames).
const (
	h264Baseline = "../testdata/h264-cb-640x480.h264"
	h264High     = "../testdata/h264-high-1280x720-4slices.h264"
)

// h264Sample reads an Annex B file as access units. With outOfBand the SPS
// and PPS are taken out of the stream and returned as a
// sprop-parameter-sets value instead (RFC 6184 §8.1), as a sender that
// announces them only in its SDP does.
func h264Sample(t *testing.T, path string, outOfBand bool) (aus [][]byte, sprop string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cur, sps, pps []byte
	slice := false
	h264.SplitAnnexB(b, func(n []byte) bool {
		typ := h264.NALType(n[0])
		first := (typ == h264.NALSlice || typ == h264.NALIDR) && len(n) > 1 && n[1]&0x80 != 0
		if slice && (first || typ == h264.NALSPS || typ == h264.NALPPS || typ == h264.NALSEI) {
			aus, cur, slice = append(aus, cur), nil, false
		}
		switch {
		case outOfBand && typ == h264.NALSPS:
			sps = n
		case outOfBand && typ == h264.NALPPS:
			pps = n
		default:
			cur = append(append(cur, 0, 0, 0, 1), n...)
		}
		slice = slice || typ == h264.NALSlice || typ == h264.NALIDR
		return true
	})
	aus = append(aus, cur)
	if outOfBand {
		sprop = h264.FormatSprop(sps, pps)
	}
	return aus, sprop
}

// h264Sender is pion/webrtc with its default codecs and interceptors
// sending H.264 (and Opus). Only the network is narrowed to loopback.
type h264Sender struct {
	pc        *webrtc.PeerConnection
	video     *webrtc.TrackLocalStaticSample
	audio     *webrtc.TrackLocalStaticSample
	connected chan struct{}
	location  string // the WHIP session's resource
}

// newH264Sender builds the sender. fmtp, when set, is the H.264 format it
// offers alone (a WHIP encoder's offer: H.264 only, maybe with
// sprop-parameter-sets); answering makes it the /ws answerer.
func newH264Sender(t *testing.T, fmtp string, answering bool) *h264Sender {
	t.Helper()
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	s := &h264Sender{pc: pc, connected: make(chan struct{})}
	if s.video, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}, "video", "pion"); err != nil {
		t.Fatal(err)
	}
	tr, err := pc.AddTransceiverFromTrack(s.video, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	if fmtp != "" {
		fb := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
		if err := tr.SetCodecPreferences([]webrtc.RTPCodecParameters{{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: fb},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		rtcpBuf := make([]byte, 1500)
		for {
			if _, _, err := tr.Sender().Read(rtcpBuf); err != nil {
				return
			}
		}
	}()
	if s.audio, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "pion"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(s.audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(s.connected) })
		}
	})
	t.Cleanup(func() {
		closed := make(chan struct{})
		go func() {
			_ = pc.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Log("pion PeerConnection.Close did not return; leaving it")
		}
	})
	return s
}

func (s *h264Sender) waitConnected(t *testing.T) {
	t.Helper()
	select {
	case <-s.connected:
	case <-time.After(15 * time.Second):
		t.Fatal("pion did not connect")
	}
}

// stream sends the access units in real time (30 fps), with silence-free
// Opus beside them, and returns how long that took.
func (s *h264Sender) stream(t *testing.T, aus [][]byte) (streamed time.Duration) {
	start := time.Now()
	defer func() { streamed = time.Since(start) }()
	p := &pionPeer{audio: s.audio}
	d := time.Duration(len(aus)) * time.Second / 30
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.streamAudio(t, d)
	}()
	defer wg.Wait()
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	for _, au := range aus {
		if err := s.video.WriteSample(media.Sample{Data: au, Duration: time.Second / 30}); err != nil {
			t.Error(err)
			return 0
		}
		<-tick.C
	}
	return 0
}

// whip posts the sender's offer and applies the answer.
func (s *h264Sender) whip(t *testing.T, url string) (answer string) {
	t.Helper()
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/sdp", strings.NewReader(offer.SDP))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, b)
	}
	s.location = resp.Header.Get("Location")
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(b)}); err != nil {
		t.Fatalf("pion refused our answer: %v\n%s", err, b)
	}
	return string(b)
}

// checkH264Keyframes: keyframes arrived, were decoded, and reached
// OnKeyframe as H.264 images.
func checkH264Keyframes(t *testing.T, s *server, conf string, min int) {
	t.Helper()
	waitFor(t, "H.264 keyframes", 10*time.Second, func() bool { return len(s.keyframesOf(conf, "")) >= min })
	for _, k := range s.keyframesOf(conf, "") {
		if k.Codec != rtcplug.CodecH264 || k.Image == nil {
			t.Fatalf("keyframe %+v", k)
		}
	}
	st := s.plugin.Stats()
	t.Logf("stats %+v", st)
	if st.Keyframes < uint64(min) || st.FailedKeyframes != 0 || st.VideoFrames < 60 {
		t.Fatalf("stats %+v, files %v", st, s.files())
	}
}

// TestWHIPH264: pion with default settings offers H.264 alone over WHIP, as
// OBS does; each sample streams in with Opus, the plugin answers with the
// offer's profile, and the keyframes are decoded: each OnKeyframe image is
// one of ffmpeg's decodes of the file exactly, each JPEG close to it; the
// recording is one MP4 with both streams. The high-profile sample has its
// parameter sets only in sprop-parameter-sets.
func TestWHIPH264(t *testing.T) {
	for _, tc := range []struct {
		name, path, profile string
		outOfBand           bool
		w, h                int
	}{
		{"constrained-baseline-640x480", h264Baseline, "42e01f", false, 640, 480},
		{"high-1280x720-4-slices-sprop", h264High, "64001f", true, 1280, 720},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aus, sprop := h264Sample(t, tc.path, tc.outOfBand)
			fmtp := "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + tc.profile
			if sprop != "" {
				fmtp += ";sprop-parameter-sets=" + sprop
			}
			needFFprobe(t)
			rec := t.TempDir()
			s := newServer(t, rtcplug.WithRecordDir(rec))
			snd := newH264Sender(t, fmtp, false)
			answer := snd.whip(t, s.http.URL+"/whip/h264")
			if !strings.Contains(answer, " H264/90000\r\n") || !strings.Contains(answer, "profile-level-id="+tc.profile) ||
				strings.Contains(answer, "VP8") {
				t.Fatalf("answer:\n%s", answer)
			}
			snd.waitConnected(t)
			streamed := snd.stream(t, aus)
			checkH264Keyframes(t, s, "h264", 3)
			checkH264Images(t, s, "h264", tc.path, tc.w, tc.h)
			// The Location carries the session's secret; Peers has the id.
			var peerID string
			for _, pi := range s.plugin.Peers() {
				peerID = pi.ID
			}
			frames := s.plugin.Stats().VideoFrames
			whipDelete(t, s.http.URL+snd.location)
			waitFor(t, "peer gone", 10*time.Second, func() bool { return s.plugin.Stats().Peers == 0 })
			checkH264Recording(t, filepath.Join(rec, "h264", peerID, "recording.mp4"), tc.w, tc.h, frames, streamed)
		})
	}
}

// TestWHIPH264OnlyHost: a host that takes H.264 only refuses a VP8-only
// offer with a message about the offer, and prefers H.264 in one that
// carries both.
func TestWHIPH264OnlyHost(t *testing.T) {
	s := newServer(t, rtcplug.WithVideoCodecs("H264"))
	vp8 := newPion(t, 0)
	offer, err := vp8.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(offer.SDP, "\r\n") {
		if !strings.Contains(l, "H264") {
			kept = append(kept, l)
		}
	}
	resp, err := http.Post(s.http.URL+"/whip/room", "application/sdp", strings.NewReader(strings.Join(kept, "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "offer has no video codec the server accepts (H264)") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	// pion's default offer lists VP8 first, H.264 after: the host's choice wins.
	resp, err = http.Post(s.http.URL+"/whip/room", "application/sdp", strings.NewReader(offer.SDP))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(b), "H264/90000") || strings.Contains(string(b), "VP8") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// TestWebSocketH264: pion answers the default /ws offer (VP8 first, H.264
// second) with an H.264 track; the answer keeps both and pion sends H.264,
// which the peer follows: images as over WHIP, and recording.mp4 with Opus.
func TestWebSocketH264(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		w, h       int
	}{
		{"constrained-baseline-640x480", h264Baseline, 640, 480},
		{"high-1280x720-4-slices", h264High, 1280, 720},
	} {
		t.Run(tc.name, func(t *testing.T) { webSocketH264(t, tc.path, tc.w, tc.h) })
	}
}

func webSocketH264(t *testing.T, sample string, width, height int) {
	needFFprobe(t)
	aus, _ := h264Sample(t, sample, false)
	rec := t.TempDir()
	s := newServer(t, rtcplug.WithRecordDir(rec))
	w := dial(t, s.wsURL())
	w.send("JoinConference", map[string]string{"conferenceName": "wsh264"})
	env := w.next("SdpOffer")
	var offer struct{ SDP string }
	if err := json.Unmarshal(env.Data, &offer); err != nil {
		t.Fatal(err)
	}
	if v, h := strings.Index(offer.SDP, "VP8/90000"), strings.Index(offer.SDP, "H264/90000"); v < 0 || h < v {
		t.Fatalf("offer does not list VP8 then H.264:\n%s", offer.SDP)
	}
	snd := newH264Sender(t, "", true)
	if err := snd.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		t.Fatalf("pion refused our offer: %v", err)
	}
	ans, err := snd.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	w.send("SdpAnswer", map[string]string{"sdp": snd.pc.LocalDescription().SDP})
	snd.waitConnected(t)
	w.waitState("connected", 10*time.Second)
	streamed := snd.stream(t, aus)
	checkH264Keyframes(t, s, "wsh264", 3)
	checkH264Images(t, s, "wsh264", sample, width, height)
	ks := s.keyframesOf("wsh264", "")
	frames := s.plugin.Stats().VideoFrames
	w.send("LeaveConference", nil)
	w.waitState("closed", 10*time.Second)
	waitFor(t, "peer gone", 10*time.Second, func() bool { return s.plugin.Stats().Peers == 0 })
	checkH264Recording(t, filepath.Join(rec, "wsh264", ks[0].Peer, "recording.mp4"), width, height, frames, streamed)
}

// whipDelete ends a WHIP session.
func whipDelete(t *testing.T, url string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("DELETE %s: %d", url, resp.StatusCode)
	}
}

// checkH264Recording: recording.mp4 holds one H.264 stream of w x h and one
// Opus stream and plays as long as what was sent. pion paces by a
// wall-clock ticker, which a loaded machine slows: the recording follows
// the sender reports, so its length lies near the frames' RTP span or the
// time streamed (see TestRecording).
func checkH264Recording(t *testing.T, path string, w, h int, frames uint64, streamed time.Duration) {
	t.Helper()
	checkRecordingOf(t, path, "h264", w, h, []time.Duration{time.Duration(frames) * time.Second / 30, streamed}, int(frames)*9/10)
}
