//go:build linux

package main

// The real-browser test. Chromium and the demo server run together inside a
// fresh network namespace that has only a loopback interface: the test binary
// starts itself again in a new namespace, brings lo up and runs TestBrowser
// there. So the browser neither depends on nor touches the host's network, and
// Chromium is never started outside such a namespace.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"
	"golang.org/x/image/draw"

	"github.com/nutsbolts/webrtc/rtcplug"
	"golang.org/x/sys/unix"
)

const (
	chromiumPath = "/usr/bin/chromium"
	// netnsEnv tells the test binary that it runs inside the namespace.
	netnsEnv = "RTCPLUG_DEMOAPP_NETNS"
	// shotsEnv names the directory for the screenshots, one per user.
	shotsEnv = "RTCPLUG_DEMOAPP_SCREENSHOTS"
	// Bounds that keep the test from ever hanging CI.
	childTimeout    = 4 * time.Minute  // the whole re-executed test binary
	subtestTimeout  = 60 * time.Second // one browser run: start, connect, check, stop
	connectDeadline = 30 * time.Second // from the click on Start to a decoded JPEG on disk
	// maxScreenshotBytes bounds demoapp/screenshot.png, which the README shows.
	maxScreenshotBytes = 200 << 10
)

var updateScreenshot = flag.Bool("update-screenshot", false, "TestBrowser writes screenshot.png for the README")

func TestBrowser(t *testing.T) {
	if os.Getenv(netnsEnv) != "1" {
		if testing.Short() {
			t.Skip("the browser test starts Chromium; skipped with -short")
		}
		if _, err := os.Stat(chromiumPath); err != nil {
			skipOrFail(t, "Chromium is not installed at %s (apt-get install chromium): %v", chromiumPath, err)
		}
		runInNetns(t)
		return
	}
	bringLoopbackUp(t)

	for _, tc := range []struct{ name, disable string }{
		// Today's default: a DTLS 1.3 offer with a post-quantum key share,
		// so the ClientHello comes in two fragments.
		{"chromium-defaults", ""},
		// A ClientHello that fits one datagram.
		{"no-pqc-dtls", "WebRtcPqcForDtls"},
	} {
		t.Run(tc.name, func(t *testing.T) { browserRun(t, tc.name, tc.disable) })
	}
	t.Run("chromium-h264", browserH264)
	t.Run("camera-refused", browserCameraRefused)
	t.Run("server-gone", browserServerGone)
}

// skipOrFail skips, except under CI, where a missing prerequisite is an error.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set: "+format, args...)
	}
	t.Skipf(format, args...)
}

// runInNetns runs the top-level test t again in a child process that has its
// own network namespace, and relays its output.
func runInNetns(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := `^` + t.Name() + `$`
	if f := flag.Lookup("test.run"); f != nil {
		if _, sub, ok := strings.Cut(f.Value.String(), "/"); ok {
			run += "/" + sub
		}
	}
	args := []string{"-test.run=" + run, "-test.timeout=" + childTimeout.String(), "-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	if *updateScreenshot {
		args = append(args, "-update-screenshot")
	}

	shots := filepath.Join(os.TempDir(), fmt.Sprintf("rtcplug-demoapp-screenshots-%d", os.Geteuid()))
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), childTimeout+30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	// As root a network namespace is enough; otherwise (or where root may not
	// make one, as in some containers) a user namespace grants it.
	attempts := []uintptr{syscall.CLONE_NEWNET, syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET}
	if os.Geteuid() != 0 {
		attempts = attempts[1:]
	}
	var cmd *exec.Cmd
	var startErrs []error
	for _, flags := range attempts {
		cmd = exec.CommandContext(ctx, exe, args...)
		cmd.Env = append(os.Environ(), netnsEnv+"=1", shotsEnv+"="+shots)
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags: flags,
			Pdeathsig:  syscall.SIGKILL, // the child, and through chromedp Chromium, die with us
		}
		if flags&syscall.CLONE_NEWUSER != 0 {
			cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
			cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		}
		cmd.WaitDelay = 10 * time.Second
		cmd.Stdout, cmd.Stderr = pw, pw
		err := cmd.Start()
		if err == nil {
			startErrs = nil
			break
		}
		startErrs = append(startErrs, err)
	}
	if startErrs != nil {
		pw.Close()
		skipOrFail(t, "cannot start the test in a new network namespace (needs root or unprivileged user namespaces): %v",
			errors.Join(startErrs...))
	}
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}()
	err = cmd.Wait()
	pw.Close()
	<-done
	out := strings.Join(lines, "\n")
	t.Logf("in a network namespace of its own (pid %d):\n%s", cmd.Process.Pid, out)
	if err != nil {
		t.Fatalf("%s failed in the network namespace: %v", t.Name(), err)
	}
	if strings.Contains(out, "--- SKIP: "+t.Name()+" ") {
		t.Skip("skipped in the network namespace (see the log)")
	}
}

// bringLoopbackUp is `ip link set lo up` in the new namespace, and checks that
// loopback is all there is.
func bringLoopbackUp(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		t.Fatalf("lo flags: %v", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatalf("lo up: %v", err)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifaces) != 1 || ifaces[0].Flags&net.FlagLoopback == 0 || ifaces[0].Flags&net.FlagUp == 0 {
		t.Fatalf("want a namespace with only loopback up, have %v", ifaces)
	}
}

// pageState is what the page shows, read in one evaluation.
type pageState struct {
	WS     string   `json:"ws"`
	ICE    string   `json:"ice"`
	PC     string   `json:"pc"`
	Peer   string   `json:"peer"`
	PeerID string   `json:"peerId"`
	Error  string   `json:"error"`
	Images int      `json:"images"`
	Loaded int      `json:"loaded"`
	Shown  []string `json:"shown"` // URL paths of the loaded gallery images
	Start  bool     `json:"startEnabled"`
}

const readPage = `(() => {
	const text = (id) => document.getElementById(id).textContent.trim();
	const err = document.getElementById('error');
	const imgs = [...document.querySelectorAll('#gallery img')];
	return {
		ws: text('ws-state'), ice: text('ice-state'), pc: text('pc-state'), peer: text('peer-state'),
		peerId: text('peer-id'), error: err.hidden ? '' : text('error'),
		images: imgs.length, loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
		shown: imgs.filter((i) => i.complete && i.naturalWidth > 0).map((i) => new URL(i.src).pathname),
		startEnabled: !document.getElementById('start').disabled,
	};
})()`

// demoEnv is one demo server, in this process on loopback, and the logs of
// it and of the browser that talks to it.
type demoEnv struct {
	a         *app
	url, out  string
	serverLog syncBuffer
	chromeLog syncBuffer
	consoleMu sync.Mutex
	console   []string
	shutdown  func() error // stops the server; later calls return the first result
}

// startDemo starts the demo server; its cleanup stops it and prints the logs
// (all of them when the test failed).
func startDemo(t *testing.T, change ...func(*config)) *demoEnv {
	e := &demoEnv{out: t.TempDir()}
	cfg := config{HTTPAddr: "127.0.0.1:0", UDPPort: 0, OutputDir: e.out, LogLevel: zerolog.DebugLevel}
	for _, c := range change {
		c(&cfg)
	}
	logger := zerolog.New(zerolog.ConsoleWriter{Out: &e.serverLog, NoColor: true, TimeFormat: time.TimeOnly}).
		Level(cfg.LogLevel).With().Timestamp().Logger()
	ctx, stop := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, logger)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, ln) }()
	e.a, e.url = a, "http://"+ln.Addr().String()+"/"
	e.shutdown = sync.OnceValue(func() error {
		stop()
		select {
		case err := <-served:
			return err
		case <-time.After(15 * time.Second):
			return errors.New("the server did not stop")
		}
	})
	t.Cleanup(func() {
		if err := e.shutdown(); err != nil {
			t.Errorf("server: %v", err)
		}
		e.consoleMu.Lock()
		t.Logf("browser console:\n%s", strings.Join(e.console, "\n"))
		e.consoleMu.Unlock()
		if t.Failed() {
			t.Logf("server log:\n%s", e.serverLog.String())
			t.Logf("browser output:\n%s", e.chromeLog.String())
		} else {
			t.Logf("server log (info and above):\n%s", infoLines(e.serverLog.String()))
		}
	})
	t.Logf("demo server at %s, UDP %s", e.url, a.plugin.UDPAddr())
	return e
}

// openBrowser starts Chromium, bounded by ctx, with a fake camera and
// microphone that it grants without asking; extra options change that.
func (e *demoEnv) openBrowser(t *testing.T, ctx context.Context, disableFeature string, extra ...chromedp.ExecAllocatorOption) context.Context {
	disable := "Translate,BlinkGenPropertyTrees"
	if disableFeature != "" {
		disable += "," + disableFeature
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium's shared-memory directories (disable-dev-shm-usage) go
		// here and are removed with the test.
		chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-features", disable),
		chromedp.CombinedOutput(&e.chromeLog),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc) // waits for Chromium to exit
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)

	messages := chromedp.Console(bctx) // starts the browser
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			e.consoleMu.Lock()
			e.console = append(e.console, fmt.Sprintf("%s %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
			e.consoleMu.Unlock()
		}
	}()
	if err := chromedp.Do(bctx,
		chromedp.EmulateViewport(1200, 760),
		chromedp.Navigate(e.url),
		chromedp.WaitVisible(chromedp.ID("start")),
	); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	return bctx
}

// browserRun clicks Start and waits for a keyframe from the camera to be on
// disk and in the gallery, then clicks Stop.
func browserRun(t *testing.T, name, disableFeature string) {
	ctx, cancel := context.WithTimeout(t.Context(), subtestTimeout)
	defer cancel()
	e := startDemo(t)
	a, out := e.a, e.out
	bctx := e.openBrowser(t, ctx, disableFeature)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatalf("click Start: %v", err)
	}
	clicked := time.Now()

	var err error
	var st pageState
	var jpegPath string
	var jpegSize image.Point
	for {
		if time.Since(clicked) > connectDeadline || ctx.Err() != nil {
			t.Fatalf("after %v: page %+v, JPEG %q", connectDeadline, st, jpegPath)
		}
		st, err = chromedp.Run(bctx, chromedp.Evaluate[pageState](readPage))
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		if st.Error != "" {
			t.Fatalf("the page shows an error: %q (state %+v)", st.Error, st)
		}
		// The page knows its peer id from signaling (SdpOffer and PeerState
		// name it), and the files are under that id.
		if jpegPath == "" && validName.MatchString(st.PeerID) {
			jpegPath, jpegSize = decodedJPEG(t, filepath.Join(out, "defaultConference", st.PeerID, "*.jpg"))
		}
		// The gallery loads the newest images first; wait until it shows this one.
		if jpegPath != "" && st.Peer == "connected" && slices.Contains(st.Shown, "/snapshots/"+jpegRel(out, jpegPath)) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("connected %v after Start: page %+v; %s decodes to %dx%d",
		time.Since(clicked).Round(time.Millisecond), st, jpegPath, jpegSize.X, jpegSize.Y)
	rel, _ := filepath.Rel(out, jpegPath)
	if !slices.Contains(st.Shown, "/snapshots/"+filepath.ToSlash(rel)) {
		t.Errorf("the gallery shows %q, not %s", st.Shown, rel)
	}
	if st.ICE != "connected" && st.ICE != "completed" {
		t.Errorf("ICE state %q", st.ICE)
	}
	if st.PC != "connected" {
		t.Errorf("peer connection state %q", st.PC)
	}
	checkMedia(ctx, t, bctx, a)
	checkWall(ctx, t, bctx, e.url, st.PeerID)

	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// Kept after the test, for a person to look at; the next run replaces it.
	shotPath := filepath.Join(os.Getenv(shotsEnv), name+".png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shotPath)
	if *updateScreenshot && disableFeature == "" {
		small, err := shrinkPNG(shot, maxScreenshotBytes)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("screenshot.png", small, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote screenshot.png (%d bytes)", len(small))
	}

	// Stop ends the session on both sides.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("stop"))); err != nil {
		t.Fatalf("click Stop: %v", err)
	}
	st, err = chromedp.Run(bctx, chromedp.Evaluate[pageState](readPage))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Start || st.WS != "closed" || st.Error != "" {
		t.Errorf("after Stop: %+v", st)
	}
	// LeaveConference reached the server: the peer is gone.
	for deadline := time.Now().Add(5 * time.Second); a.plugin.Stats().Peers != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("after Stop the plugin still has peers: %+v", a.plugin.Stats())
			break
		}
	}
}

// waitError clicks Start and returns the page once it shows an error.
func waitError(t *testing.T, ctx, bctx context.Context) pageState {
	t.Helper()
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatalf("click Start: %v", err)
	}
	for {
		st, err := chromedp.Run(bctx, chromedp.Evaluate[pageState](readPage))
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		if st.Error != "" {
			return st
		}
		if ctx.Err() != nil {
			t.Fatalf("no error shown; page %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// browserCameraRefused: the browser refuses the camera, and the page says so
// in plain words and offers Start again.
func browserCameraRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), subtestTimeout)
	defer cancel()
	e := startDemo(t)
	bctx := e.openBrowser(t, ctx, "",
		chromedp.Flag("use-fake-ui-for-media-stream", false),
		chromedp.Flag("deny-permission-prompts", true))
	st := waitError(t, ctx, bctx)
	if !strings.Contains(st.Error, "Camera permission was refused") || st.WS != "idle" || !st.Start {
		t.Errorf("page %+v: want the camera refusal, no signaling, Start enabled", st)
	}
}

// browserServerGone: the page is loaded but the server has stopped, so the
// WebSocket cannot connect, and the page says so.
func browserServerGone(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), subtestTimeout)
	defer cancel()
	e := startDemo(t)
	bctx := e.openBrowser(t, ctx, "")
	if err := e.shutdown(); err != nil {
		t.Fatal(err)
	}
	st := waitError(t, ctx, bctx)
	if !strings.Contains(st.Error, "Could not connect to the signaling server") || st.WS != "closed" || !st.Start {
		t.Errorf("page %+v: want the signaling error, Start enabled", st)
	}
}

// decodedJPEG returns the first file matching pattern that decodes as a JPEG.
func decodedJPEG(t *testing.T, pattern string) (string, image.Point) {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s does not decode: %v", f, err)
			continue
		}
		if sz := img.Bounds().Size(); sz.X > 0 && sz.Y > 0 {
			return f, sz
		}
	}
	return "", image.Point{}
}

// sentPackets is what the browser's getStats says it sent.
type sentPackets struct {
	Audio int64 `json:"audio"`
	Video int64 `json:"video"`
}

const readSent = `(async () => {
	const pc = window.rtcplugDemo && window.rtcplugDemo.pc();
	const out = { audio: 0, video: 0 };
	if (!pc) return out;
	(await pc.getStats()).forEach((r) => {
		if (r.type === 'outbound-rtp' && (r.kind === 'audio' || r.kind === 'video')) out[r.kind] += r.packetsSent || 0;
	});
	return out;
})()`

// checkMedia checks that the fake camera's VP8 and the fake microphone's
// Opus packets went out of the browser and that the server authenticated and
// decrypted both.
func checkMedia(ctx context.Context, t *testing.T, bctx context.Context, a *app) {
	t.Helper()
	sent, err := chromedp.Run(bctx, chromedp.Evaluate[sentPackets](readSent, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("getStats: %v", err)
	}
	if sent.Audio == 0 || sent.Video == 0 {
		t.Errorf("the browser sent no audio or no video: %+v", sent)
	}
	// The plugin's counters of live peers lag a little.
	var s rtcplug.Stats
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		s = a.plugin.Stats()
		if s.AudioPackets > 0 && s.VideoPackets > 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Errorf("the server decrypted %d audio and %d video packets; want both > 0", s.AudioPackets, s.VideoPackets)
			return
		}
	}
	t.Logf("the browser sent %d audio and %d video packets; the server decrypted %d audio and %d video packets, "+
		"assembled %d frames, decoded %d keyframes, wrote %d JPEGs, sent %d PLIs",
		sent.Audio, sent.Video, s.AudioPackets, s.VideoPackets, s.VideoFrames, s.Keyframes, s.Snapshots, s.PLIs)
	if s.Keyframes == 0 || s.Snapshots == 0 || s.Peers != 1 {
		t.Errorf("plugin stats %+v: want keyframes decoded and written for 1 peer", s)
	}
}

// infoLines drops debug lines from a console log.
func infoLines(s string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l != "" && !strings.Contains(l, " DBG ") && !strings.Contains(l, " TRC ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// shrinkPNG scales a screenshot down until its PNG is at most max bytes.
func shrinkPNG(b []byte, max int) ([]byte, error) {
	src, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	for scale := 1.0; scale > 0.2; scale *= 0.85 {
		sz := src.Bounds().Size()
		dst := image.NewRGBA(image.Rect(0, 0, int(float64(sz.X)*scale), int(float64(sz.Y)*scale)))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		var buf bytes.Buffer
		if err := enc.Encode(&buf, dst); err != nil {
			return nil, err
		}
		if buf.Len() <= max {
			return buf.Bytes(), nil
		}
	}
	return nil, errors.New("the screenshot does not fit in the size limit")
}
