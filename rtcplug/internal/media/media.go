// Package media turns VP8 and H.264 keyframes into images and files, off the
// packet path: a bounded pool of workers decodes each keyframe with
// rtcplug/internal/vp8dec or rtcplug/internal/h264dec, writes it as a JPEG (rtcplug/internal/jpeg;
// atomically: temp file, then rename) and hands the image to a callback.
// Snapshots are what gives way under load, never packets: a keyframe is
// refused before decoding when it is far too small for the size it claims,
// when its peer is over its rate, when the disk budget is spent or when the
// pool is saturated, and each refusal is counted.
// (Recordings are internal/record's.)
package media

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/h264dec"
	"github.com/nutsbolts/webrtc/rtcplug/internal/jpeg"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/vp8dec"
)

// Defaults for Config.
const (
	// DefaultQueue keyframes may wait for a worker: the first keyframes of
	// many peers connecting at once arrive together, and a sender that is
	// not asked again sends its next one only a GOP later. At ~5 ms each
	// (640x480) 64 are a third of a second of work, at most ~6 MB of frames.
	DefaultQueue   = 64
	DefaultQuality = 90
	// MaxFrame bounds a keyframe handed to the decoder: the bound of every
	// assembled frame.
	MaxFrame = rtp.MaxFrame
	// MaxPixels bounds the picture size a keyframe may claim (4096x2304,
	// beyond 4K UHD): the decoder allocates the whole picture before it reads
	// the data, and a header can claim 16383x16383 (~400 MB) in ten bytes.
	MaxPixels = 4096 * 2304
	// MaxPerPeer bounds the keyframes of one peer queued or being decoded, so
	// that a sender producing keyframes faster than they decode cannot fill
	// the shared queue and starve the other peers.
	MaxPerPeer = 2
	// warnEvery spaces out repeated warnings (a full disk fails every
	// keyframe of every peer).
	warnEvery = time.Minute
)

// ErrTooLarge is returned by Decode for a keyframe whose claimed size is
// beyond MaxPixels (or zero).
var ErrTooLarge = errors.New("media: keyframe size out of range")

// Job is one keyframe to decode. Frame is owned by the pool once submitted.
type Job struct {
	Conference, Peer string
	Seq              int // numbers the file: keyframe-000001.jpg
	Time             time.Time
	Frame            []byte
	Codec            string // "VP8" ("" too) or "H264"
	// Limit is the peer's rate limiter (Config.Rate per Config.RatePer);
	// nil = no rate limit.
	Limit *Limiter
}

// Result is a decoded keyframe.
type Result struct {
	Conference, Peer string
	Seq              int
	Time             time.Time
	Width, Height    int
	Image            *image.YCbCr
	Path             string // the JPEG written, "" when no directory is set
	Codec            string // the Job's
}

// Config configures a Pool.
type Config struct {
	Dir     string // snapshot directory; "" = no files
	Quality int    // JPEG quality 1–100
	Workers int
	Queue   int
	// Rate keyframes per RatePer are admitted per peer (through Job.Limit);
	// 0 = no rate limit.
	Rate    int
	RatePer time.Duration
	// DiskLimit bounds the bytes of JPEGs written (0 = no bound). Past it
	// files are no longer written and each skipped one is counted; the
	// callback still gets its image.
	DiskLimit int64
	// DecodeShare is the share of the GOMAXPROCS processors that decoding
	// may hold over the last second before keyframes are dropped (0 = no
	// bound; the plugin uses DefaultDecodeShare).
	DecodeShare float64
	// OnResult is called from a worker for every decoded keyframe.
	OnResult func(Result)
	Logger   *slog.Logger
}

// Stats counts the pool's work.
type Stats struct {
	Decoded, Written, Dropped, Failed uint64
	// Refused: keyframes whose header failed CheckKeyframe or
	// CheckH264Keyframe (too small for the size claimed, size out of range,
	// no SPS, a codec without a decoder), never decoded.
	Refused uint64
	// RateLimited: over the peer's rate; DiskLimited: not written (or not
	// even decoded, without a callback) because the disk budget is spent.
	RateLimited, DiskLimited uint64
	// BytesWritten is the size of the JPEGs written.
	BytesWritten uint64
}

// Pool is the bounded decode/encode worker pool.
type Pool struct {
	cfg    Config
	jobs   chan Job
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	decoded, written, dropped, failed       atomic.Uint64
	refused, rateLimited, diskLimited, disk atomic.Uint64

	// busy counts each peer's jobs queued or in progress (at most MaxPerPeer);
	// entries go when they reach zero, so it holds at most Queue+Workers keys.
	busyMu sync.Mutex
	busy   map[peerKey]int

	now      func() time.Time
	meterMu  sync.Mutex
	meter    shareMeter
	budget   time.Duration // decoding time allowed per second
	warnMu   sync.Mutex
	lastWarn time.Time
	quiet    int // warnings turned into debug since lastWarn
}

// warn logs at Warn level at most once per warnEvery; repeats in between go
// to Debug and are summed up in the next warning.
func (p *Pool) warn(log *slog.Logger, msg string, args ...any) {
	now := p.now()
	p.warnMu.Lock()
	loud := p.lastWarn.IsZero() || now.Sub(p.lastWarn) >= warnEvery
	quiet := p.quiet
	if loud {
		p.lastWarn, p.quiet = now, 0
	} else {
		p.quiet++
	}
	p.warnMu.Unlock()
	if !loud {
		log.Debug(msg, args...)
		return
	}
	if quiet > 0 {
		args = append(args, "repeats", quiet)
	}
	log.Warn(msg, args...)
}

// NewPool starts the workers; they stop when ctx ends or Close is called.
func NewPool(ctx context.Context, cfg Config) *Pool {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers()
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Quality <= 0 || cfg.Quality > 100 {
		cfg.Quality = DefaultQuality
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.DecodeShare = min(cfg.DecodeShare, 1)
	p := &Pool{cfg: cfg, jobs: make(chan Job, cfg.Queue), now: time.Now, busy: make(map[peerKey]int)}
	p.budget = time.Duration(cfg.DecodeShare * float64(runtime.GOMAXPROCS(0)) * float64(time.Second))
	p.ctx, p.cancel = context.WithCancel(ctx)
	for range cfg.Workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// Submit queues a keyframe without blocking; it reports false (and counts
// why) when the frame fails its codec's check (CheckKeyframe,
// CheckH264Keyframe), the peer is over its rate, the
// disk budget is spent and nobody else wants the image, or the queue is full
// or the pool stopped. All of it costs a few comparisons: it runs on the
// peer's goroutine.
func (p *Pool) Submit(j Job) bool {
	if p.ctx.Err() != nil || len(j.Frame) > MaxFrame {
		p.dropped.Add(1)
		return false
	}
	if err := checkFrame(j.Codec, j.Frame); err != nil {
		p.refused.Add(1)
		return false
	}
	if p.cfg.OnResult == nil && p.diskFull() {
		p.diskLimited.Add(1)
		return false
	}
	now := j.Time
	if now.IsZero() {
		now = p.now()
	}
	var before Limiter
	if j.Limit != nil {
		before = *j.Limit
		if !j.Limit.allow(now, p.cfg.Rate, p.cfg.RatePer) {
			p.rateLimited.Add(1)
			return false
		}
	}
	// A keyframe shed below is not charged to the peer's rate: its next one
	// may take the place. (The Limiter belongs to the caller's goroutine.)
	shed := func() bool {
		if j.Limit != nil {
			*j.Limit = before
		}
		p.dropped.Add(1)
		return false
	}
	// First keyframes too: exempting them let a burst of peers connecting
	// at once take the core from the socket reader. A peer whose first
	// keyframe is shed gets its first image with the sender's next one.
	if p.budget > 0 && p.overBudget() {
		return shed()
	}
	k := peerKey{j.Conference, j.Peer}
	p.busyMu.Lock()
	defer p.busyMu.Unlock()
	if p.busy[k] >= MaxPerPeer {
		return shed()
	}
	select {
	case p.jobs <- j:
		p.busy[k]++
		return true
	default:
		return shed()
	}
}

type peerKey struct{ conference, peer string }

// finished releases the peer's place taken by Submit.
func (p *Pool) finished(j Job) {
	k := peerKey{j.Conference, j.Peer}
	p.busyMu.Lock()
	if p.busy[k] <= 1 {
		delete(p.busy, k)
	} else {
		p.busy[k]--
	}
	p.busyMu.Unlock()
}

// Close stops the workers and waits for them; queued jobs are discarded.
func (p *Pool) Close() {
	p.cancel()
	p.wg.Wait()
}

// Stats returns the counters.
func (p *Pool) Stats() Stats {
	return Stats{Decoded: p.decoded.Load(), Written: p.written.Load(), Dropped: p.dropped.Load(), Failed: p.failed.Load(),
		Refused: p.refused.Load(), RateLimited: p.rateLimited.Load(), DiskLimited: p.diskLimited.Load(),
		BytesWritten: p.disk.Load()}
}

// diskFull reports whether the disk budget is spent.
func (p *Pool) diskFull() bool {
	return p.cfg.Dir != "" && p.cfg.DiskLimit > 0 && p.disk.Load() >= uint64(p.cfg.DiskLimit)
}

// worker is one decoding goroutine's reusable state: the decoders keep
// their pictures and the encoder its buffers between keyframes of one size.
// Every H.264 keyframe carries its SPS and PPS in front (the depacketizer
// puts them there), so the parameter sets one peer left in h264 are
// replaced before another peer's slices use them.
type worker struct {
	dec  *vp8dec.Decoder
	h264 *h264dec.Decoder
	enc  jpeg.Encoder
	buf  []byte
}

func (p *Pool) work() {
	defer p.wg.Done()
	w := &worker{dec: new(vp8dec.Decoder), h264: new(h264dec.Decoder)}
	for {
		select {
		case <-p.ctx.Done():
			return
		case j := <-p.jobs:
			p.process(w, j)
		}
	}
}

// overBudget reports whether decoding held more than its share of the
// processors over the last second.
func (p *Pool) overBudget() bool {
	now := p.now()
	p.meterMu.Lock()
	defer p.meterMu.Unlock()
	return p.meter.load(now) > p.budget
}

func (p *Pool) process(w *worker, j Job) {
	defer p.finished(j)
	t0 := p.now()
	defer func() {
		now := p.now()
		p.meterMu.Lock()
		p.meter.add(now, now.Sub(t0))
		p.meterMu.Unlock()
	}()
	log := p.cfg.Logger.With("conference", j.Conference, "peer", j.Peer)
	codec := "VP8"
	var img *image.YCbCr
	var err error
	if j.Codec == "H264" {
		// Only keyframes are submitted, so ErrNotIntra is a failure here
		// like any other.
		codec = "H264"
		img, err = decodeH264With(w.h264, j.Frame)
		if errors.Is(err, errH264Panic) {
			w.h264 = new(h264dec.Decoder) // its state is no longer to be trusted
		}
	} else {
		img, err = decodeWith(w.dec, j.Frame)
		if errors.Is(err, errDecoderPanic) {
			w.dec = new(vp8dec.Decoder) // its state is no longer to be trusted
		}
	}
	if err != nil {
		p.failed.Add(1)
		p.warn(log, "keyframe decode failed", "codec", codec, "err", err)
		return
	}
	p.decoded.Add(1)
	// Let waiting goroutines (the socket's reader first of all) run between
	// the two halves of the work.
	runtime.Gosched()
	res := Result{Conference: j.Conference, Peer: j.Peer, Seq: j.Seq, Time: j.Time,
		Width: img.Rect.Dx(), Height: img.Rect.Dy(), Image: img, Codec: codec}
	if p.cfg.Dir != "" {
		path, err := p.write(w, j, img)
		if errors.Is(err, errDiskLimit) {
			p.diskLimited.Add(1)
			log.Debug("keyframe not written: disk budget spent")
		} else if err != nil {
			p.failed.Add(1)
			p.warn(log, "keyframe not written", "err", err)
		} else {
			p.written.Add(1)
			res.Path = path
			log.Info("keyframe written", "path", path, "width", res.Width, "height", res.Height)
		}
	}
	if p.cfg.OnResult != nil && p.ctx.Err() == nil {
		// The decoder draws the next keyframe into the same picture; the
		// callback owns what it gets.
		res.Image = cloneYCbCr(img)
		p.cfg.OnResult(res)
	}
}

var errDecoderPanic = errors.New("vp8: decoder failed")

// decodeWith decodes one keyframe with a kept decoder; the picture is the
// decoder's and valid until its next frame.
func decodeWith(d *vp8dec.Decoder, frame []byte) (img *image.YCbCr, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%w: %v", errDecoderPanic, r)
		}
	}()
	return decodeOn(d, frame)
}

// cloneYCbCr copies a picture into a fresh one with the same bounds.
func cloneYCbCr(src *image.YCbCr) *image.YCbCr {
	r := src.Rect
	dst := image.NewYCbCr(r, src.SubsampleRatio)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(dst.Y[dst.YOffset(r.Min.X, y):][:r.Dx()], src.Y[src.YOffset(r.Min.X, y):])
	}
	cw := dst.CStride
	for y := 0; y < len(dst.Cb)/max(cw, 1); y++ {
		so := src.COffset(r.Min.X, r.Min.Y) + y*src.CStride
		copy(dst.Cb[y*cw:(y+1)*cw], src.Cb[so:])
		copy(dst.Cr[y*cw:(y+1)*cw], src.Cr[so:])
	}
	return dst
}

// Decode decodes one VP8 keyframe (RFC 6386) into a fresh image: the
// decoder reuses its image between frames, and the result outlives the job.
func Decode(frame []byte) (img *image.YCbCr, err error) {
	// The decoder reads bytes a remote sender chose. Should it ever fail an
	// internal assertion on them, that must cost one keyframe, not the host.
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("vp8: decoder failed: %v", r)
		}
	}()
	return decode(frame)
}

// decode is Decode without the safety net, so that FuzzDecode sees any
// decoder panic.
func decode(frame []byte) (*image.YCbCr, error) {
	return decodeOn(new(vp8dec.Decoder), frame)
}

func decodeOn(d *vp8dec.Decoder, frame []byte) (*image.YCbCr, error) {
	w, h, err := vp8dec.KeyframeSize(frame)
	if errors.Is(err, vp8dec.ErrNotKeyframe) {
		return nil, errors.New("vp8: not a keyframe")
	}
	if err != nil {
		return nil, fmt.Errorf("vp8 header: %w", err)
	}
	if w*h > MaxPixels {
		return nil, fmt.Errorf("%w: %dx%d", ErrTooLarge, w, h)
	}
	if n := MinKeyframeBytes(w, h); len(frame) < n {
		return nil, fmt.Errorf("%w: %d bytes for %dx%d", ErrTooSmall, len(frame), w, h)
	}
	d.MaxPixels = MaxPixels
	img, err := d.Decode(frame)
	if err != nil {
		return nil, fmt.Errorf("vp8 frame: %w", err)
	}
	return img, nil
}

var errDiskLimit = errors.New("media: snapshot disk budget spent")

// write encodes img as <dir>/<conference>/<peer>/keyframe-NNNNNN.jpg through a
// temporary file in the same directory and a rename, so a reader never sees a
// partial JPEG. The file's bytes are taken from the disk budget first.
func (p *Pool) write(w *worker, j Job, img *image.YCbCr) (string, error) {
	conf, peer := SafeName(j.Conference), SafeName(j.Peer)
	if conf == "" || peer == "" {
		return "", errors.New("media: empty path component")
	}
	var err error
	w.buf, err = w.enc.Append(w.buf[:0], img, p.cfg.Quality)
	if err != nil {
		return "", err
	}
	size := uint64(len(w.buf))
	if lim := p.cfg.DiskLimit; lim > 0 {
		if p.disk.Add(size) > uint64(lim) {
			p.disk.Add(-size)
			return "", errDiskLimit
		}
	} else {
		p.disk.Add(size)
	}
	final, err := p.writeFile(conf, peer, j.Seq, w.buf)
	if err != nil {
		p.disk.Add(-size)
	}
	return final, err
}

func (p *Pool) writeFile(conf, peer string, seq int, data []byte) (string, error) {
	dir := filepath.Join(p.cfg.Dir, conf, peer)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	final := filepath.Join(dir, fmt.Sprintf("keyframe-%06d.jpg", seq))
	f, err := os.CreateTemp(dir, ".keyframe-*.tmp")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	// CreateTemp makes 0600 files; a snapshot is an ordinary output file,
	// readable like its 0755 directory (e.g. by a separate web server).
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	return final, nil
}

// SafeName keeps only [A-Za-z0-9_-] of s (at most 64 bytes), so a name can
// never climb out of the snapshot directory. Conference names are validated at
// join and peer ids are ours; this is the second line.
func SafeName(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b = append(b, c)
		}
	}
	return string(b)
}
