//go:build linux

package main

// The GStreamer test: webrtcbin (libnice, OpenSSL, libsrtp2) sends
// videotestsrc as VP8 and audiotestsrc as Opus to the demo server, once as a
// WHIP client and once through the WebSocket signaling, and as H.264 from
// x264enc over WHIP, driven by testdata/gst_sender.py. Like the browsers it runs in a network namespace
// of its own with loopback and the test's TEST-NET-1 veth.

import (
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug"
)

const (
	gstPython = "/usr/bin/python3" // Debian's, which has the GObject bindings
	gstScript = "testdata/gst_sender.py"
	// gstTimeout bounds one run: start, connect, check, stop.
	gstTimeout = 60 * time.Second
)

// gstSize is what videotestsrc makes; any JPEG must have it.
var gstSize = image.Pt(400, 300)

// gstCheck imports what gst_sender.py needs and looks up every element the
// pipeline and webrtcbin use, so a missing package is named before the run.
const gstCheck = `import gi
gi.require_version("Gst", "1.0"); gi.require_version("GstWebRTC", "1.0"); gi.require_version("GstSdp", "1.0")
from gi.repository import Gst, GstWebRTC, GstSdp
import websockets
Gst.init(None)
missing = [e for e in ("webrtcbin", "nicesrc", "nicesink", "dtlssrtpenc", "srtpenc", "videotestsrc", "vp8enc",
	"rtpvp8pay", "audiotestsrc", "opusenc", "rtpopuspay", "videoconvert", "audioconvert", "audioresample")
	if Gst.ElementFactory.find(e) is None]
if missing: raise SystemExit("missing GStreamer elements: " + " ".join(missing))
print(Gst.version_string())
`

const gstPackages = "apt-get install gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad " +
	"gstreamer1.0-nice python3-gst-1.0 gir1.2-gst-plugins-bad-1.0 python3-websockets"

func TestGStreamer(t *testing.T) {
	if os.Getenv(netnsEnv) != "1" {
		if testing.Short() {
			t.Skip("the GStreamer test starts webrtcbin; skipped with -short")
		}
		if out, err := exec.Command(gstPython, "-c", gstCheck).CombinedOutput(); err != nil {
			skipOrFail(t, "GStreamer's webrtcbin for Python is not usable (%s): %v\n%s", gstPackages, err, out)
		}
		runInNetns(t)
		return
	}
	bringLoopbackUp(t)
	addTestNet(t) // libnice, too, gathers no loopback candidates
	// GStreamer's plugin cache, made once here rather than in $HOME.
	registry := filepath.Join(t.TempDir(), "registry.bin")
	check := exec.Command(gstPython, "-c", gstCheck)
	check.Env = append(os.Environ(), "GST_REGISTRY="+registry)
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	} else {
		t.Logf("%s", strings.TrimSpace(string(out)))
	}
	t.Run("whip", func(t *testing.T) { gstRun(t, "whip", "vp8", registry) })
	t.Run("ws", func(t *testing.T) { gstRun(t, "ws", "vp8", registry) })
	t.Run("whip-h264", func(t *testing.T) {
		check := exec.Command(gstPython, "-c", gstCheckH264)
		check.Env = append(os.Environ(), "GST_REGISTRY="+registry)
		if out, err := check.CombinedOutput(); err != nil {
			skipOrFail(t, "x264enc is missing (apt-get install gstreamer1.0-plugins-ugly): %v\n%s", err, out)
		}
		gstRun(t, "whip", "h264", registry)
	})
}

// gstCheckH264 looks up the H.264 elements (x264enc is in plugins-ugly).
const gstCheckH264 = `import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst
Gst.init(None)
missing = [e for e in ("x264enc", "rtph264pay") if Gst.ElementFactory.find(e) is None]
if missing: raise SystemExit("missing GStreamer elements: " + " ".join(missing))
`

// gstRun streams until a JPEG of gstSize is on disk, then closes the
// script's stdin, which ends the session (WHIP DELETE or LeaveConference).
// codec is the script's --codec; for h264 the peer must have received
// H.264 (and nothing else), so the JPEG was decoded from it.
func gstRun(t *testing.T, mode, codec, registry string) {
	ctx, cancel := context.WithTimeout(t.Context(), gstTimeout)
	defer cancel()
	e := startDemo(t)
	conference := "gstreamer-" + mode
	if codec != "vp8" {
		conference += "-" + codec
	}
	url := e.url + "whip/" + conference
	if mode == "ws" {
		url = "ws" + strings.TrimPrefix(e.url, "http") + "ws"
	}
	cmd := exec.Command(gstPython, gstScript, mode, url, "--conference", conference,
		"--width", fmt.Sprint(gstSize.X), "--height", fmt.Sprint(gstSize.Y), "--codec", codec)
	cmd.Env = append(os.Environ(), "GST_DEBUG=2", "GST_REGISTRY="+registry)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &e.chromeLog
	wait, exited := startProc(t, cmd)
	output := func() string { return strings.TrimSpace(stdout.String()) }
	defer func() { t.Logf("gst_sender.py %s:\n%s", mode, output()) }()

	started := time.Now()
	jpegPath, size := waitJPEG(ctx, t, filepath.Join(e.out, conference, "*", "*.jpg"), func() error {
		select {
		case <-exited:
			return fmt.Errorf("gst_sender.py ended: %v", wait())
		default:
			return nil
		}
	})
	t.Logf("%s decodes to %dx%d, %v after the start", jpegPath, size.X, size.Y, time.Since(started).Round(time.Millisecond))
	if size != gstSize {
		t.Errorf("the JPEG is %dx%d, videotestsrc sends %dx%d", size.X, size.Y, gstSize.X, gstSize.Y)
	}
	peer := filepath.Base(filepath.Dir(jpegPath))
	switch {
	case mode == "ws" && !strings.Contains(output(), "peer "+peer):
		t.Errorf("the JPEG is in %s, not under the peer the sender was told", peer)
	case mode != "ws" && strings.Contains(output(), "peer "+peer):
		// The WHIP Location carries the session's secret, never the public peer id.
		t.Errorf("the WHIP Location names the peer id %s", peer)
	}
	want := map[string]string{"vp8": rtcplug.CodecVP8, "h264": rtcplug.CodecH264}[codec]
	got := "no peer " + peer
	for _, p := range e.a.plugin.Peers() {
		if p.ID == peer {
			got = p.VideoCodec
		}
	}
	if got != want {
		t.Errorf("the peer receives %q, the sender sends %s", got, want)
	}
	// Opus goes through the same transport; its counter lags a little.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		s := e.a.plugin.Stats()
		if s.AudioPackets > 0 && s.VideoPackets > 0 {
			t.Logf("the server decrypted %d audio and %d video packets, decoded %d keyframes, wrote %d JPEGs",
				s.AudioPackets, s.VideoPackets, s.Keyframes, s.Snapshots)
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Errorf("the server decrypted %d audio and %d video packets; want both > 0", s.AudioPackets, s.VideoPackets)
			break
		}
	}

	stdin.Close()
	if err := wait(); err != nil {
		t.Errorf("gst_sender.py did not end cleanly: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); e.a.plugin.Stats().Peers != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("after the sender left the plugin still has peers: %+v", e.a.plugin.Stats())
			break
		}
	}
}
