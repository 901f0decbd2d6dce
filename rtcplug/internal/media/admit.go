package media

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Admission: what a keyframe must show before it costs a decode.

// ErrTooSmall is returned for a keyframe with fewer bytes than the picture it
// claims could possibly take (see MinKeyframeBytes).
var ErrTooSmall = errors.New("media: keyframe too small for the size it claims")

// MBPerByte is the most macroblocks one byte of a keyframe may carry. The
// decoder's work grows with the claimed picture, not with the bytes sent, so
// a few bytes claiming 4096x2304 would buy a full-size decode. libvpx spends
// about 0.45 bytes on a macroblock of a flat black keyframe (544 bytes at
// 640x480, 13,916 at 3840x2160, measured with ffmpeg -c:v libvpx), the
// cheapest picture there is; a keyframe under a seventh of that, one byte
// per 16 macroblocks, is not a picture.
const MBPerByte = 16

// vp8HeaderLen is the keyframe's uncompressed header: 3-byte frame tag,
// 3-byte start code, 2-byte width, 2-byte height (RFC 6386 §9.1).
const vp8HeaderLen = 10

// MinKeyframeBytes is the smallest keyframe admitted for a w x h picture:
// the header plus one byte per MBPerByte macroblocks of 16x16 pixels.
func MinKeyframeBytes(w, h int) int {
	mbs := ((w + 15) / 16) * ((h + 15) / 16)
	return vp8HeaderLen + mbs/MBPerByte
}

// CheckKeyframe reads a VP8 keyframe's header (RFC 6386 §9.1) and refuses it
// without decoding when it is not a keyframe, claims a size outside
// 1..MaxPixels (ErrTooLarge) or is far too short for that size
// (ErrTooSmall).
func CheckKeyframe(frame []byte) (w, h int, err error) {
	if len(frame) < vp8HeaderLen {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrTooSmall, len(frame))
	}
	if frame[0]&1 != 0 {
		return 0, 0, errors.New("vp8: not a keyframe")
	}
	if frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0, 0, errors.New("vp8: bad start code")
	}
	w = int(frame[6]) | int(frame[7]&0x3f)<<8
	h = int(frame[8]) | int(frame[9]&0x3f)<<8
	if w == 0 || h == 0 || w*h > MaxPixels {
		return w, h, fmt.Errorf("%w: %dx%d", ErrTooLarge, w, h)
	}
	if n := MinKeyframeBytes(w, h); len(frame) < n {
		return w, h, fmt.Errorf("%w: %d bytes for %dx%d (at least %d)", ErrTooSmall, len(frame), w, h, n)
	}
	return w, h, nil
}

// Limiter spaces one peer's keyframes at most Rate per Per (a GCRA token
// bucket of depth Rate). The Pool uses it under its lock only: the peer's
// goroutine charges it in Submit, and a pending keyframe dropped later is
// refunded from wherever it is dropped. Its zero value is ready.
type Limiter struct {
	tat time.Time // theoretical arrival time of the next keyframe
}

// allow reports whether a keyframe at now fits in n per per, and takes its
// place if so.
func (l *Limiter) allow(now time.Time, n int, per time.Duration) bool {
	if n <= 0 || per <= 0 {
		return true
	}
	iv := per / time.Duration(n)
	t := l.tat
	if t.Before(now) {
		t = now
	}
	t = t.Add(iv)
	if t.Sub(now) > per {
		return false
	}
	l.tat = t
	return true
}

// refund gives back the place of one keyframe allowed before.
func (l *Limiter) refund(n int, per time.Duration) {
	if n > 0 && per > 0 {
		l.tat = l.tat.Add(-per / time.Duration(n))
	}
}

// Defaults of the snapshot limits.
const (
	// DefaultRate keyframes per DefaultRatePer are decoded per peer: a
	// sender answering every loss with a keyframe, or one sending nothing
	// but keyframes, costs at most two decodes a second.
	DefaultRate    = 2
	DefaultRatePer = time.Second
	// DefaultDiskLimit bounds the bytes of JPEGs one plugin writes. Past it
	// no more files are written (stop and count: nothing is deleted).
	DefaultDiskLimit = 1 << 30
)

// DefaultWorkers is how many keyframes decode at once by default: one fewer
// than the Go scheduler's processors (at least one, at most four), so that
// decoding never holds every core while packets wait in the socket.
func DefaultWorkers() int {
	return min(max(runtime.GOMAXPROCS(0)-1, 1), 4)
}

// DefaultDecodeShare is the share of the scheduler's processors that
// decoding may hold, measured over the last second: past it keyframes wait
// (one per peer, newer ones replacing older ones, which count in
// Stats.Dropped; see shed.go) so that the socket reader and the peers,
// which must never wait, keep the rest. Time is wall time from a worker's
// start to its end, so a core taken by other work counts against decoding
// too.
const DefaultDecodeShare = 0.5

// shareMeter sums decoding time in one-second buckets; the load of the last
// second is the current bucket plus the unexpired part of the previous one.
type shareMeter struct {
	start     time.Time // of the current bucket
	cur, prev time.Duration
}

func (m *shareMeter) roll(now time.Time) {
	switch d := now.Sub(m.start); {
	case d < time.Second:
	case d < 2*time.Second:
		m.start, m.prev, m.cur = m.start.Add(time.Second), m.cur, 0
	default:
		m.start, m.prev, m.cur = now, 0, 0
	}
}

func (m *shareMeter) add(now time.Time, busy time.Duration) {
	m.roll(now)
	m.cur += busy
}

// load is the decoding time of the last second.
func (m *shareMeter) load(now time.Time) time.Duration {
	m.roll(now)
	left := time.Second - now.Sub(m.start)
	return m.cur + time.Duration(float64(m.prev)*float64(left)/float64(time.Second))
}

// wait is how long until the load of the last second is down to budget, if
// no more is added: 0 when it is there already.
func (m *shareMeter) wait(now time.Time, budget time.Duration) time.Duration {
	if m.load(now) <= budget {
		return 0
	}
	in := now.Sub(m.start) // load rolled: within the current bucket
	var at time.Duration   // from m.start
	if m.cur <= budget {
		// The previous bucket's share fades out: cur + prev*(1-x) = budget.
		at = time.Second - time.Duration(float64(time.Second)*float64(budget-m.cur)/float64(m.prev))
	} else {
		// Past the roll the current bucket fades: cur*(1-y) = budget.
		at = 2*time.Second - time.Duration(float64(time.Second)*float64(budget)/float64(m.cur))
	}
	// At least a millisecond: rounding must not make a busy loop.
	return max(at-in, time.Millisecond)
}
