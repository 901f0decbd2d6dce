package main

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// preferH264 runs in the loaded page before Start is clicked. When the page
// answers the server's offer (VP8 first, H.264 second), its video
// transceiver prefers the browser's H.264 formats alone
// (setCodecPreferences, which shapes the answer); Chromium still sends the
// offer's first format, so once the answer is set the sender is switched to
// H.264 too (RTCRtpEncodingParameters.codec, WebRTC Extensions §5).
const preferH264 = `(() => {
	const isH264 = (c) => c.mimeType.toLowerCase() === 'video/h264';
	const createAnswer = RTCPeerConnection.prototype.createAnswer;
	RTCPeerConnection.prototype.createAnswer = function (...args) {
		const h264 = RTCRtpReceiver.getCapabilities('video').codecs.filter(isH264);
		for (const t of this.getTransceivers()) {
			if (t.receiver.track.kind === 'video') t.setCodecPreferences(h264);
		}
		window.rtcplugH264Formats = h264.length;
		return createAnswer.apply(this, args);
	};
	const setLocal = RTCPeerConnection.prototype.setLocalDescription;
	RTCPeerConnection.prototype.setLocalDescription = async function (...args) {
		await setLocal.apply(this, args);
		for (const t of this.getTransceivers()) {
			if (t.receiver.track.kind !== 'video' || !t.sender.track) continue;
			const p = t.sender.getParameters();
			const c = (p.codecs || []).find(isH264);
			if (c && p.encodings && p.encodings.length) {
				p.encodings[0].codec = c;
				await t.sender.setParameters(p);
			}
		}
	};
	return true;
})()`

// sentCodec is the codec of the browser's outgoing video, its packets and
// the size of the frames it encodes.
type sentCodec struct {
	MimeType string `json:"mimeType"`
	Packets  int64  `json:"packets"`
	Formats  int    `json:"formats"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

const readSentCodec = `(async () => {
	const pc = window.rtcplugDemo && window.rtcplugDemo.pc();
	const out = { mimeType: '', packets: 0, formats: window.rtcplugH264Formats || 0, width: 0, height: 0 };
	if (!pc) return out;
	const stats = await pc.getStats();
	stats.forEach((r) => {
		if (r.type === 'outbound-rtp' && r.kind === 'video') {
			out.packets += r.packetsSent || 0;
			out.width = r.frameWidth || out.width;
			out.height = r.frameHeight || out.height;
			const c = stats.get(r.codecId);
			if (c) out.mimeType = c.mimeType;
		}
	});
	return out;
})()`

// browserH264: Chromium sends H.264 from its fake camera (chosen with
// setCodecPreferences); the server depacketizes and decodes it: a JPEG of
// the size Chromium encodes lands under the peer's directory, and the
// recording is a recording.mp4.
func browserH264(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), subtestTimeout)
	defer cancel()
	rec := t.TempDir()
	e := startDemo(t, func(c *config) { c.RecordDir = rec })
	bctx := e.openBrowser(t, ctx, "")
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](preferH264)); err != nil {
		t.Fatalf("prefer H.264 in the page: %v", err)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatalf("click Start: %v", err)
	}
	clicked := time.Now()
	var sent sentCodec
	var jpegPath, mp4 string
	var jpegSize image.Point
	for {
		if time.Since(clicked) > connectDeadline || ctx.Err() != nil {
			t.Fatalf("after %v: browser sends %+v; plugin %+v; JPEG %q", connectDeadline, sent, e.a.plugin.Stats(), jpegPath)
		}
		st, err := chromedp.Run(bctx, chromedp.Evaluate[pageState](readPage))
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		if st.Error != "" {
			t.Fatalf("the page shows an error: %q (state %+v)", st.Error, st)
		}
		if sent, err = chromedp.Run(bctx, chromedp.Evaluate[sentCodec](readSentCodec, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("getStats: %v", err)
		}
		if sent.Formats == 0 {
			// Debian's Chromium 156 lists H.264 (OpenH264); a build without it
			// cannot take part.
			if time.Since(clicked) > 5*time.Second {
				skipOrFail(t, "this Chromium offers no H.264 formats")
			}
		}
		// Chromium may start below the camera's size and scale up as its
		// bandwidth estimate grows: wait for a JPEG of the size it sends now.
		if validName.MatchString(st.PeerID) && sent.Width > 0 {
			jpegPath, jpegSize = jpegOfSize(t, filepath.Join(e.out, "defaultConference", st.PeerID, "*.jpg"), sent.Width, sent.Height)
			mp4 = filepath.Join(rec, "defaultConference", st.PeerID, "recording.mp4")
		}
		// A decoded keyframe, a second of frames and the recording begun.
		if s := e.a.plugin.Stats(); st.Peer == "connected" && jpegPath != "" && s.VideoFrames >= 30 && sent.MimeType != "" && nonEmpty(mp4) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	s := e.a.plugin.Stats()
	t.Logf("after %v: the browser sends %s (%d packets, %d H.264 formats preferred); the server assembled %d frames, "+
		"%d decoded keyframes, sent %d PLIs",
		time.Since(clicked).Round(time.Millisecond), sent.MimeType, sent.Packets, sent.Formats, s.VideoFrames,
		s.Keyframes, s.PLIs)
	if sent.MimeType != "video/H264" || s.Keyframes == 0 || s.FailedKeyframes != 0 {
		t.Errorf("browser %+v, plugin %+v: want H.264 frames and decoded keyframes", sent, s)
	}
	t.Logf("%s decodes to %dx%d, the size the browser encodes; %s is written", jpegPath, jpegSize.X, jpegSize.Y, mp4)
}

// jpegOfSize returns a file matching pattern that decodes as a w x h JPEG.
func jpegOfSize(t *testing.T, pattern string, w, h int) (string, image.Point) {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	for _, f := range files {
		if p, sz := decodedJPEG(t, f); p != "" && sz == image.Pt(w, h) {
			return p, sz
		}
	}
	return "", image.Point{}
}

// nonEmpty reports whether path is a file with something in it.
func nonEmpty(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}
