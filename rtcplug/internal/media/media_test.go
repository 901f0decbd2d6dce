package media

import (
	"context"
	"encoding/binary"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// firstFrame returns the first frame of the test IVF file (a keyframe).
func firstFrame(t testing.TB) []byte {
	b, err := os.ReadFile("../../../testdata/vp8-640x480.ivf")
	if err != nil {
		t.Fatal(err)
	}
	hl := int(binary.LittleEndian.Uint16(b[6:8]))
	n := int(binary.LittleEndian.Uint32(b[hl:]))
	return b[hl+12 : hl+12+n]
}

func TestPoolWritesJPEG(t *testing.T) {
	dir := t.TempDir()
	got := make(chan Result, 1)
	p := NewPool(context.Background(), Config{Dir: dir, OnResult: func(r Result) { got <- r }})
	defer p.Close()
	if !p.Submit(Job{Conference: "c1", Peer: "p1", Seq: 1, Time: time.Unix(0, 0), Frame: firstFrame(t)}) {
		t.Fatal("submit refused")
	}
	var r Result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no result")
	}
	want := filepath.Join(dir, "c1", "p1", "keyframe-000001.jpg")
	if r.Path != want || r.Width != 640 || r.Height != 480 || r.Image == nil {
		t.Fatalf("result %+v", r)
	}
	f, err := os.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	if err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Fatalf("jpeg %+v %v", cfg, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "c1", "p1", ".*"))
	if len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

func TestPoolDropsWhenSaturated(t *testing.T) {
	block := make(chan struct{})
	p := NewPool(context.Background(), Config{Workers: 1, Queue: 1, OnResult: func(Result) { <-block }})
	frame := firstFrame(t)
	ok := 0
	for i := 0; i < 10; i++ {
		if p.Submit(Job{Conference: "c", Peer: "p", Seq: i, Frame: frame}) {
			ok++
		}
	}
	if ok > 2 || p.Stats().Dropped < 8 {
		t.Fatalf("accepted %d, stats %+v", ok, p.Stats())
	}
	close(block)
	p.Close()
}

func TestDecodeGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {0x10, 0, 0, 0x9d, 0x01, 0x2a, 1, 0, 1, 0}} {
		if _, err := Decode(b); err == nil {
			t.Fatalf("decoded %x", b)
		}
	}
}

func TestSafeName(t *testing.T) {
	if SafeName("../a/b c") != "abc" || SafeName("ok_-1") != "ok_-1" {
		t.Fatal(SafeName("../a/b c"))
	}
}
