package record

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// container is one open recording file. Samples come in time order per
// track, with times from the file's start.
type container interface {
	video(t time.Duration, key bool, data []byte) error
	audio(t time.Duration, data []byte) error
	// size is what the file would hold if closed now, rounded up.
	size() int64
	// continues reports whether a keyframe of codec can go on in this file
	// (same codec and, for H.264, the same parameter sets).
	continues(codec string, key []byte) bool
	close() error
}

// Interleaving: samples wait in a queue sorted by time until the other track
// has caught up (video comes out of the peer later than audio captured at the
// same instant: reorder buffer, frame assembly), at most holdBack behind the
// newest sample, so a stalled track cannot hold the other one forever, and
// at most holdItems samples or holdBytes of them.
const (
	holdBack  = time.Second
	holdItems = 1024
	holdBytes = QueueBytes
)

// Per-sample container overhead assumed by the size limit (a SimpleBlock
// header, a trun entry) and room kept for closing a file.
const (
	sampleOverhead = 32
	closeReserve   = 4 << 10
)

// session turns one peer's samples into files. Not safe for concurrent use:
// the Recorder's goroutine owns it.
type session struct {
	dir   string
	opt   Options
	log   *slog.Logger
	n     int      // files started
	files []string // files written (closed)

	cur     container
	curFile *os.File // cur's file, closed directly if cur panics while closing
	curPath string
	base    time.Time // timeline time of the file's first keyframe
	failed  bool

	audioSeen    bool
	queue        []item
	queueBytes   int64
	newV, newA   time.Time // newest sample time per track
	haveV, haveA bool
	video, audio track  // written times in the current file
	skipped      uint64 // samples not written: before a keyframe, too large, late
	gop          int64  // bytes written since the last keyframe
}

func newSession(dir string, o Options) *session {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Limit == 0 {
		o.Limit = DefaultLimit
	}
	return &session{dir: dir, opt: o, log: o.Logger}
}

// safely runs fn; a panic in a container library (hostile parameter sets)
// costs this peer its recording, not the host.
func (s *session) safely(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			s.fail(fmt.Errorf("record: %v", r))
		}
	}()
	fn()
}

func (s *session) fail(err error) {
	if s.failed {
		return
	}
	s.failed = true
	s.log.Warn("recording stopped", "err", err)
	s.closeFile()
	s.queue, s.queueBytes = nil, 0
}

// push takes one sample as it leaves the peer.
func (s *session) push(it item) {
	if s.failed {
		return
	}
	if it.audio {
		s.audioSeen = true
		if !s.haveA || it.at.After(s.newA) {
			s.newA, s.haveA = it.at, true
		}
	} else {
		if it.codec == "" {
			it.codec = detectCodec(it.data)
		}
		if !s.haveV || it.at.After(s.newV) {
			s.newV, s.haveV = it.at, true
		}
	}
	// Sorted by time, except that a sample never passes one of its own
	// track: decode order is the order the peer gave (a timeline step back
	// is track.place's business).
	i := len(s.queue)
	for i > 0 && s.queue[i-1].at.After(it.at) && s.queue[i-1].audio != it.audio {
		i--
	}
	s.queue = append(s.queue, item{})
	copy(s.queue[i+1:], s.queue[i:])
	s.queue[i] = it
	s.queueBytes += int64(len(it.data))
	s.release(false)
}

// release writes the queued samples no other sample can come before any
// more; all of them when flushing.
func (s *session) release(all bool) {
	newest := s.newV
	if s.haveA && s.newA.After(newest) {
		newest = s.newA
	}
	bound := newest.Add(-holdBack)
	switch {
	case s.haveV && s.haveA:
		m := s.newV
		if s.newA.Before(m) {
			m = s.newA
		}
		if m.After(bound) {
			bound = m
		}
	case !s.opt.Audio:
		bound = newest // one track, no other to wait for
	}
	// Otherwise one of two tracks has come so far: it waits holdBack for
	// the other, so the file's first keyframe finds the audio of its instant.
	n := 0
	for n < len(s.queue) && (all || len(s.queue)-n > holdItems || s.queueBytes > holdBytes ||
		!s.queue[n].at.After(bound)) {
		s.queueBytes -= int64(len(s.queue[n].data))
		s.write(s.queue[n])
		if s.failed {
			return
		}
		s.queue[n] = item{}
		n++
	}
	s.queue = append(s.queue[:0], s.queue[n:]...)
}

func (s *session) write(it item) {
	key := !it.audio && it.key
	if s.cur != nil && key && !s.cur.continues(it.codec, it.data) {
		s.log.Info("recording continues in a new file: the video changed", "codec", it.codec)
		s.closeFile()
	}
	if s.cur != nil && key && s.cur.size()+s.gop+closeReserve > s.opt.Limit {
		// Another group of pictures like the last would pass the limit:
		// start the next file at this keyframe rather than cut this one at
		// a frame the next file could not start from.
		s.closeFile()
	}
	if s.cur != nil && s.cur.size()+int64(len(it.data))+sampleOverhead+closeReserve > s.opt.Limit {
		s.log.Info("recording size limit reached: the next file starts at the next keyframe", "path", s.curPath)
		s.closeFile()
	}
	if s.cur == nil {
		if !key {
			s.skipped++
			return
		}
		if int64(len(it.data))+sampleOverhead+closeReserve+closeReserve > s.opt.Limit {
			s.skipped++
			return
		}
		if err := s.open(it); err != nil {
			if errors.Is(err, errNoConfig) {
				s.skipped++
				s.log.Debug("keyframe cannot start a recording", "err", err)
				return
			}
			s.fail(err)
			return
		}
	}
	tr := &s.video
	if it.audio {
		tr = &s.audio
	}
	t, ok := tr.place(it.at.Sub(s.base))
	if !ok {
		s.skipped++ // before the file's first keyframe
		return
	}
	if key {
		s.gop = 0
	}
	s.gop += int64(len(it.data)) + sampleOverhead
	var err error
	if it.audio {
		err = s.cur.audio(t, it.data)
	} else {
		err = s.cur.video(t, it.key, it.data)
	}
	if err != nil {
		s.fail(err)
	}
}

// errNoConfig: a keyframe without what a file needs to start (H.264 without
// SPS and PPS, an unreadable picture size).
var errNoConfig = errors.New("record: keyframe lacks the codec configuration")

// open starts a new file at keyframe it.
func (s *session) open(it item) error {
	ext := ".webm"
	if it.codec == H264 {
		ext = ".mp4"
	}
	audio := s.opt.Audio || s.audioSeen
	// Check the keyframe before a file exists for it.
	var cfg any
	switch it.codec {
	case VP8:
		w, h, ok := vp8Size(it.data)
		if !ok {
			return fmt.Errorf("%w: VP8 keyframe header", errNoConfig)
		}
		cfg = [2]int{w, h}
	case H264:
		c, err := parseAVC(it.data)
		if err != nil {
			return fmt.Errorf("%w: %v", errNoConfig, err)
		}
		cfg = c
	default:
		return fmt.Errorf("%w: codec %q", errNoConfig, it.codec)
	}
	f, path, err := s.create(ext)
	if err != nil {
		return err
	}
	c, err := newContainer(f, cfg, audio)
	if err != nil {
		_ = f.Close()
		return err
	}
	s.cur, s.curFile, s.curPath, s.base = c, f, path, it.at
	s.gop = 0
	s.video, s.audio = track{}, track{}
	s.log.Info("recording started", "path", path)
	return nil
}

// newContainer starts a WebM (cfg: width and height) or MP4 (cfg: the
// H.264 configuration) file on f; a panic in the container library is an
// error here (the caller closes f).
func newContainer(f *os.File, cfg any, audio bool) (c container, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("record: starting the file: %v", r)
		}
	}()
	switch cfg := cfg.(type) {
	case [2]int:
		return newWebM(f, cfg[0], cfg[1], audio)
	case *avcConfig:
		return newMP4(f, cfg, audio)
	}
	return nil, errNoConfig
}

// create makes the next numbered file: recording.ext, recording-2.ext, ...
// An existing file is never overwritten.
func (s *session) create(ext string) (*os.File, string, error) {
	for range 1000 {
		s.n++
		name := "recording" + ext
		if s.n > 1 {
			name = fmt.Sprintf("recording-%d%s", s.n, ext)
		}
		path := filepath.Join(s.dir, name)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, path, err
	}
	return nil, "", errors.New("record: no free file name")
}

func (s *session) closeFile() {
	if s.cur == nil {
		return
	}
	c, f := s.cur, s.curFile
	s.cur, s.curFile = nil, nil
	err := closeContainer(c, f)
	if err != nil {
		s.log.Warn("recording not closed cleanly", "path", s.curPath, "err", err)
	}
	s.files = append(s.files, s.curPath)
}

// closeContainer closes c; should its library panic while flushing (this
// runs inside safely's recovery too), the file itself is closed instead.
func closeContainer(c container, f *os.File) (err error) {
	defer func() {
		if r := recover(); r != nil {
			_ = f.Close()
			err = fmt.Errorf("record: closing: %v", r)
		}
	}()
	return c.close()
}

// close writes what waits and closes the file.
func (s *session) close() {
	if !s.failed {
		s.release(true)
	}
	s.closeFile()
}

// track keeps one track's times in a file strictly increasing. The
// timeline may step back: when a source's first sender report replaces
// its arrival-time anchor (the first video frame waited in the reorder
// buffer), or when the sender's clock is corrected. A step back is absorbed
// by shifting the track's later samples after the last one written, and the
// shift is then paid back at a tenth of each interval, so the track returns
// to the timeline (and in sync with the other track) within about ten times
// the step, without a frame out of order or two at one instant.
type track struct {
	wrote bool
	last  time.Duration // last time written
	step  time.Duration // last interval
	shift time.Duration // added to the timeline, ≥ 0
}

// place maps a sample's time from the file's start to its time in the
// file; false for a sample before the file's start.
func (tr *track) place(raw time.Duration) (time.Duration, bool) {
	t := raw + tr.shift
	if !tr.wrote {
		if t < 0 {
			return 0, false
		}
		tr.wrote, tr.last, tr.step = true, t, 20*time.Millisecond
		return t, true
	}
	if t < tr.last+time.Millisecond {
		tr.shift += tr.last + tr.step - t
		t = raw + tr.shift
	} else if tr.shift > 0 {
		d := min(tr.shift, (t-tr.last)/10)
		tr.shift -= d
		t -= d
	}
	tr.step = t - tr.last
	tr.last = t
	return t, true
}
