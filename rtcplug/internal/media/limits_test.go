package media

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// A keyframe header may claim up to 16383x16383; the decoder would allocate
// the whole picture (~400 MB) before finding the data short. Decode refuses
// sizes beyond MaxPixels first.
func TestDecodeRefusesHugeDimensions(t *testing.T) {
	frame := bytes.Clone(firstFrame(t))
	// RFC 6386 §9.1: 3-byte tag, start code 9d 01 2a, then 14-bit width and
	// height (little-endian, 2 scale bits on top).
	frame[6], frame[7], frame[8], frame[9] = 0xff, 0x3f, 0xff, 0x3f
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(frame)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v, want ErrTooLarge", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Fatalf("%d MB allocated for a refused frame", n>>20)
	}
}

// countWarn counts records at Warn and above.
type countWarn struct {
	mu   sync.Mutex
	warn int
}

func (c *countWarn) Enabled(context.Context, slog.Level) bool { return true }
func (c *countWarn) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		c.mu.Lock()
		c.warn++
		c.mu.Unlock()
	}
	return nil
}
func (c *countWarn) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countWarn) WithGroup(string) slog.Handler      { return c }

// An unwritable snapshot directory (here: a regular file in the way) is
// logged, counted and survived; the callback still gets the image. A full
// disk or a read-only directory takes the same path. The warning is not
// repeated for every keyframe.
func TestWriteFailureCountedAndLoggedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := &countWarn{}
	got := make(chan Result, 10)
	p := NewPool(context.Background(), Config{Dir: dir, Workers: 1, Logger: slog.New(h),
		OnResult: func(r Result) { got <- r }})
	defer p.Close()
	clock := time.Unix(1000, 0)
	p.now = func() time.Time { return clock } // no time passes
	frame := firstFrame(t)
	for i := 1; i <= 5; i++ {
		if !p.Submit(Job{Conference: "c", Peer: "p", Seq: i, Frame: frame}) {
			t.Fatal("refused")
		}
		select {
		case r := <-got:
			if r.Path != "" || r.Image == nil {
				t.Fatalf("result %+v", r)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no result")
		}
	}
	if s := p.Stats(); s.Failed != 5 || s.Written != 0 || s.Decoded != 5 {
		t.Fatalf("stats %+v", s)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.warn != 1 {
		t.Fatalf("%d warnings for 5 failures in a row", h.warn)
	}
}

// Snapshots are ordinary files (0644, like the 0755 directories), whatever
// mode the temporary file was created with; a failed rename leaves no
// temporary file behind.
func TestSnapshotFileModeAndCleanup(t *testing.T) {
	dir := t.TempDir()
	got := make(chan Result, 2)
	p := NewPool(context.Background(), Config{Dir: dir, Workers: 1, OnResult: func(r Result) { got <- r }})
	defer p.Close()
	// The second file's name is taken by a directory: its rename fails.
	if err := os.MkdirAll(filepath.Join(dir, "c", "p", "keyframe-000002.jpg", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		p.Submit(Job{Conference: "c", Peer: "p", Seq: i, Frame: firstFrame(t)})
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no result")
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "c", "p", "keyframe-000001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "c", "p", ".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if s := p.Stats(); s.Written != 1 || s.Failed != 1 {
		t.Fatalf("stats %+v", s)
	}
}
