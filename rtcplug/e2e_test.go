package rtcplug_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"
	piondtls "github.com/pion/dtls/v3"
	pionice "github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/nutsbolts/webrtc/rtcplug"
)

const (
	ivfPath = "../testdata/vp8-640x480.ivf"
	oggPath = "../testdata/opus-48k.ogg"
)

// loopback4 keeps the offered candidates to 127.0.0.1, so tests never leave
// the machine.
func loopback4(a netip.Addr) bool { return a.Is4() && a.IsLoopback() }

// testLogger writes the plugin's log (debug included) into the test log
// when -v is given, and nowhere otherwise.
func testLogger(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// server is an httptest server with the plugin mounted on a chi router.
type server struct {
	t      *testing.T
	plugin *rtcplug.Plugin
	http   *httptest.Server
	dir    string

	mu        sync.Mutex
	keyframes []rtcplug.Keyframe
	keyframe  chan struct{} // told of each keyframe; capacity 1, never blocks
}

func newServer(t *testing.T, opts ...rtcplug.Option) *server {
	t.Helper()
	s := &server{t: t, dir: t.TempDir(), keyframe: make(chan struct{}, 1)}
	r := chi.NewRouter()
	base := []rtcplug.Option{
		rtcplug.WithUDPPort(0),
		rtcplug.WithSnapshotDir(s.dir),
		rtcplug.WithCandidateFilter(loopback4),
		rtcplug.WithLogger(testLogger(t)),
		rtcplug.OnKeyframe(func(k rtcplug.Keyframe) {
			s.mu.Lock()
			s.keyframes = append(s.keyframes, k)
			s.mu.Unlock()
			select {
			case s.keyframe <- struct{}{}:
			default:
			}
		}),
	}
	p, err := rtcplug.Mount(r, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	s.plugin = p
	s.http = httptest.NewServer(r)
	t.Cleanup(func() {
		s.http.CloseClientConnections()
		_ = p.Close()
		s.http.Close()
	})
	return s
}

func (s *server) wsURL() string { return "ws" + strings.TrimPrefix(s.http.URL, "http") + "/ws" }

// awaitKeyframes waits until cond holds, checking it again after each
// keyframe; the timeout only keeps a broken run from hanging.
func (s *server) awaitKeyframes(what string, cond func() bool) {
	s.t.Helper()
	hang := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-s.keyframe:
		case <-hang:
			s.t.Fatalf("no %s", what)
		}
	}
}

func (s *server) keyframesOf(conf, peer string) []rtcplug.Keyframe {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []rtcplug.Keyframe
	for _, k := range s.keyframes {
		if k.Conference == conf && (peer == "" || k.Peer == peer) {
			out = append(out, k)
		}
	}
	return out
}

// files lists the JPEGs under dir/conf, relative to dir.
func (s *server) files() []string {
	var out []string
	_ = filepath.WalkDir(s.dir, func(p string, d os.DirEntry, err error) error {
		// Skip the temporary files of writes in progress.
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			rel, _ := filepath.Rel(s.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

type envelope struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// wsClient is a signaling connection whose messages are read in the
// background.
type wsClient struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan envelope
	done chan struct{}
	err  error // why reading stopped; set before done is closed
}

func dial(t *testing.T, url string, opts ...*websocket.DialOptions) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var o *websocket.DialOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	c, _, err := websocket.Dial(ctx, url, o)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{t: t, c: c, msgs: make(chan envelope, 64), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer close(w.msgs)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				w.err = err
				return
			}
			var env envelope
			if err := json.Unmarshal(b, &env); err != nil {
				t.Errorf("server sent bad JSON %q", b)
				return
			}
			w.msgs <- env
		}
	}()
	t.Cleanup(func() {
		_ = c.CloseNow()
		<-w.done
	})
	if env := w.next("Welcome"); !strings.Contains(string(env.Data), `"message":"Welcome!"`) {
		t.Fatalf("welcome %s", env.Data)
	}
	return w
}

func (w *wsClient) sendRaw(s string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) send(typ string, data any) {
	w.t.Helper()
	b, err := json.Marshal(map[string]any{"type": typ, "data": data})
	if err != nil {
		w.t.Fatal(err)
	}
	w.sendRaw(string(b))
}

// next waits for the next message of type typ, skipping PeerState messages
// unless asked for.
func (w *wsClient) next(typ string) envelope {
	w.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case env, ok := <-w.msgs:
			if !ok {
				w.t.Fatalf("socket closed while waiting for %s", typ)
			}
			if env.Type == typ {
				return env
			}
			if env.Type != "PeerState" {
				w.t.Fatalf("got %s %s while waiting for %s", env.Type, env.Data, typ)
			}
		case <-timeout:
			w.t.Fatalf("no %s", typ)
		}
	}
}

func (w *wsClient) expectError(code string) {
	w.t.Helper()
	env := w.next("Error")
	var e struct{ Code, Message string }
	if err := json.Unmarshal(env.Data, &e); err != nil || e.Code != code || e.Message == "" {
		w.t.Fatalf("error %s, want code %s", env.Data, code)
	}
}

// waitState waits for PeerState state.
func (w *wsClient) waitState(state string, timeout time.Duration) {
	w.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case env, ok := <-w.msgs:
			if !ok {
				w.t.Fatalf("socket closed while waiting for state %s", state)
			}
			if env.Type != "PeerState" {
				continue
			}
			var st struct{ State string }
			_ = json.Unmarshal(env.Data, &st)
			if st.State == state {
				return
			}
		case <-deadline:
			w.t.Fatalf("no PeerState %s", state)
		}
	}
}

// pionPeer is the independent sender.
type pionPeer struct {
	pc        *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticSample
	audio     *webrtc.TrackLocalStaticSample
	connected chan struct{}
	closed    chan struct{} // pion's state became closed (or failed)
	plis      chan struct{}
	id        string // the server's peer id, from the offer
}

// pionConfig varies the pion peer.
type pionConfig struct {
	profile piondtls.SRTPProtectionProfile
	ipv6    bool // loopback ::1 instead of 127.0.0.1
	// interceptors turns on pion's defaults: NACK responder, reports, TWCC.
	interceptors bool
	// role forces pion's answering DTLS role; 0 keeps its default (passive
	// toward our ICE-lite offer, so the server is the DTLS client).
	role webrtc.DTLSRole
}

func newPion(t *testing.T, profile piondtls.SRTPProtectionProfile) *pionPeer {
	return newPionWith(t, pionConfig{profile: profile})
}

func newPionWith(t *testing.T, cfg pionConfig) *pionPeer {
	t.Helper()
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	if cfg.ipv6 {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP6})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	se.SetSRTPProtectionProfiles(cfg.profile)
	if cfg.role != 0 {
		// Only the DTLS role tests change this: pion's default is what a
		// user of pion gets (TestPionDTLSRoles).
		if err := se.SetAnsweringDTLSRole(cfg.role); err != nil {
			t.Fatal(err)
		}
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	opts := []func(*webrtc.API){webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me)}
	if cfg.interceptors {
		ir := &interceptor.Registry{}
		if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, webrtc.WithInterceptorRegistry(ir))
	}
	api := webrtc.NewAPI(opts...)
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "pion")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "pion")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(audio); err != nil {
		t.Fatal(err)
	}
	p := &pionPeer{pc: pc, track: track, audio: audio, connected: make(chan struct{}), closed: make(chan struct{}), plis: make(chan struct{}, 100)}
	var once, onceClosed sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(p.connected) })
		case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed:
			onceClosed.Do(func() { close(p.closed) })
		}
	})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				if fmt.Sprintf("%T", pk) == "*rtcp.PictureLossIndication" {
					select {
					case p.plis <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	t.Cleanup(func() {
		// pion can deadlock in Close when RTCP for a new SSRC arrives while its
		// transports start (srtp session close vs. DTLSTransport lock); do not
		// let a test hang on it.
		closed := make(chan struct{})
		go func() {
			_ = pc.Close()
			close(closed)
		}()
		select {
		case <-closed:
			<-readDone
		case <-time.After(10 * time.Second):
			t.Log("pion PeerConnection.Close did not return; leaving it")
		}
	})
	return p
}

// answer applies the server's offer and returns pion's answer.
func (p *pionPeer) answer(t *testing.T, offer string) string {
	t.Helper()
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatalf("pion refused our offer: %v\n%s", err, offer)
	}
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	return p.pc.LocalDescription().SDP
}

// stream sends the IVF file's frames and the Ogg file's Opus packets in real
// time for d.
func (p *pionPeer) stream(t *testing.T, d time.Duration) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.streamAudio(t, d)
	}()
	defer wg.Wait()
	p.streamVideo(t, d)
}

func (p *pionPeer) streamAudio(t *testing.T, d time.Duration) {
	f, err := os.Open(oggPath)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Error(err)
		return
	}
	const frameDur = 20 * time.Millisecond
	tick := time.NewTicker(frameDur)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); {
		page, _, err := r.ParseNextPage()
		if err != nil {
			return
		}
		if len(page) >= 8 && (string(page[:8]) == "OpusHead" || string(page[:8]) == "OpusTags") {
			continue
		}
		if err := p.audio.WriteSample(media.Sample{Data: page, Duration: frameDur}); err != nil {
			return
		}
		<-tick.C
	}
}

func (p *pionPeer) streamVideo(t *testing.T, d time.Duration) {
	f, err := os.Open(ivfPath)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		t.Error(err)
		return
	}
	frameDur := time.Second * time.Duration(hdr.TimebaseNumerator) / time.Duration(hdr.TimebaseDenominator)
	if frameDur <= 0 || frameDur > time.Second {
		frameDur = time.Second / 30
	}
	tick := time.NewTicker(frameDur)
	defer tick.Stop()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Error(err)
			return
		}
		if err := p.track.WriteSample(media.Sample{Data: frame, Duration: frameDur}); err != nil {
			return
		}
		<-tick.C
	}
}

// connect joins conf through the socket, has pion answer the offer and sends
// the answer (through edit, if given).
func connect(t *testing.T, w *wsClient, conf string, profile piondtls.SRTPProtectionProfile, edit func(string) string) *pionPeer {
	t.Helper()
	return connectWith(t, w, conf, pionConfig{profile: profile}, nil, edit)
}

// connectWith is connect with a pion configuration and a change to the
// offer before pion sees it.
func connectWith(t *testing.T, w *wsClient, conf string, cfg pionConfig, editOffer, edit func(string) string) *pionPeer {
	t.Helper()
	w.send("JoinConference", map[string]string{"conferenceName": conf})
	env := w.next("SdpOffer")
	var offer struct {
		SDP    string
		PeerID string `json:"peer"`
	}
	if err := json.Unmarshal(env.Data, &offer); err != nil {
		t.Fatal(err)
	}
	p := newPionWith(t, cfg)
	p.id = offer.PeerID
	if editOffer != nil {
		offer.SDP = editOffer(offer.SDP)
	}
	ans := p.answer(t, offer.SDP)
	if edit != nil {
		ans = edit(ans)
	}
	w.send("SdpAnswer", map[string]string{"sdp": ans})
	return p
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func checkJPEG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 480 {
		t.Fatalf("%s is %v, want 640x480", path, b)
	}
}

// TestPionEndToEnd: pion joins, answers, streams VP8 for 3 s; keyframes
// arrive as 640x480 JPEGs and callbacks, with each SRTP profile.
func TestPionEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile piondtls.SRTPProtectionProfile
	}{
		{"AES128_CM_HMAC_SHA1_80", piondtls.SRTP_AES128_CM_HMAC_SHA1_80},
		{"AEAD_AES_128_GCM", piondtls.SRTP_AEAD_AES_128_GCM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			w := dial(t, s.wsURL())
			p := connect(t, w, "e2e", tc.profile, nil)
			select {
			case <-p.connected:
			case <-time.After(15 * time.Second):
				t.Fatal("pion did not connect")
			}
			w.waitState("connected", 10*time.Second)
			p.stream(t, 3*time.Second)
			s.awaitKeyframes("2 keyframes", func() bool {
				return len(s.keyframesOf("e2e", "")) >= 2 && len(s.files()) >= 2
			})
			files := s.files()
			for _, f := range files {
				if !strings.HasPrefix(f, "e2e/") || !strings.Contains(f, "/keyframe-") {
					t.Fatalf("unexpected file %s", f)
				}
				checkJPEG(t, filepath.Join(s.dir, f))
				checkDefaultQuality(t, filepath.Join(s.dir, f))
			}
			for _, k := range s.keyframesOf("e2e", "") {
				if k.Width != 640 || k.Height != 480 || k.Image == nil || k.Image.Rect.Dx() != 640 || k.Path == "" {
					t.Fatalf("keyframe %+v", k)
				}
			}
			select {
			case <-p.plis:
			default:
				t.Error("pion saw no PLI")
			}
			waitFor(t, "audio counted", 5*time.Second, func() bool { return s.plugin.Stats().AudioPackets > 0 })
			st := s.plugin.Stats()
			t.Logf("stats %+v", st)
			if st.VideoPackets == 0 || st.VideoFrames < 60 || st.Keyframes < 2 || st.Snapshots < 2 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func withSTUN(addr string) rtcplug.Option { return rtcplug.WithSTUNServer(addr) }
