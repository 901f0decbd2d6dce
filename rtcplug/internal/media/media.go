// Package media turns VP8 and H.264 keyframes into images and files, off the
// packet path: a bounded pool of workers decodes each keyframe with
// rtcplug/internal/vp8dec or rtcplug/internal/h264dec, writes it as a JPEG (rtcplug/internal/jpeg;
// atomically: temp file, then rename) and hands the image to a callback.
// Snapshots are what gives way under load, never packets: a keyframe is
// refused before decoding when it is far too small for the size it claims,
// when its peer is over its rate or when the disk budget is spent; past the
// decoding budget each peer keeps only its newest keyframe waiting, and the
// peers take turns, the longest without an image first (shed.go). Each
// refusal and each keyframe dropped is counted.
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
	DefaultQuality = 90
	// MaxFrame bounds a keyframe handed to the decoder: the bound of every
	// assembled frame.
	MaxFrame = rtp.MaxFrame
	// MaxPixels bounds the picture size a keyframe may claim (4096x2304,
	// beyond 4K UHD): the decoder allocates the whole picture before it reads
	// the data, and a header can claim 16383x16383 (~400 MB) in ten bytes.
	MaxPixels = 4096 * 2304
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
	// PendingBytes bounds the keyframes waiting for a worker, one per peer
	// at most (0 = DefaultPendingBytes).
	PendingBytes int64
	// Rate keyframes per RatePer are admitted per peer (through Job.Limit);
	// 0 = no rate limit.
	Rate    int
	RatePer time.Duration
	// DiskLimit bounds the bytes of JPEGs written (0 = no bound). Past it
	// files are no longer written and each skipped one is counted; the
	// callback still gets its image.
	DiskLimit int64
	// DecodeShare is the share of the GOMAXPROCS processors that decoding
	// may hold over the last second; past it keyframes wait, one per peer
	// (0 = no bound; the plugin uses DefaultDecodeShare).
	DecodeShare float64
	// RequestKeyframe, if set, is called from a worker to have a peer whose
	// keyframe was dropped asked for a fresh one (shed.go); it must not
	// block.
	RequestKeyframe func(conference, peer string)
	// OnResult is called from a worker for every decoded keyframe.
	OnResult func(Result)
	Logger   *slog.Logger
}

// Stats counts the pool's work.
type Stats struct {
	// Dropped: keyframes not decoded for lack of budget (replaced by the
	// peer's newer one while waiting, no room in PendingBytes, peer gone,
	// pool closed or frame beyond MaxFrame).
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
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	decoded, written, dropped, failed       atomic.Uint64
	refused, rateLimited, diskLimited, disk atomic.Uint64

	// mu guards q; wake tells idle workers of a new pending keyframe.
	mu   sync.Mutex
	q    sched
	wake chan struct{}
	// handle does one keyframe's work (process; a stub in tests).
	handle func(*worker, Job)

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
	if cfg.PendingBytes <= 0 {
		cfg.PendingBytes = DefaultPendingBytes
	}
	if cfg.Quality <= 0 || cfg.Quality > 100 {
		cfg.Quality = DefaultQuality
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.DecodeShare = min(cfg.DecodeShare, 1)
	p := &Pool{cfg: cfg, now: time.Now, q: newSched(cfg.PendingBytes, cfg.Rate, cfg.RatePer), wake: make(chan struct{}, cfg.Workers)}
	p.handle = p.process
	p.budget = time.Duration(cfg.DecodeShare * float64(runtime.GOMAXPROCS(0)) * float64(time.Second))
	p.ctx, p.cancel = context.WithCancel(ctx)
	for range cfg.Workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// Submit makes a keyframe its peer's pending one without blocking,
// replacing (and counting as dropped) an older one still waiting; it reports
// false (and counts why) when the frame fails its codec's check
// (CheckKeyframe, CheckH264Keyframe), the peer is over its rate, the disk
// budget is spent and nobody else wants the image, the frame finds no room
// among the pending ones or the pool stopped. All of it costs a few
// comparisons: it runs on the peer's goroutine.
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
	// First keyframes wait like any other: exempting them let a burst of
	// peers connecting at once take the core from the socket reader. They
	// are served first instead (shed.go).
	p.mu.Lock()
	ok, limited := p.q.put(j, now)
	p.syncDropped()
	p.mu.Unlock()
	if limited {
		p.rateLimited.Add(1)
	}
	if ok {
		select {
		case p.wake <- struct{}{}:
		default: // every worker has a wake-up waiting already
		}
	}
	return ok
}

type peerKey struct{ conference, peer string }

// syncDropped carries the schedule's drops into the counter; p.mu held.
func (p *Pool) syncDropped() {
	if n := p.q.dropped; n > 0 {
		p.q.dropped = 0
		p.dropped.Add(n)
	}
}

// Leave drops the peer's pending keyframe (counted) and its place in the
// schedule; call it once the peer has ended (no more Submit for it).
func (p *Pool) Leave(conference, peer string) {
	p.mu.Lock()
	p.q.leave(peerKey{conference, peer})
	p.syncDropped()
	p.mu.Unlock()
}

// Close stops the workers and waits for them; pending keyframes are
// discarded.
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
	var asks []peerKey
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var tc <-chan time.Time // set while the budget or a request is waited for
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake:
		case <-tc:
		}
		tc = nil
		for p.ctx.Err() == nil {
			var j Job
			var ok bool
			var wait time.Duration
			j, ok, asks, wait = p.next(asks[:0])
			if p.cfg.RequestKeyframe != nil {
				for _, k := range asks {
					p.cfg.RequestKeyframe(k.conference, k.peer)
				}
			}
			if !ok {
				if wait > 0 {
					timer.Reset(wait)
					tc = timer.C
				}
				break
			}
			p.run(w, j)
		}
	}
}

// next takes the keyframe to decode now, if the budget has room and one is
// pending, with the peers to ask for a keyframe meanwhile. Otherwise wait is
// when to look again (0: at the next Submit).
func (p *Pool) next(asks []peerKey) (j Job, ok bool, _ []peerKey, wait time.Duration) {
	now := p.now()
	if p.budget > 0 {
		p.meterMu.Lock()
		wait = p.meter.wait(now, p.budget)
		p.meterMu.Unlock()
		if wait > 0 {
			return Job{}, false, asks, wait
		}
	}
	p.mu.Lock()
	j, ok, asks, ask := p.q.take(now, asks)
	p.mu.Unlock()
	if !ok && !ask.IsZero() {
		wait = max(ask.Sub(now), time.Millisecond)
	}
	return j, ok, asks, wait
}

// run does one keyframe's work and charges its time to the decoding budget.
func (p *Pool) run(w *worker, j Job) {
	t0 := p.now()
	p.handle(w, j)
	now := p.now()
	p.meterMu.Lock()
	p.meter.add(now, now.Sub(t0))
	p.meterMu.Unlock()
	p.mu.Lock()
	p.q.done(peerKey{j.Conference, j.Peer})
	p.mu.Unlock()
}

func (p *Pool) process(w *worker, j Job) {
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
