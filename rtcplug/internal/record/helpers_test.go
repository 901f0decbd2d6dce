package record

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
)

var t0 = time.Unix(1_000_000_000, 0)

// tb is what the helpers need of a test; the kill -9 child process has one
// of its own.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	TempDir() string
}

// needTool skips a test when name is not installed, except in CI, where
// .ci/run installs it and its absence is a failure.
func needTool(t tb, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (.ci/run installs ffmpeg): %v", name, err)
		}
		t.Skipf("%s not installed (apt-get install ffmpeg): skipping", name)
	}
}

// ivfFrames reads the VP8 test stream: 120 frames, 30 fps, a keyframe
// every 30.
func ivfFrames(t tb) [][]byte { return testivf.Must(t, testivf.VP8) }

// oggOpus reads the Opus packets of testdata/opus-48k.ogg (RFC 3533 pages,
// RFC 7845 header packets skipped): 200 packets of 20 ms.
func oggOpus(t tb) [][]byte {
	b, err := os.ReadFile("../../../testdata/opus-48k.ogg")
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	var cur []byte
	for off := 0; off+27 <= len(b); {
		if string(b[off:off+4]) != "OggS" {
			t.Fatalf("no page at %d", off)
		}
		nseg := int(b[off+26])
		lace := b[off+27 : off+27+nseg]
		data := off + 27 + nseg
		for _, l := range lace {
			cur = append(cur, b[data:data+int(l)]...)
			data += int(l)
			if l < 255 {
				pkts = append(pkts, cur)
				cur = nil
			}
		}
		off = data
	}
	if len(pkts) < 3 || !bytes.HasPrefix(pkts[0], []byte("OpusHead")) {
		t.Fatal("not Ogg Opus")
	}
	return pkts[2:]
}

// h264Stream encodes seconds of testsrc with libx264 (ffmpeg's defaults
// plus the settings a WebRTC sender uses: no B-frames, a keyframe every
// 30 frames) and splits the Annex B stream into access units.
func h264Stream(t tb, profile string, w, h int, seconds int) [][]byte {
	t.Helper()
	needTool(t, "ffmpeg")
	key := fmt.Sprint(profile, w, h, seconds)
	streamsMu.Lock()
	defer streamsMu.Unlock()
	if aus, ok := streams[key]; ok {
		return aus
	}
	out := filepath.Join(t.TempDir(), "in.h264")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-f", "lavfi",
		"-i", "testsrc=size="+strconv.Itoa(w)+"x"+strconv.Itoa(h)+":rate=30", "-t", strconv.Itoa(seconds),
		"-c:v", "libx264", "-profile:v", profile, "-pix_fmt", "yuv420p", "-bf", "0", "-g", "30",
		"-preset", "ultrafast", "-f", "h264", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	streams[key] = accessUnits(t, b)
	return streams[key]
}

// streams caches what h264Stream encoded: libx264 is the slow part.
var (
	streamsMu sync.Mutex
	streams   = map[string][][]byte{}
)

// accessUnits groups NAL units into access units (ITU-T H.264 §7.4.1.2.3):
// a new one starts at a parameter set, SEI or delimiter after a slice, or
// at a slice whose first_mb_in_slice is 0 (its ue(v) is the single bit 1).
func accessUnits(t tb, b []byte) [][]byte {
	nalus, err := splitAnnexB(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][]byte
	var cur []byte
	vcl := false
	for _, n := range nalus {
		typ := n[0] & 0x1f
		isVCL := typ >= 1 && typ <= 5
		if vcl && (!isVCL || len(n) > 1 && n[1]&0x80 != 0) {
			aus = append(aus, cur)
			cur, vcl = nil, false
		}
		cur = append(cur, 0, 0, 0, 1)
		cur = append(cur, n...)
		vcl = vcl || isVCL
	}
	if cur != nil {
		aus = append(aus, cur)
	}
	return aus
}

// sample is one thing to record, with the time it leaves the peer.
type sample struct {
	it      item
	arrival time.Time
}

// schedule lays out video frames at 30 fps and Opus packets every 20 ms
// from t0, video leaving the peer videoLag after audio of the same instant
// (as the reorder buffer and frame assembly delay it), in arrival order.
func schedule(video [][]byte, codec string, keyEvery int, audio [][]byte, videoLag time.Duration) []sample {
	var s []sample
	for i, f := range video {
		at := t0.Add(time.Duration(i) * time.Second / 30)
		s = append(s, sample{item{codec: codec, at: at, key: i%keyEvery == 0, data: f}, at.Add(videoLag)})
	}
	for i, p := range audio {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		s = append(s, sample{item{audio: true, at: at, data: p}, at})
	}
	sort.SliceStable(s, func(i, j int) bool { return s[i].arrival.Before(s[j].arrival) })
	return s
}

type probeResult struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		NbReadFrames string `json:"nb_read_frames"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func (p probeResult) duration(t testing.TB) time.Duration {
	d, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q", p.Format.Duration)
	}
	return time.Duration(d * float64(time.Second))
}

func (p probeResult) frames(t testing.TB, typ string) int {
	for _, s := range p.Streams {
		if s.CodecType == typ {
			n, err := strconv.Atoi(s.NbReadFrames)
			if err != nil {
				t.Fatalf("nb_read_frames %q", s.NbReadFrames)
			}
			return n
		}
	}
	t.Fatalf("no %s stream", typ)
	return 0
}

// ffprobe describes path's streams and counts their frames.
func ffprobe(t testing.TB, path string) probeResult {
	t.Helper()
	needTool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames",
		"-show_entries", "stream=codec_type,codec_name,width,height,nb_read_frames:format=duration",
		"-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probeResult
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodesClean runs the whole file through ffmpeg's decoders: nothing may be
// reported at error level.
func decodesClean(t testing.TB, path string) {
	t.Helper()
	needTool(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Every frame keeps its own time (passthrough): at a rate ffmpeg guesses,
	// its output side would round two frames less than an interval apart (a
	// timeline step being paid back, see track) into one slot and
	// call that an error, though the file's times only ever increase; a
	// file whose times went back would still be reported.
	out, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", path, "-fps_mode", "passthrough", "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg decoding %s: %v\n%s", path, err, out)
	}
}

// expectStreams checks one video stream of codec and size and, when audio
// is set, one Opus stream.
func expectStreams(t testing.TB, p probeResult, codec string, w, h int, audio bool) {
	t.Helper()
	var v, a int
	for _, s := range p.Streams {
		switch s.CodecType {
		case "video":
			v++
			if s.CodecName != codec || s.Width != w || s.Height != h {
				t.Fatalf("video stream %s %dx%d, want %s %dx%d", s.CodecName, s.Width, s.Height, codec, w, h)
			}
		case "audio":
			a++
			if s.CodecName != "opus" {
				t.Fatalf("audio stream %s", s.CodecName)
			}
		}
	}
	want := 0
	if audio {
		want = 1
	}
	if v != 1 || a != want {
		t.Fatalf("%d video and %d audio streams: %+v", v, a, p.Streams)
	}
}

func within(t testing.TB, what string, got, want time.Duration, frac float64) {
	t.Helper()
	if d := float64(got - want); d > frac*float64(want) || d < -frac*float64(want) {
		t.Fatalf("%s %v, want %v ±%.0f%%", what, got, want, frac*100)
	}
}

// inSync checks that both streams of path start together (the file starts
// at the first keyframe, and audio and video of the same instant share a
// time): within one audio packet.
func inSync(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	starts := map[string]float64{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		f := bytes.Split(line, []byte(","))
		if len(f) != 2 {
			t.Fatalf("ffprobe line %q", line)
		}
		v, err := strconv.ParseFloat(string(f[1]), 64)
		if err != nil {
			t.Fatalf("start_time %q", f[1])
		}
		starts[string(f[0])] = v
	}
	if d := starts["video"] - starts["audio"]; len(starts) != 2 || d > 0.02 || d < -0.02 {
		t.Fatalf("stream starts %v", starts)
	}
}
