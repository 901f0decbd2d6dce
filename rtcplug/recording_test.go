package rtcplug_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// needFFprobe skips a test without ffprobe, except in CI (.ci/run installs
// ffmpeg), where its absence fails the test.
func needFFprobe(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ffprobe", "ffmpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s not installed (apt-get install ffmpeg): skipping", tool)
		}
	}
}

// checkRecording: path holds one VP8 stream of 640x480 with at least
// minFrames frames and one Opus stream, plays for one of sent ±10%, and
// ffmpeg decodes it all without an error.
func checkRecording(t *testing.T, path string, sent []time.Duration, minFrames int) {
	t.Helper()
	checkRecordingOf(t, path, "vp8", 640, 480, sent, minFrames)
}

// checkRecordingOf is checkRecording for a video stream of codec (ffprobe's
// codec_name) and size w x h.
func checkRecordingOf(t *testing.T, path, codec string, w, h int, sent []time.Duration, minFrames int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames",
		"-show_entries", "stream=codec_type,codec_name,width,height,nb_read_frames:format=duration",
		"-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p struct {
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
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	var video, audio int
	for _, s := range p.Streams {
		switch {
		case s.CodecType == "video" && s.CodecName == codec && s.Width == w && s.Height == h:
			video++
			if n, _ := strconv.Atoi(s.NbReadFrames); n < minFrames {
				t.Fatalf("%d video frames", n)
			}
		case s.CodecType == "audio" && s.CodecName == "opus":
			audio++
		default:
			t.Fatalf("unexpected stream %+v", s)
		}
	}
	if video != 1 || audio != 1 {
		t.Fatalf("streams %+v", p.Streams)
	}
	d, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		t.Fatalf("duration %q", p.Format.Duration)
	}
	got, ok := time.Duration(d*float64(time.Second)), false
	for _, want := range sent {
		ok = ok || got >= want*9/10 && got <= want*11/10
	}
	if !ok {
		t.Fatalf("recording plays %v, %v sent", got, sent)
	}
	// Every frame keeps its own time (passthrough): at a rate ffmpeg guesses,
	// its output side would round two frames less than an interval apart (a
	// timeline step being paid back, see record's track) into one slot and
	// call that an error, though the file's times only ever increase; a
	// file whose times went back would still be reported.
	if out, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", path, "-fps_mode", "passthrough", "-f", "null", "-").CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("ffmpeg decoding %s: %v\n%s", path, err, out)
	}
}
