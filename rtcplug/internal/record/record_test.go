package record

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv("RECORD_KILL_CHILD"); dir != "" {
		killChild(dir)
		return
	}
	goleak.VerifyTestMain(m)
}

// record feeds samples through a Recorder in dir and closes it.
func recordAll(t *testing.T, dir string, o Options, s []sample) {
	t.Helper()
	r, err := New(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range s {
		if x.it.audio {
			r.Audio(x.it.at, x.it.data)
		} else {
			r.Video(x.it.codec, x.it.at, x.it.key, x.it.data)
		}
		// The queue is bounded; a test feeding faster than a disk writes
		// waits for it instead of losing media.
		for r.queued.Load() > QueueBytes/2 || len(r.queue) > QueueItems/2 {
			time.Sleep(time.Millisecond)
		}
	}
	r.Close()
	if r.Dropped() != 0 {
		t.Fatalf("%d dropped", r.Dropped())
	}
}

// TestWebM: VP8 + Opus become one WebM that ffprobe reads as one VP8 and
// one Opus stream of the right size and length, and that ffmpeg decodes
// without an error.
func TestWebM(t *testing.T) {
	needTool(t, "ffprobe")
	dir := t.TempDir()
	video, audio := ivfFrames(t), oggOpus(t)
	recordAll(t, dir, Options{Audio: true}, schedule(video, "", 30, audio, 150*time.Millisecond))
	path := filepath.Join(dir, "recording.webm")
	p := ffprobe(t, path)
	expectStreams(t, p, "vp8", 640, 480, true)
	within(t, "duration", p.duration(t), 4*time.Second, 0.1)
	if n := p.frames(t, "video"); n != len(video) {
		t.Fatalf("%d video frames, %d fed", n, len(video))
	}
	if n := p.frames(t, "audio"); n < len(audio)*9/10 {
		t.Fatalf("%d audio frames, %d fed", n, len(audio))
	}
	decodesClean(t, path)
	inSync(t, path)

	// Cues for the four keyframe clusters, found through the SeekHead.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	if err := ebml.Unmarshal(f, &doc); err != nil {
		t.Fatal(err)
	}
	if sh := doc.Segment.SeekHead; sh == nil || len(sh.Seek) != 3 {
		t.Fatalf("SeekHead %+v", sh)
	}
	if c := doc.Segment.Cues; c == nil || len(c.CuePoint) != 4 || c.CuePoint[1].CueTime != 1000 {
		t.Fatalf("Cues %+v", c)
	}
}

// TestMP4: H.264 (libx264 baseline, Annex B access units) + Opus become
// one fragmented MP4 with the picture size from the SPS.
func TestMP4(t *testing.T) {
	needTool(t, "ffprobe")
	for _, tc := range []struct {
		profile string
		w, h    int
	}{{"baseline", 640, 480}, {"high", 1280, 720}} {
		t.Run(tc.profile, func(t *testing.T) {
			dir := t.TempDir()
			video, audio := h264Stream(t, tc.profile, tc.w, tc.h, 4), oggOpus(t)
			if len(video) != 120 {
				t.Fatalf("%d access units", len(video))
			}
			recordAll(t, dir, Options{Audio: true}, schedule(video, H264, 30, audio, 150*time.Millisecond))
			path := filepath.Join(dir, "recording.mp4")
			p := ffprobe(t, path)
			expectStreams(t, p, "h264", tc.w, tc.h, true)
			within(t, "duration", p.duration(t), 4*time.Second, 0.1)
			if n := p.frames(t, "video"); n != len(video) {
				t.Fatalf("%d video frames, %d fed", n, len(video))
			}
			decodesClean(t, path)
			inSync(t, path)
		})
	}
}

// TestStartsAtKeyframeAndGapsStay: a recording joined mid-stream starts at
// the next keyframe; frames lost on the way stay lost (no frame is
// invented), and the timeline keeps its length across the gap.
func TestStartsAtKeyframeAndGapsStay(t *testing.T) {
	needTool(t, "ffprobe")
	dir := t.TempDir()
	video, audio := ivfFrames(t), oggOpus(t)
	var s []sample
	for _, x := range schedule(video, VP8, 30, audio, 80*time.Millisecond) {
		i := int((x.it.at.Sub(t0)*30 + time.Second/2) / time.Second)
		if !x.it.audio && (i < 10 || i >= 65 && i < 75) {
			continue // joined at frame 10; frames 65–74 lost (the decoder shows frame 64 meanwhile)
		}
		s = append(s, x)
	}
	recordAll(t, dir, Options{Audio: true}, s)
	path := filepath.Join(dir, "recording.webm")
	p := ffprobe(t, path)
	if n, want := p.frames(t, "video"), 120-30-10; n != want {
		t.Fatalf("%d video frames, want %d", n, want)
	}
	within(t, "duration", p.duration(t), 3*time.Second, 0.1) // from frame 30 on
}

// TestRotation: WithRecordLimit's bound: each file stays below it, ends
// cleanly, starts at a keyframe and plays; together they hold every frame.
func TestRotation(t *testing.T) {
	needTool(t, "ffprobe")
	for _, codec := range []string{VP8, H264} {
		t.Run(codec, func(t *testing.T) {
			dir := t.TempDir()
			video, ext, name := ivfFrames(t), ".webm", "vp8"
			if codec == H264 {
				video, ext, name = h264Stream(t, "baseline", 640, 480, 4), ".mp4", "h264"
			}
			total := 0
			for _, f := range video {
				total += len(f)
			}
			limit := max(int64(total/3+20<<10), MinLimit)
			recordAll(t, dir, Options{Audio: true, Limit: limit}, schedule(video, codec, 30, oggOpus(t), 100*time.Millisecond))
			frames := 0
			for i := 1; ; i++ {
				path := filepath.Join(dir, "recording"+ext)
				if i > 1 {
					path = filepath.Join(dir, fmt.Sprintf("recording-%d%s", i, ext))
				}
				fi, err := os.Stat(path)
				if err != nil {
					if i < 3 {
						t.Fatalf("file %d: %v", i, err)
					}
					break
				}
				if fi.Size() > limit {
					t.Fatalf("%s: %d bytes, limit %d", path, fi.Size(), limit)
				}
				p := ffprobe(t, path)
				expectStreams(t, p, name, 640, 480, true)
				decodesClean(t, path)
				frames += p.frames(t, "video")
			}
			if frames != len(video) {
				t.Fatalf("%d frames in all files, %d fed", frames, len(video))
			}
		})
	}
}

// TestKill9: a process writing an MP4 is killed with SIGKILL mid-stream;
// the file left behind decodes without an error and holds all but at most
// the last fragment (plus what waited to be interleaved) of what the writer
// had been handed.
func TestKill9(t *testing.T) {
	needTool(t, "ffprobe")
	dir := t.TempDir()
	h264Stream(t, "baseline", 320, 240, 1) // ffmpeg works here, or the test stopped
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RECORD_KILL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // should the test stop before its kill
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	var handed time.Duration
	for sc.Scan() {
		ms, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil {
			t.Fatalf("child says %q", sc.Text())
		}
		handed = time.Duration(ms) * time.Millisecond
		if handed >= 5*time.Second {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if handed < 5*time.Second {
		t.Fatalf("child stopped at %v", handed)
	}
	path := filepath.Join(dir, "recording.mp4")
	decodesClean(t, path)
	p := ffprobe(t, path)
	expectStreams(t, p, "h264", 320, 240, true)
	got := time.Duration(p.frames(t, "video")) * time.Second / 30
	if got < handed-fragmentSpan-holdBack-time.Second/10 || got > 20*time.Second {
		t.Fatalf("%v of video left, %v handed to the writer", got, handed)
	}
	t.Logf("%v handed to the writer, %v of video in the file", handed, got)
}

// killChild writes H.264 + Opus into dir/recording.mp4 through a session
// (synchronously, so what it reports has reached the file's writer), paced
// so the parent's SIGKILL lands mid-stream, printing the media time handed
// over after each sample.
func killChild(dir string) {
	t := childT{}
	video := h264Stream(t, "baseline", 320, 240, 10)
	audio := oggOpus(t)
	for len(audio) < 1000 {
		audio = append(audio, audio...)
	}
	s := newSession(dir, Options{Audio: true, Limit: DefaultLimit})
	for _, x := range schedule(video, H264, 30, audio[:1000], 100*time.Millisecond) {
		s.push(x.it)
		fmt.Println(x.arrival.Sub(t0).Milliseconds() - 100)
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(time.Minute) // the parent kills before this ends
}

// childT is the child process's tb: a failure ends it, which the parent
// sees as a child that stopped too early.
type childT struct{}

func (childT) Helper() {}
func (childT) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, args...)
	os.Exit(2)
}
func (c childT) Fatalf(format string, args ...any) { c.Fatal(fmt.Sprintf(format, args...)) }
func (c childT) Skipf(format string, args ...any)  { c.Fatal(fmt.Sprintf(format, args...)) }
func (childT) TempDir() string {
	d, err := os.MkdirTemp("", "record-child")
	if err != nil {
		panic(err)
	}
	return d
}

// TestLimitBetweenKeyframes: a group of pictures larger than the limit
// closes the file where the limit is reached; what follows waits for the
// next keyframe, which starts the next file. No file passes the limit.
func TestLimitBetweenKeyframes(t *testing.T) {
	needTool(t, "ffprobe")
	dir := t.TempDir()
	video := ivfFrames(t)
	s := newSession(dir, Options{Audio: true, Limit: MinLimit})
	for _, x := range schedule(video, VP8, 60, oggOpus(t), 100*time.Millisecond) {
		s.push(x.it) // keyframes at 0 and 60 only (30 and 90 pass as delta frames)
	}
	s.close()
	if len(s.files) != 2 {
		t.Fatalf("files %v", s.files)
	}
	total := 0
	for _, f := range s.files {
		fi, err := os.Stat(f)
		if err != nil || fi.Size() > MinLimit {
			t.Fatalf("%s: %v bytes, %v", f, fi.Size(), err)
		}
		decodesClean(t, f)
		n := ffprobe(t, f).frames(t, "video")
		if n == 0 || n >= 60 {
			t.Fatalf("%s: %d frames", f, n)
		}
		total += n
	}
	if s.skipped == 0 || total >= len(video) {
		t.Fatalf("%d frames written of %d, %d skipped", total, len(video), s.skipped)
	}
}
