package rtcplug_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"
	piondtls "github.com/pion/dtls/v3"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/nutsbolts/webrtc/rtcplug"
)

func waitConnected(t *testing.T, p *pionPeer) {
	t.Helper()
	select {
	case <-p.connected:
	case <-time.After(15 * time.Second):
		t.Fatal("pion did not connect")
	}
}

// TestThreePeers: two peers in one conference and one in another, at once;
// each gets only its own files.
func TestThreePeers(t *testing.T) {
	s := newServer(t)
	confs := []string{"room1", "room1", "room2"}
	peers := make([]*pionPeer, len(confs))
	for i, c := range confs {
		w := dial(t, s.wsURL())
		peers[i] = connect(t, w, c, piondtls.SRTP_AEAD_AES_128_GCM, nil)
		if peers[i].id == "" {
			t.Fatal("offer without peerId")
		}
	}
	for _, p := range peers {
		waitConnected(t, p)
	}
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stream(t, 3*time.Second)
		}()
	}
	wg.Wait()
	s.awaitKeyframes("2 keyframes per peer", func() bool {
		for i, p := range peers {
			if len(s.keyframesOf(confs[i], p.id)) < 2 {
				return false
			}
		}
		return true
	})
	want := map[string]bool{}
	for i, p := range peers {
		want[confs[i]+"/"+p.id] = true
	}
	perDir := map[string]int{}
	for _, f := range s.files() {
		dir := filepath.ToSlash(filepath.Dir(f))
		if !want[dir] {
			t.Fatalf("file %s is not under a peer's own directory", f)
		}
		perDir[dir]++
		checkJPEG(t, filepath.Join(s.dir, f))
	}
	for dir := range want {
		if perDir[dir] < 2 {
			t.Fatalf("%s has %d files", dir, perDir[dir])
		}
	}
	s.mu.Lock()
	for _, k := range s.keyframes {
		if !want[k.Conference+"/"+k.Peer] || !strings.Contains(filepath.ToSlash(k.Path), k.Conference+"/"+k.Peer+"/") {
			t.Errorf("keyframe %s/%s at %s", k.Conference, k.Peer, k.Path)
		}
	}
	s.mu.Unlock()
}

var fingerprintRE = regexp.MustCompile(`(?m)^a=fingerprint:sha-256 [0-9A-Fa-f:]+`)

// TestWrongFingerprint: an answer whose fingerprint is not the pion peer's
// certificate ends with PeerState failed and no files.
func TestWrongFingerprint(t *testing.T) {
	s := newServer(t)
	w := dial(t, s.wsURL())
	fake := "a=fingerprint:sha-256 " + strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	connect(t, w, "fp", piondtls.SRTP_AEAD_AES_128_GCM, func(ans string) string {
		if !fingerprintRE.MatchString(ans) {
			t.Fatalf("no sha-256 fingerprint in pion's answer:\n%s", ans)
		}
		return fingerprintRE.ReplaceAllString(ans, fake)
	})
	w.waitState("failed", 20*time.Second)
	if f := s.files(); len(f) != 0 || len(s.keyframesOf("fp", "")) != 0 {
		t.Fatalf("files %v", f)
	}
	waitFor(t, "the failed peer to leave", 5*time.Second, func() bool { return s.plugin.Stats().Peers == 0 })
}

// TestSignalingErrors: every refusal gets its Error, the socket stays open
// and the server keeps working.
func TestSignalingErrors(t *testing.T) {
	s := newServer(t, rtcplug.WithAuthorize(func(r *http.Request, conf string) (string, error) {
		if conf == "forbidden" {
			return "", errors.New("not on the list")
		}
		return "", nil
	}))
	w := dial(t, s.wsURL())

	w.sendRaw(`{not json`)
	w.expectError("bad-request")
	w.sendRaw(`{"type":"Bogus","data":{}}`)
	w.expectError("unknown-type")
	w.sendRaw(`{"data":{}}`)
	w.expectError("bad-request")
	w.send("SdpAnswer", map[string]string{"sdp": "v=0\r\n"})
	w.expectError("not-joined")
	w.send("JoinConference", map[string]string{"conferenceName": "no/slashes"})
	w.expectError("bad-conference")
	w.send("JoinConference", map[string]string{"conferenceName": strings.Repeat("x", 65)})
	w.expectError("bad-conference")
	w.send("JoinConference", map[string]string{"conferenceName": ""})
	w.expectError("bad-conference")
	w.send("JoinConference", map[string]string{"conferenceName": "forbidden"})
	w.expectError("unauthorized")
	w.sendRaw(`{"type":"JoinConference","data":{"conferenceName":"` + strings.Repeat("y", 70<<10) + `"}}`)
	w.expectError("bad-request")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := w.c.Write(ctx, 2 /* binary */, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	cancel()
	w.expectError("bad-request")

	// A real answer, spoilt in each way the server must notice.
	var answer string
	p := connect(t, w, "sig", piondtls.SRTP_AEAD_AES_128_GCM, func(ans string) string {
		answer = ans
		return "this is not SDP"
	})
	w.expectError("bad-answer")
	w.send("JoinConference", map[string]string{"conferenceName": "sig"})
	w.expectError("already-joined")
	drop := func(prefix string) string {
		var out []string
		for _, l := range strings.Split(answer, "\r\n") {
			if !strings.HasPrefix(l, prefix) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\r\n")
	}
	for name, bad := range map[string]string{
		"no ICE ufrag":    drop("a=ice-ufrag:"),
		"no ICE pwd":      drop("a=ice-pwd:"),
		"no fingerprint":  drop("a=fingerprint:"),
		"no video codec":  strings.ReplaceAll(strings.ReplaceAll(answer, "VP8/90000", "XYZ/90000"), "H264/90000", "XYZ/90000"),
		"empty":           "",
		"only version":    "v=0\r\n",
		"garbage in sdp ": "v=0\r\nm=video\r\n",
	} {
		w.send("SdpAnswer", map[string]string{"sdp": bad})
		code := "bad-answer"
		w.t.Logf("case %s", name)
		w.expectError(code)
	}
	w.send("IceCandidate", map[string]any{"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"})

	// The untouched answer still works: the server stayed healthy.
	w.send("SdpAnswer", map[string]string{"sdp": answer})
	waitConnected(t, p)
	w.waitState("connected", 10*time.Second)
	w.send("SdpAnswer", map[string]string{"sdp": answer})
	w.expectError("bad-answer") // only one answer per peer

	// Leave, then a new socket joins again.
	w.send("LeaveConference", nil)
	w.waitState("closed", 10*time.Second)
	w2 := dial(t, s.wsURL())
	w2.send("JoinConference", map[string]string{"conferenceName": "sig"})
	w2.next("SdpOffer")
}

// TestMountErrors: a taken path or port, or a bad option, is an error that
// says which (not a panic, not any error), and a refused Mount leaves nothing
// running.
func TestMountErrors(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	taken := func(route func(chi.Router)) chi.Router {
		r := chi.NewRouter()
		route(r)
		return r
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		r    chi.Router
		opts []rtcplug.Option
		is   error  // errors.Is target, if any
		msg  string // substring of the message
	}{
		{"nil router", nil, nil, nil, "rtcplug: nil router"},
		{"GET route taken", taken(func(r chi.Router) { r.Get("/ws", func(http.ResponseWriter, *http.Request) {}) }),
			nil, nil, "route GET /ws is already taken"},
		{"WHIP route taken", taken(func(r chi.Router) { r.Post("/whip/{c}", func(http.ResponseWriter, *http.Request) {}) }),
			nil, nil, "route POST /whip/{conference} is already taken"},
		{"sub-tree taken", taken(func(r chi.Router) { r.Post("/ws/*", func(http.ResponseWriter, *http.Request) {}) }),
			nil, nil, "cannot mount at /ws"},
		{"UDP port taken", chi.NewRouter(), []rtcplug.Option{rtcplug.WithUDPPort(port)}, syscall.EADDRINUSE,
			fmt.Sprintf("bind UDP port %d", port)},
		{"context done", chi.NewRouter(), []rtcplug.Option{rtcplug.WithContext(done)}, context.Canceled, "context already done"},
		{"port range", chi.NewRouter(), []rtcplug.Option{rtcplug.WithUDPPort(70000)}, nil, "UDP port 70000 out of range"},
		{"relative path", chi.NewRouter(), []rtcplug.Option{rtcplug.WithSignalingPath("ws")}, nil, `signaling path "ws" must start with /`},
		{"same paths", chi.NewRouter(), []rtcplug.Option{rtcplug.WithWHIPPath("/ws")}, nil, "WHIP and signaling paths are the same"},
		{"JPEG quality", chi.NewRouter(), []rtcplug.Option{rtcplug.WithJPEGQuality(0)}, nil, "JPEG quality 0 not in 1..100"},
		{"any origin", chi.NewRouter(), []rtcplug.Option{rtcplug.WithOriginPatterns("*")}, nil, `origin pattern "*" would allow every origin`},
		{"STUN without port", chi.NewRouter(), []rtcplug.Option{rtcplug.WithSTUNServer("no-port")}, nil, `STUN server "no-port"`},
		{"max peers", chi.NewRouter(), []rtcplug.Option{rtcplug.WithMaxPeers(0, 1)}, nil, "max peers 0/1 < 1"},
	} {
		opts := append([]rtcplug.Option{rtcplug.WithUDPPort(0), rtcplug.WithLogger(testLogger(t))}, c.opts...)
		p, err := rtcplug.Mount(c.r, opts...)
		if err == nil {
			_ = p.Close()
			t.Errorf("%s: Mount succeeded", c.name)
			continue
		}
		if p != nil {
			t.Errorf("%s: Mount returned a plugin with its error", c.name)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: %v is not %v", c.name, err, c.is)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.msg)
		}
		for _, sentinel := range []error{rtcplug.ErrClosed, rtcplug.ErrFull, rtcplug.ErrUnauthorized} {
			if errors.Is(err, sentinel) {
				t.Errorf("%s: %v matches %v", c.name, err, sentinel)
			}
		}
	}
	// The refusals bound no port and started no goroutine.
	goleak.VerifyNone(t, leaks)

	// Two plugins on one router need two paths.
	r2 := chi.NewRouter()
	p1, err := rtcplug.Mount(r2, rtcplug.WithUDPPort(0), rtcplug.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer p1.Close()
	if _, err := rtcplug.Mount(r2, rtcplug.WithUDPPort(0), rtcplug.WithLogger(testLogger(t))); err == nil ||
		!strings.Contains(err.Error(), "route GET /ws is already taken") {
		t.Fatalf("second Mount at /ws: %v", err)
	}
	p2, err := rtcplug.Mount(r2, rtcplug.WithUDPPort(0), rtcplug.WithSignalingPath("/other/ws"),
		rtcplug.WithWHIPPath("/other/whip"), rtcplug.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
}

// TestLifecycle: cancelling the context or calling Close stops everything
// (Done closes, no goroutine left, the UDP port free again), with a
// connected peer and an open socket.
func TestLifecycle(t *testing.T) {
	for _, how := range []string{"cancel", "close"} {
		t.Run(how, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := chi.NewRouter()
			p, err := rtcplug.Mount(r, rtcplug.WithContext(ctx), rtcplug.WithUDPPort(0),
				rtcplug.WithCandidateFilter(loopback4), rtcplug.WithLogger(testLogger(t)),
				rtcplug.WithSnapshotDir(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(r)
			func() {
				// The client side lives in a sub-test scope so that its
				// cleanups run before the leak check.
				t.Run("client", func(t *testing.T) {
					w := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws")
					pp := connect(t, w, "life", piondtls.SRTP_AEAD_AES_128_GCM, nil)
					waitConnected(t, pp)
					w.waitState("connected", 10*time.Second)
					// Media flowing both ways: pion is past its start-up (see
					// newPion's cleanup) and our peer goroutine is busy.
					pp.stream(t, 300*time.Millisecond)
					select {
					case <-pp.plis:
					case <-time.After(5 * time.Second):
						t.Fatal("no PLI reached pion")
					}
					if how == "cancel" {
						cancel()
					} else {
						go p.Close()
					}
					// The timeouts only keep a hung shutdown from hanging the
					// test; how long shutdown takes is not asserted.
					select {
					case <-p.Done():
					case <-time.After(20 * time.Second):
						t.Fatal("Done never closed")
					}
					// The socket was closed by the server.
					select {
					case <-w.done:
					case <-time.After(20 * time.Second):
						t.Fatal("WebSocket still open")
					}
					if st := websocket.CloseStatus(w.err); st != websocket.StatusGoingAway {
						t.Fatalf("socket ended with %v, want 1001 Going Away", w.err)
					}
					// pion heard close_notify: DTLS closed, not an ICE timeout.
					select {
					case <-pp.closed:
					case <-time.After(5 * time.Second):
						t.Fatal("pion did not see the connection close")
					}
				})
			}()
			if err := p.Close(); err != nil { // idempotent
				t.Fatal(err)
			}
			srv.Close()
			port := p.UDPAddr().Port()
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.IPv6Unspecified(), port)))
			if err != nil {
				t.Fatalf("UDP port %d not free: %v", port, err)
			}
			c.Close()
			goleak.VerifyNone(t, before)
		})
	}
}

// TestRecording: with WithRecordDir, pion's VP8 and Opus land in one WebM
// that ffprobe reads as a 640x480 VP8 stream and an Opus stream as long as
// what was sent, and that ffmpeg decodes without an error.
func TestRecording(t *testing.T) {
	needFFprobe(t)
	rec := t.TempDir()
	s := newServer(t, rtcplug.WithRecordDir(rec))
	w := dial(t, s.wsURL())
	p := connect(t, w, "rec", piondtls.SRTP_AEAD_AES_128_GCM, nil)
	waitConnected(t, p)
	w.waitState("connected", 10*time.Second)
	start := time.Now()
	p.stream(t, 2*time.Second)
	streamed := time.Since(start)
	waitFor(t, "frames", 10*time.Second, func() bool { return s.plugin.Stats().VideoFrames >= 30 })
	w.send("LeaveConference", nil)
	w.waitState("closed", 10*time.Second)
	waitFor(t, "peer gone", 10*time.Second, func() bool { return s.plugin.Stats().Peers == 0 })

	// pion paces by a wall-clock ticker, which a loaded machine slows: fewer
	// frames go out than 2 s hold, each 1/30 s apart in RTP time, while its
	// sender reports map them to the wall clock. The recording follows the
	// reports, so its length lies near the frames' RTP span or the time
	// streamed; on an idle machine the two are the same 2 s.
	frames := s.plugin.Stats().VideoFrames
	checkRecording(t, filepath.Join(rec, "rec", p.id, "recording.webm"),
		[]time.Duration{time.Duration(frames) * time.Second / 30, streamed}, int(frames)*9/10)
}

// TestLimits: a full plugin refuses joins with Error "full" and accepts
// again once a peer left; an empty conference disappears.
func TestLimits(t *testing.T) {
	s := newServer(t, rtcplug.WithMaxPeers(2, 1), rtcplug.WithMaxConferences(1))
	a := dial(t, s.wsURL())
	a.send("JoinConference", map[string]string{"conferenceName": "one"})
	a.next("SdpOffer")
	b := dial(t, s.wsURL())
	b.send("JoinConference", map[string]string{"conferenceName": "one"})
	b.expectError("full") // one peer per conference
	b.send("JoinConference", map[string]string{"conferenceName": "two"})
	b.expectError("full") // one conference
	if st := s.plugin.Stats(); st.Peers != 1 || st.Conferences != 1 || st.Pending != 1 {
		t.Fatalf("stats %+v", st)
	}
	a.send("LeaveConference", nil)
	a.waitState("closed", 5*time.Second)
	waitFor(t, "conference removed", 5*time.Second, func() bool { return s.plugin.Stats().Conferences == 0 })
	b.send("JoinConference", map[string]string{"conferenceName": "two"})
	b.next("SdpOffer")
	if c := s.plugin.Conferences(); len(c) != 1 || c[0] != "two" {
		t.Fatalf("conferences %v", c)
	}
}

// TestShutdownWithSilentClient: a client that never answers the close
// handshake does not hold shutdown up.
func TestShutdownWithSilentClient(t *testing.T) {
	r := chi.NewRouter()
	p, err := rtcplug.Mount(r, rtcplug.WithUDPPort(0), rtcplug.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// The server is in its handler once the Welcome arrives; after that the
	// client never reads again, so it never answers the close handshake.
	if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), "Welcome") {
		t.Fatalf("first message %q, %v", b, err)
	}
	go p.Close()
	select {
	case <-p.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("shutdown waited for a silent client")
	}
}

// TestWHIP: pion as a WHIP sender (RFC 9725): it offers, the plugin answers
// with 201 and a Location, keyframes arrive, DELETE ends the peer.
func TestWHIP(t *testing.T) {
	s := newServer(t)
	p := newPion(t, piondtls.SRTP_AEAD_AES_128_GCM)
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	post := func(url, ctype, body string) *http.Response {
		t.Helper()
		resp, err := http.Post(url, ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// Refusals first.
	for _, c := range []struct {
		path, ctype, body string
		code              int
	}{
		{"/whip/room", "text/plain", offer.SDP, http.StatusUnsupportedMediaType},
		{"/whip/bad%20name", "application/sdp", offer.SDP, http.StatusBadRequest},
		{"/whip/room", "application/sdp", "not sdp", http.StatusBadRequest},
		{"/whip/room", "application/sdp", strings.ReplaceAll(strings.ReplaceAll(offer.SDP, "VP8", "XYZ"), "H264", "XYZ"), http.StatusBadRequest},
	} {
		resp := post(s.http.URL+c.path, c.ctype, c.body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Fatalf("%s %s: %d, want %d", c.path, c.ctype, resp.StatusCode, c.code)
		}
	}
	if s.plugin.Stats().Peers != 0 {
		t.Fatal("a refused offer left a peer")
	}
	resp := post(s.http.URL+"/whip/room", "application/sdp", offer.SDP)
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/sdp" {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/whip/room/") {
		t.Fatalf("Location %q", loc)
	}
	if !strings.Contains(string(answer), "a=setup:passive") || !strings.Contains(string(answer), "a=ice-lite") {
		t.Fatalf("answer:\n%s", answer)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, p)
	p.stream(t, 2500*time.Millisecond)
	s.awaitKeyframes("2 keyframes", func() bool { return len(s.keyframesOf("room", "")) >= 2 })

	req, _ := http.NewRequest(http.MethodPatch, s.http.URL+loc, strings.NewReader("a=end-of-candidates"))
	req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	req, _ = http.NewRequest(http.MethodDelete, s.http.URL+loc, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	waitFor(t, "peer gone", 5*time.Second, func() bool { return s.plugin.Stats().Peers == 0 })
	select {
	case <-p.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("pion did not see the connection end")
	}
	req, _ = http.NewRequest(http.MethodDelete, s.http.URL+loc, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second DELETE: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}
