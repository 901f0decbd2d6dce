package media

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/vp8dec"
)

// vp8Header makes the 10-byte header of a keyframe claiming w x h.
func vp8Header(w, h int) []byte {
	return []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8)}
}

func TestCheckKeyframe(t *testing.T) {
	for _, c := range []struct {
		name  string
		frame []byte
		err   error
	}{
		{"real 640x480", firstFrame(t), nil},
		{"real 16x16", smallKeyframe, nil},
		{"40 bytes claiming 4096x2304", append(vp8Header(4096, 2304), make([]byte, 30)...), ErrTooSmall},
		{"just under the rule", append(vp8Header(4096, 2304), make([]byte, MinKeyframeBytes(4096, 2304)-11)...), ErrTooSmall},
		{"4097x2304", append(vp8Header(4097, 2304), make([]byte, 4000)...), ErrTooLarge},
		{"zero width", append(vp8Header(0, 16), make([]byte, 100)...), ErrTooLarge},
		{"short", []byte{0x10, 0x02}, ErrTooSmall},
	} {
		_, _, err := CheckKeyframe(c.frame)
		if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
	if n := MinKeyframeBytes(4096, 2304); n != 10+36864/16 {
		t.Fatalf("MinKeyframeBytes(4096, 2304) = %d", n)
	}
	// A flat black 640x480 libvpx keyframe is 544 bytes; the rule must
	// admit it with room to spare.
	if n := MinKeyframeBytes(640, 480); n*4 > 544 {
		t.Fatalf("MinKeyframeBytes(640, 480) = %d is too close to a real black keyframe", n)
	}
}

// TestTinyFrameClaimingHugeSizeRefused: 40 bytes claiming 4096x2304 never
// reach the decoder; Submit refuses and counts them.
func TestTinyFrameClaimingHugeSizeRefused(t *testing.T) {
	p := NewPool(context.Background(), Config{Workers: 1, OnResult: func(Result) { t.Error("decoded") }})
	defer p.Close()
	frame := append(vp8Header(4096, 2304), make([]byte, 30)...)
	for i := range 30 {
		if p.Submit(Job{Conference: "c", Peer: "p", Seq: i, Frame: frame}) {
			t.Fatal("admitted")
		}
	}
	if s := p.Stats(); s.Refused != 30 || s.Decoded != 0 || s.Failed != 0 {
		t.Fatalf("stats %+v", s)
	}
	if _, err := Decode(frame); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("Decode: %v", err)
	}
}

// waitIdle waits until every admitted job has finished.
func waitIdle(t *testing.T, p *Pool, admitted int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.mu.Lock()
		idle := p.q.idle()
		p.mu.Unlock()
		if s := p.Stats(); idle && int(s.Decoded+s.Failed) >= admitted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs did not finish: %+v", p.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestKeyframeStormBoundedByRate: a peer sending 30 keyframes a second for
// 5 s (virtual time, carried in Job.Time) gets Rate per RatePer decoded,
// the rest refused and counted.
func TestKeyframeStormBoundedByRate(t *testing.T) {
	p := NewPool(context.Background(), Config{Workers: 1, Rate: 2, RatePer: time.Second})
	defer p.Close()
	frame := smallKeyframe
	var lim Limiter
	t0 := time.Unix(1000, 0)
	admitted := 0
	for i := range 150 {
		now := t0.Add(time.Duration(i) * time.Second / 30)
		if p.Submit(Job{Conference: "c", Peer: "p", Seq: i, Time: now, Frame: frame, Limit: &lim}) {
			admitted++
			waitIdle(t, p, admitted) // keep the per-peer queue bound out of the way
		}
	}
	// A bucket of two, refilled at 2/s over 5 s: 2 + 2*5 at most.
	if admitted < 10 || admitted > 12 {
		t.Fatalf("admitted %d of 150 keyframes at 2/s over 5 s", admitted)
	}
	if s := p.Stats(); int(s.RateLimited) != 150-admitted {
		t.Fatalf("stats %+v, admitted %d", s, admitted)
	}
	// Another peer has its own budget.
	var other Limiter
	if !p.Submit(Job{Conference: "c", Peer: "q", Time: t0.Add(5 * time.Second), Frame: frame, Limit: &other}) {
		t.Fatal("another peer was limited")
	}
}

// TestKeyframeStormBoundedByDisk: JPEGs stop at the disk budget (stop and
// count: nothing is deleted); with a callback the images still flow.
func TestKeyframeStormBoundedByDisk(t *testing.T) {
	dir := t.TempDir()
	frame := firstFrame(t)
	got := make(chan Result, 64)
	const limit = 50 << 10 // about two 640x480 testsrc JPEGs at quality 90
	p := NewPool(context.Background(), Config{Dir: dir, Workers: 1, DiskLimit: limit,
		OnResult: func(r Result) { got <- r }})
	defer p.Close()
	admitted := 0
	for i := range 10 {
		if p.Submit(Job{Conference: "c", Peer: "p", Seq: i + 1, Frame: frame}) {
			admitted++
		}
		waitIdle(t, p, admitted)
	}
	s := p.Stats()
	if s.Written == 0 || s.DiskLimited == 0 || s.Written+s.DiskLimited != uint64(admitted) || s.BytesWritten > limit {
		t.Fatalf("stats %+v of %d admitted", s, admitted)
	}
	var onDisk int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			onDisk += fi.Size()
		}
		return nil
	})
	if onDisk > limit || uint64(onDisk) != s.BytesWritten {
		t.Fatalf("%d bytes on disk, %d counted, limit %d", onDisk, s.BytesWritten, limit)
	}
	if len(got) != admitted {
		t.Fatalf("callback saw %d of %d images", len(got), admitted)
	}
	// Without a callback, a spent budget refuses before decoding.
	q := NewPool(context.Background(), Config{Dir: dir, Workers: 1, DiskLimit: 1})
	defer q.Close()
	q.disk.Store(1)
	if q.Submit(Job{Conference: "c", Peer: "p", Seq: 99, Frame: frame}) || q.Stats().DiskLimited != 1 {
		t.Fatalf("spent budget admitted a keyframe: %+v", q.Stats())
	}
}

// TestCallbackImageIsOwn: the callback's picture equals a fresh decode and
// is not overwritten by the worker's next keyframe.
func TestCallbackImageIsOwn(t *testing.T) {
	got := make(chan Result, 2)
	p := NewPool(context.Background(), Config{Workers: 1, OnResult: func(r Result) { got <- r }})
	defer p.Close()
	a, b := firstFrame(t), smallKeyframe
	p.Submit(Job{Conference: "c", Peer: "p", Frame: a})
	first := <-got
	p.Submit(Job{Conference: "c", Peer: "q", Frame: b})
	<-got
	want, err := decodeOn(new(vp8dec.Decoder), a)
	if err != nil {
		t.Fatal(err)
	}
	if !sameYCbCr(first.Image, want) {
		t.Fatal("callback picture differs from a fresh decode")
	}
}

func sameYCbCr(a, b *image.YCbCr) bool {
	if a.Rect != b.Rect {
		return false
	}
	r := a.Rect
	for y := r.Min.Y; y < r.Max.Y; y++ {
		if !bytes.Equal(a.Y[a.YOffset(0, y):][:r.Dx()], b.Y[b.YOffset(0, y):][:r.Dx()]) {
			return false
		}
		for x := 0; x < r.Dx(); x += 2 {
			if a.Cb[a.COffset(x, y)] != b.Cb[b.COffset(x, y)] || a.Cr[a.COffset(x, y)] != b.Cr[b.COffset(x, y)] {
				return false
			}
		}
	}
	return true
}

func TestShareMeter(t *testing.T) {
	var m shareMeter
	t0 := time.Unix(100, 0)
	m.add(t0, 300*time.Millisecond)
	m.add(t0.Add(500*time.Millisecond), 300*time.Millisecond)
	if got := m.load(t0.Add(900 * time.Millisecond)); got != 600*time.Millisecond {
		t.Fatalf("load %v", got)
	}
	// Half a second into the next bucket, half of the previous one counts.
	if got := m.load(t0.Add(1500 * time.Millisecond)); got != 300*time.Millisecond {
		t.Fatalf("load %v", got)
	}
	if got := m.load(t0.Add(5 * time.Second)); got != 0 {
		t.Fatalf("load %v after a quiet spell", got)
	}
}

// TestDecodeShareWaits: once decoding has held its share of the processors
// over the last second, keyframes wait until the load has aged out; a newer
// one replaces the waiting one and counts as dropped (virtual time).
func TestDecodeShareWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPool(context.Background(), Config{Workers: 1, DecodeShare: 0.5})
		defer p.Close()
		t0 := time.Now()
		p.meterMu.Lock()
		p.meter.add(t0, p.budget+time.Millisecond)
		p.meterMu.Unlock()
		for i := range 2 {
			if !p.Submit(Job{Conference: "c", Peer: "p", Seq: i, Frame: smallKeyframe}) {
				t.Fatal("refused")
			}
		}
		synctest.Wait()
		if s := p.Stats(); s.Decoded != 0 || s.Dropped != 1 {
			t.Fatalf("over budget: %+v", s)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if s := p.Stats(); s.Decoded != 1 || s.Dropped != 1 {
			t.Fatalf("once the load aged out: %+v", s)
		}
	})
}

func TestShareMeterWait(t *testing.T) {
	var m shareMeter
	t0 := time.Unix(100, 0)
	budget := 500 * time.Millisecond
	m.add(t0, 800*time.Millisecond)
	// cur 800 > 500: past the roll the bucket fades to 500 at 1 + 3/8 s.
	if got := m.wait(t0.Add(500*time.Millisecond), budget); got != 875*time.Millisecond {
		t.Fatalf("wait %v", got)
	}
	m.add(t0.Add(1100*time.Millisecond), 200*time.Millisecond)
	// cur 200, prev 800: 200 + 800*(1-x) = 500 at x = 5/8.
	if got := m.wait(t0.Add(1100*time.Millisecond), budget); got != 525*time.Millisecond {
		t.Fatalf("wait %v", got)
	}
	if got := m.wait(t0.Add(1625*time.Millisecond), budget); got != 0 {
		t.Fatalf("wait %v at the budget", got)
	}
}

// FuzzCheckKeyframe: any bytes; an admitted frame is a keyframe whose size
// is in range and whose length meets the rule.
func FuzzCheckKeyframe(f *testing.F) {
	f.Add(smallKeyframe)
	f.Add(append(vp8Header(4096, 2304), make([]byte, 30)...))
	f.Add([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0x3f, 0xff, 0x3f})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, h, err := CheckKeyframe(b)
		if err != nil {
			return
		}
		if w < 1 || h < 1 || w*h > MaxPixels || len(b) < MinKeyframeBytes(w, h) || b[0]&1 != 0 {
			t.Fatalf("admitted %dx%d in %d bytes", w, h, len(b))
		}
	})
}
