//go:build linux

package main

// The Firefox test: Firefox ESR, headless, with its fake camera and
// microphone, opens the demo page with ?start=1 and sends to the demo server.
// Both run in a network namespace of their own (see runInNetns). Firefox
// gathers no loopback host candidates, so the namespace also has a veth with
// a TEST-NET-1 address (addTestNet), which the server offers too. The test
// reads the page through Marionette, Firefox's built-in remote protocol.

import (
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	firefoxPath = "/usr/bin/firefox-esr"
	// firefoxTimeout bounds one run: start, connect, check, stop.
	firefoxTimeout = 90 * time.Second
)

// firefoxPrefs go into the fresh profile's user.js. Marionette on port 0
// writes the port it took to MarionetteActivePort in the profile. The fake
// camera and microphone are used without a prompt, and the site holds the
// camera and microphone permissions: without them Firefox gathers only the
// address of the default route, and the namespace has no default route
// ("use only default local addresses" in its ICE log). The rest keeps a
// fresh profile from first-run pages and background requests (there is no
// route out anyway).
const firefoxPrefs = `user_pref("marionette.port", 0);
user_pref("media.navigator.streams.fake", true);
user_pref("media.navigator.permission.disabled", true);
user_pref("permissions.default.camera", 1);
user_pref("permissions.default.microphone", 1);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.auto", false);
user_pref("app.update.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
`

const readVideoSettings = `(() => {
	const pc = window.rtcplugDemo && window.rtcplugDemo.pc();
	const s = pc && pc.getSenders().find((s) => s.track && s.track.kind === 'video');
	if (!s) return { width: 0, height: 0, setup: '' };
	const st = s.track.getSettings();
	const setup = (pc.localDescription.sdp.match(/^a=setup:\w+/m) || [''])[0];
	return { width: st.width || 0, height: st.height || 0, setup };
})()`

func TestFirefox(t *testing.T) {
	if os.Getenv(netnsEnv) != "1" {
		if testing.Short() {
			t.Skip("the Firefox test starts Firefox; skipped with -short")
		}
		if !fileExists(firefoxPath) {
			skipOrFail(t, "Firefox ESR is not installed at %s (apt-get install firefox-esr)", firefoxPath)
		}
		runInNetns(t)
		return
	}
	bringLoopbackUp(t)
	addTestNet(t)
	ctx, cancel := context.WithTimeout(t.Context(), firefoxTimeout)
	defer cancel()
	e := startDemo(t)
	t.Logf("%s", commandVersion(firefoxPath, "--version"))

	home := t.TempDir()
	profile := filepath.Join(home, "profile")
	if err := os.Mkdir(profile, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(firefoxPrefs), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(firefoxPath, "--headless", "--marionette", "--no-remote", "--profile", profile, "about:blank")
	// MOZ_LOG=mtransport:5,nicer:5 in the environment shows every step of
	// Firefox's ICE in the log.
	cmd.Env = append(os.Environ(), "HOME="+home, "TMPDIR="+home, "MOZ_HEADLESS=1")
	cmd.Stdout, cmd.Stderr = &e.chromeLog, &e.chromeLog
	wait, exited := startProc(t, cmd)

	m := connectMarionette(ctx, t, profile, exited)
	defer m.Close()
	version, err := m.newSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Marionette session with %s", version)

	const conference = "firefox"
	if err := m.navigate(ctx, e.url+"?conference="+conference+"&start=1"); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	var st pageState
	var jpegPath string
	var jpegSize image.Point
	for {
		if ctx.Err() != nil {
			t.Fatalf("after %v: page %+v, JPEG %q", time.Since(started).Round(time.Millisecond), st, jpegPath)
		}
		if err := m.eval(ctx, readPage, &st); err != nil {
			t.Fatalf("read the page: %v", err)
		}
		if st.Error != "" {
			t.Fatalf("the page shows an error: %q (state %+v)", st.Error, st)
		}
		if jpegPath == "" && validName.MatchString(st.PeerID) {
			jpegPath, jpegSize = decodedJPEG(t, filepath.Join(e.out, conference, st.PeerID, "*.jpg"))
		}
		// The gallery loads the newest images first; wait until it shows this one.
		if jpegPath != "" && st.Peer == "connected" && slices.Contains(st.Shown, "/snapshots/"+jpegRel(e.out, jpegPath)) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	var cam struct {
		Width, Height int
		Setup         string
	}
	if err := m.eval(ctx, readVideoSettings, &cam); err != nil {
		t.Fatal(err)
	}
	t.Logf("Firefox answered %s", cam.Setup)
	camera := image.Pt(cam.Width, cam.Height)
	t.Logf("connected %v after loading the page: page %+v; %s decodes to %dx%d; the camera track is %dx%d",
		time.Since(started).Round(time.Millisecond), st, jpegPath, jpegSize.X, jpegSize.Y, camera.X, camera.Y)
	if jpegSize != camera || camera.X == 0 {
		t.Errorf("the JPEG is %dx%d, the fake camera %dx%d", jpegSize.X, jpegSize.Y, camera.X, camera.Y)
	}
	if st.PC != "connected" || (st.ICE != "connected" && st.ICE != "completed") {
		t.Errorf("peer connection %q, ICE %q", st.PC, st.ICE)
	}
	var sent sentPackets
	if err := m.eval(ctx, readSent, &sent); err != nil {
		t.Fatalf("getStats: %v", err)
	}
	s := e.a.plugin.Stats()
	t.Logf("Firefox sent %d audio and %d video packets; the server decrypted %d audio and %d video packets, "+
		"decoded %d keyframes, wrote %d JPEGs", sent.Audio, sent.Video, s.AudioPackets, s.VideoPackets, s.Keyframes, s.Snapshots)
	if sent.Video == 0 || s.VideoPackets == 0 || sent.Audio == 0 || s.AudioPackets == 0 {
		t.Errorf("Firefox sent %d video and %d audio packets, the server decrypted %d and %d; want all > 0",
			sent.Video, sent.Audio, s.VideoPackets, s.AudioPackets)
	}

	// Stop ends the session on both sides.
	if err := m.eval(ctx, `(() => { document.getElementById('stop').click(); return true; })()`, nil); err != nil {
		t.Fatalf("click Stop: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); e.a.plugin.Stats().Peers != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("after Stop the plugin still has peers: %+v", e.a.plugin.Stats())
			break
		}
	}
	if err := m.quit(ctx); err != nil && !strings.Contains(err.Error(), "EOF") {
		t.Logf("quit: %v", err)
	}
	if err := wait(); err != nil {
		t.Logf("Firefox exited: %v", err)
	}
}

// jpegRel is the path of a JPEG under the output directory, as in its URL.
func jpegRel(out, p string) string {
	rel, _ := filepath.Rel(out, p)
	return filepath.ToSlash(rel)
}

// connectMarionette waits for Firefox to write the port Marionette listens
// on into the profile, then connects.
func connectMarionette(ctx context.Context, t *testing.T, profile string, exited <-chan struct{}) *marionette {
	t.Helper()
	portFile := filepath.Join(profile, "MarionetteActivePort")
	for {
		if b, err := os.ReadFile(portFile); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			m, err := dialMarionette(ctx, "127.0.0.1:"+strings.TrimSpace(string(b)))
			if err == nil {
				return m
			}
			t.Logf("marionette: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Firefox did not open Marionette (%s): %v", portFile, ctx.Err())
		case <-exited:
			t.Fatal("Firefox exited before it opened Marionette")
		case <-time.After(200 * time.Millisecond):
		}
	}
}
