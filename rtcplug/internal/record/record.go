// Package record writes one peer's media as one playable file: VP8 + Opus
// into WebM (github.com/at-wat/ebml-go encodes the EBML), H.264 + Opus into
// fragmented MP4 (github.com/Eyevinn/mp4ff encodes the boxes).
//
// Samples carry their time on the peer's one timeline (peer.Event.Time), so
// audio and video are written in sync. A file starts at a video keyframe;
// lost frames stay gaps (nothing is invented); a file that reaches its size
// limit is closed cleanly and the next one starts at the next keyframe,
// numbered: recording.webm, recording-2.webm, ...
//
// The peer's goroutine hands samples to a Recorder, which copies them into a
// bounded queue and returns at once; a goroutine of the Recorder's own does
// the disk I/O. When the disk falls behind, samples are dropped and counted.
package record

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Codecs of the video samples.
const (
	VP8  = "VP8"
	H264 = "H264"
)

// Bounds of the media waiting to be written: items, and bytes (frames are
// up to 4 MiB each, so the item bound alone would allow gigabytes).
const (
	QueueItems = 512
	QueueBytes = 32 << 20
)

// DefaultLimit is the size at which a recording file is closed and the next
// one started: about an hour of 2.5 Mbit/s video, a file every tool copies
// and opens, and the most a crash can leave unfinished in one file.
const DefaultLimit = 1 << 30

// MinLimit is the smallest limit accepted: a file must hold at least a
// keyframe and the headers.
const MinLimit = 64 << 10

// Options configures a Recorder.
type Options struct {
	// Limit bounds the size of one file in bytes; 0 means DefaultLimit.
	Limit int64
	// Audio declares an Opus track even before the first Opus packet
	// (the peer negotiated audio).
	Audio bool
	// Logger gets a line per file written and per failure.
	Logger *slog.Logger
}

// Recorder writes one peer's media from a goroutine of its own.
type Recorder struct {
	queue chan item
	done  chan struct{}
	once  sync.Once
	log   *slog.Logger

	mu     sync.Mutex // guards closed against a late Video/Audio
	closed bool

	dropped atomic.Uint64
	queued  atomic.Int64 // bytes waiting in queue
}

type item struct {
	audio bool
	codec string
	at    time.Time
	key   bool
	data  []byte
}

// New creates dir and starts the writer; files appear at the first keyframe.
func New(dir string, o Options) (*Recorder, error) {
	r, s, err := prepare(dir, o)
	if err != nil {
		return nil, err
	}
	go r.run(s)
	return r, nil
}

// prepare is New without the goroutine.
func prepare(dir string, o Options) (*Recorder, *session, error) {
	if dir == "" {
		return nil, nil, errors.New("record: empty directory")
	}
	if o.Limit == 0 {
		o.Limit = DefaultLimit
	}
	if o.Limit < MinLimit {
		return nil, nil, fmt.Errorf("record: limit %d below %d bytes", o.Limit, MinLimit)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	r := &Recorder{queue: make(chan item, QueueItems), done: make(chan struct{}), log: o.Logger}
	return r, newSession(dir, o), nil
}

// Video queues a frame (copied). codec is VP8 or H264 (Annex B access unit,
// SPS and PPS before an IDR); "" tells them apart by the bitstream. at is
// the frame's time on the peer's timeline; zero means now.
func (r *Recorder) Video(codec string, at time.Time, key bool, frame []byte) {
	r.put(item{codec: codec, at: orNow(at), key: key, data: append([]byte(nil), frame...)})
}

// Audio queues an Opus packet (copied), at as for Video.
func (r *Recorder) Audio(at time.Time, pkt []byte) {
	r.put(item{audio: true, at: orNow(at), data: append([]byte(nil), pkt...)})
}

// orNow stands in the arrival time for a sample that came without a time.
func orNow(at time.Time) time.Time {
	if at.IsZero() {
		return time.Now()
	}
	return at
}

func (r *Recorder) put(it item) {
	n := int64(len(it.data))
	if r.queued.Add(n) > QueueBytes {
		r.queued.Add(-n)
		r.dropped.Add(1)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.queued.Add(-n)
		r.dropped.Add(1)
		return
	}
	select {
	case r.queue <- it:
	default:
		r.queued.Add(-n)
		r.dropped.Add(1)
	}
}

// Close writes what is queued, closes the file and waits. Safe to call more
// than once; samples handed in after Close are dropped.
func (r *Recorder) Close() {
	r.once.Do(func() {
		r.mu.Lock()
		r.closed = true
		close(r.queue)
		r.mu.Unlock()
	})
	<-r.done
}

// Dropped counts samples lost to a full queue.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

func (r *Recorder) run(s *session) {
	defer close(r.done)
	for it := range r.queue {
		r.queued.Add(-int64(len(it.data)))
		s.safely(func() { s.push(it) })
	}
	s.safely(s.close)
	for _, f := range s.files {
		r.log.Info("recording written", "path", f, "dropped", r.dropped.Load())
	}
}
