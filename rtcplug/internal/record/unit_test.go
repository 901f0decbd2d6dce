package record

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/avc"
)

// A recorder that falls behind holds at most QueueBytes of media, not
// QueueItems frames of up to 4 MiB each; Close drains and is idempotent;
// media handed in after Close is dropped, not a panic.
func TestRecorderQueueBounded(t *testing.T) {
	r, s, err := prepare(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 1<<20)
	for i := 0; i < 100; i++ {
		r.Video(VP8, t0, i == 0, frame) // the writer is not running: nothing drains
	}
	if kept := 100 - int(r.Dropped()); kept > QueueBytes>>20 || kept == 0 {
		t.Fatalf("%d MiB queued", kept)
	}
	go r.run(s)
	r.Close()
	r.Close()
	before := r.Dropped()
	r.Audio(t0, []byte{1})
	if r.Dropped() != before+1 || r.queued.Load() != 0 {
		t.Fatalf("dropped %d, queued %d", r.Dropped()-before, r.queued.Load())
	}
}

func TestNewChecks(t *testing.T) {
	if _, err := New("", Options{}); err == nil {
		t.Fatal("empty dir accepted")
	}
	if _, err := New(t.TempDir(), Options{Limit: MinLimit - 1}); err == nil {
		t.Fatal("tiny limit accepted")
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(filepath.Join(file, "x"), Options{}); err == nil {
		t.Fatal("directory under a file accepted")
	}
}

// TestNoFileWithoutKeyframe: delta frames and audio alone write nothing;
// an existing recording is never overwritten.
func TestNoFileWithoutKeyframe(t *testing.T) {
	dir := t.TempDir()
	video, audio := ivfFrames(t), oggOpus(t)
	s := newSession(dir, Options{Audio: true})
	for _, x := range schedule(video[1:30], VP8, 1000, audio[:50], 0) {
		s.push(x.it)
	}
	s.close()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 || len(s.files) != 0 {
		t.Fatalf("files %v", ents)
	}
	if err := os.WriteFile(filepath.Join(dir, "recording.webm"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = newSession(dir, Options{})
	s.push(item{codec: VP8, at: t0, key: true, data: video[0]})
	s.close()
	if b, _ := os.ReadFile(filepath.Join(dir, "recording.webm")); string(b) != "keep" {
		t.Fatal("existing recording overwritten")
	}
	if len(s.files) != 1 || filepath.Base(s.files[0]) != "recording-2.webm" {
		t.Fatalf("files %v", s.files)
	}
}

// TestH264ParameterSetChange: a keyframe with other parameter sets (a
// sender that changed resolution) starts the next file, as the avcC of
// the first no longer describes it.
func TestH264ParameterSetChange(t *testing.T) {
	needTool(t, "ffprobe")
	dir := t.TempDir()
	a, b := h264Stream(t, "baseline", 320, 240, 1), h264Stream(t, "baseline", 640, 360, 1)
	// 360 lines are 23 macroblock rows cropped by 8 (§7.4.2.1.1).
	if c, err := parseAVC(b[0]); err != nil || c.width != 640 || c.height != 360 {
		t.Fatalf("%+v %v", c, err)
	}
	s := newSession(dir, Options{})
	for i, au := range append(a, b...) {
		s.push(item{codec: H264, at: t0.Add(time.Duration(i) * time.Second / 30), key: i%30 == 0, data: au})
	}
	s.close()
	if len(s.files) != 2 {
		t.Fatalf("files %v", s.files)
	}
	expectStreams(t, ffprobe(t, s.files[0]), "h264", 320, 240, false)
	expectStreams(t, ffprobe(t, s.files[1]), "h264", 640, 360, false)
}

// A keyframe without SPS/PPS cannot start an MP4: it is skipped, and the
// next complete one starts the file.
func TestH264KeyframeWithoutParameterSets(t *testing.T) {
	needTool(t, "ffmpeg")
	aus := h264Stream(t, "baseline", 320, 240, 2)
	dir := t.TempDir()
	s := newSession(dir, Options{})
	first, err := toAVCC(nil, aus[0])
	if err != nil {
		t.Fatal(err)
	}
	var idrOnly []byte // the IDR slice alone
	for _, n := range mustSplit(t, aus[0]) {
		if n[0]&0x1f == naluIDR {
			idrOnly = append(append(idrOnly, 0, 0, 0, 1), n...)
		}
	}
	if len(idrOnly) == 0 || len(first) == 0 {
		t.Fatal("no IDR in the first access unit")
	}
	s.push(item{codec: H264, at: t0, key: true, data: idrOnly})
	s.push(item{codec: H264, at: t0.Add(time.Second), key: true, data: aus[30]})
	s.close()
	if len(s.files) != 1 || s.skipped != 1 {
		t.Fatalf("files %v, skipped %d", s.files, s.skipped)
	}
}

func mustSplit(t *testing.T, b []byte) [][]byte {
	n, err := splitAnnexB(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDetectCodec(t *testing.T) {
	frames := ivfFrames(t)
	for i, f := range frames[:31] {
		if c := detectCodec(f); c != VP8 {
			t.Fatalf("VP8 frame %d taken for %s", i, c)
		}
	}
	for _, b := range [][]byte{{0, 0, 0, 1, 0x67}, {0, 0, 1, 0x65}} {
		if c := detectCodec(b); c != H264 {
			t.Fatalf("%x taken for %s", b, c)
		}
	}
	if w, h, ok := vp8Size(frames[0]); !ok || w != 640 || h != 480 {
		t.Fatalf("VP8 size %dx%d %v", w, h, ok)
	}
	if _, _, ok := vp8Size(frames[1]); ok {
		t.Fatal("size from a delta frame")
	}
}

func TestSplitAnnexB(t *testing.T) {
	in := []byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 4, 5}
	n, err := splitAnnexB(nil, in)
	if err != nil || len(n) != 3 || !bytes.Equal(n[0], []byte{0x67, 1, 2}) ||
		!bytes.Equal(n[1], []byte{0x68, 3}) || !bytes.Equal(n[2], []byte{0x65, 4, 5}) {
		t.Fatalf("%x %v", n, err)
	}
	if _, err := splitAnnexB(nil, []byte{1, 2, 3}); err == nil {
		t.Fatal("no start code accepted")
	}
	avcc, err := toAVCC(nil, append([]byte{0, 0, 1, 0x09, 0xf0}, in...)) // with an AUD
	if err != nil || !bytes.Equal(avcc, []byte{0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 3, 0, 0, 0, 3, 0x65, 4, 5}) {
		t.Fatalf("%x %v", avcc, err)
	}
}

// TestOpusDuration: RFC 6716 §3.1 TOC configurations and frame counts.
func TestOpusDuration(t *testing.T) {
	for _, c := range []struct {
		p    []byte
		want time.Duration
	}{
		{[]byte{0xfc}, 20 * time.Millisecond},              // config 31 (CELT FB 20 ms), code 0
		{[]byte{0x78}, 20 * time.Millisecond},              // config 15 (hybrid FB 20 ms)
		{[]byte{0x0b << 3}, 60 * time.Millisecond},         // config 11 (SILK WB 60 ms)
		{[]byte{0x0b<<3 | 1}, 120 * time.Millisecond},      // two 60 ms frames
		{[]byte{0x10<<3 | 3, 0x04}, 10 * time.Millisecond}, // four 2.5 ms CELT frames
		{[]byte{0x0b<<3 | 3, 0x05}, 20 * time.Millisecond}, // 300 ms claimed: not Opus, fallback
		{[]byte{0xfc | 3}, 20 * time.Millisecond},          // code 3 without its count byte
		{nil, 20 * time.Millisecond},
	} {
		if got := opusDuration(c.p); got != c.want {
			t.Errorf("%x: %v, want %v", c.p, got, c.want)
		}
	}
	for _, p := range oggOpus(t) {
		if d := opusDuration(p); d != 20*time.Millisecond {
			t.Fatalf("sample packet %v", d)
		}
	}
}

// FuzzParseAVC: hostile access units never panic the parsers that turn a
// keyframe into an MP4 configuration (mp4ff's SPS parser included).
func FuzzParseAVC(f *testing.F) {
	// libx264 constrained baseline 320x240: SPS, PPS, the head of the IDR.
	f.Add([]byte{0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec, 0x04, 0x40, 0, 0, 0x03, 0, 0x40, 0, 0, 0x0f, 0x03, 0xc5, 0x0a, 0xa8,
		0, 0, 0, 1, 0x68, 0xce, 0x0f, 0xc8, 0, 0, 1, 0x65, 0x88, 0x84, 0x3a, 0x26, 0x28, 0, 0x09, 0x02})
	f.Add([]byte{0, 0, 1})
	f.Add([]byte{0, 0, 0, 1, 0x67, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0x68, 0xff, 0, 0, 1, 0x65, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := parseAVC(b); err == nil {
			if c.width <= 0 || c.height <= 0 || len(c.sps) == 0 || len(c.pps) == 0 {
				t.Fatalf("config %+v", c)
			}
			_ = c.sameParams(b)
			// What passed our reader is safe for mp4ff's, and both agree on
			// the size.
			if sps, err := avc.ParseSPSNALUnit(c.sps, false); err == nil && (int(sps.Width) != c.width || int(sps.Height) != c.height) {
				t.Fatalf("size %dx%d, mp4ff says %dx%d", c.width, c.height, sps.Width, sps.Height)
			}
		}
		if len(b) > 0 {
			_, _, _ = spsSize(append([]byte{0x67}, b[1:]...))
		}
		_, _ = toAVCC(nil, b)
		_, _, _ = vp8Size(b)
		_ = opusDuration(b)
	})
}

// TestParseAVC: the size comes from the SPS (libx264's 320x240 is coded as
// 20x15 macroblocks, no cropping).
func TestParseAVC(t *testing.T) {
	au := []byte{0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec, 0x04, 0x40, 0, 0, 0x03, 0, 0x40, 0, 0, 0x0f, 0x03, 0xc5, 0x0a, 0xa8,
		0, 0, 0, 1, 0x68, 0xce, 0x0f, 0xc8, 0, 0, 1, 0x65, 0x88, 0x84, 0x3a, 0x26, 0x28, 0, 0x09, 0x02}
	c, err := parseAVC(au)
	if err != nil || c.width != 320 || c.height != 240 || len(c.sps) != 22 || len(c.pps) != 4 {
		t.Fatalf("%+v %v", c, err)
	}
	if !c.sameParams(au) || c.sameParams(append(append([]byte(nil), au[:30]...), 0, 0, 1, 0x68, 0xce, 0x0f, 0xc9)) {
		t.Fatal("sameParams")
	}
	if _, err := parseAVC(au[26:]); err == nil {
		t.Fatal("keyframe without SPS accepted")
	}
}

// TestTrackAbsorbsStepBack: the timeline stepping back 100 ms (a source's
// first sender report replacing its arrival anchor) neither reorders nor
// stacks frames; the track is back on the timeline within a second.
func TestTrackAbsorbsStepBack(t *testing.T) {
	var tr track
	frame := time.Second / 30
	var last time.Duration
	for i := 0; i < 90; i++ {
		raw := time.Duration(i) * frame
		if i >= 20 {
			raw -= 100 * time.Millisecond
		}
		got, ok := tr.place(raw)
		if !ok {
			t.Fatalf("frame %d refused", i)
		}
		if i > 0 && got-last < frame*9/10 {
			t.Fatalf("frame %d only %v after the one before", i, got-last)
		}
		if i >= 20+33 && got != raw {
			t.Fatalf("frame %d at %v, timeline says %v", i, got, raw)
		}
		last = got
	}
	if _, ok := (&track{}).place(-time.Millisecond); ok {
		t.Fatal("sample before the file's start placed")
	}
}

// TestQueueKeepsTrackOrder: a frame whose time is before the previous
// frame's (the timeline stepped back) is still written after it, while the
// interleaving holds video back for the audio.
func TestQueueKeepsTrackOrder(t *testing.T) {
	needTool(t, "ffprobe")
	dir := t.TempDir()
	frames := ivfFrames(t)[:40]
	s := newSession(dir, Options{Audio: true})
	// Audio comes 150 ms behind the video here, so video waits in the queue.
	for _, x := range schedule(frames, VP8, 30, oggOpus(t)[:70], -150*time.Millisecond) {
		if !x.it.audio && !x.it.at.Before(t0.Add(20*time.Second/30)) {
			x.it.at = x.it.at.Add(-50 * time.Millisecond)
		}
		s.push(x.it)
	}
	s.close()
	decodesClean(t, s.files[0])
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=size",
		"-of", "csv=p=0", s.files[0]).Output()
	if err != nil {
		t.Fatal(err)
	}
	sizes := strings.Fields(string(out))
	if len(sizes) != len(frames) {
		t.Fatalf("%d frames written, %d fed", len(sizes), len(frames))
	}
	for i, f := range frames {
		if sizes[i] != strconv.Itoa(len(f)) {
			t.Fatalf("frame %d out of place: sizes %v", i, sizes)
		}
	}
}

// TestInterleaveBounded: a track that stops (here audio) holds the other
// at most holdBack; huge samples are held at most holdBytes.
func TestInterleaveBounded(t *testing.T) {
	s := newSession(t.TempDir(), Options{Audio: true})
	s.push(item{audio: true, at: t0, data: []byte{0xfc}})
	big := make([]byte, 4<<20)
	for i := 0; i < 40; i++ {
		s.push(item{codec: VP8, at: t0.Add(time.Duration(i) * time.Second / 30), data: big})
		if s.queueBytes > holdBytes+int64(len(big)) {
			t.Fatalf("%d bytes held", s.queueBytes)
		}
	}
	for i := 40; i < 90; i++ {
		s.push(item{codec: VP8, at: t0.Add(time.Duration(i) * time.Second / 30), data: []byte{1}})
	}
	if oldest := s.queue[0].at; oldest.Before(t0.Add(89*time.Second/30 - holdBack)) {
		t.Fatalf("held since %v", oldest.Sub(t0))
	}
	s.close()
}
