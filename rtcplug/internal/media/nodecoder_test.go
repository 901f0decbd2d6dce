package media

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"
	"time"
)

// An H.264 keyframe has no decoder here yet: it is counted, reported
// without an image, and neither a failure nor a warning nor a file.
func TestPoolNoDecoderForH264(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	got := make(chan Result, 1)
	p := NewPool(context.Background(), Config{Dir: dir, OnResult: func(r Result) { got <- r },
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	defer p.Close()
	idr := []byte{0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88}
	if !p.Submit(Job{Conference: "c1", Peer: "p1", Seq: 1, Time: time.Unix(0, 0), Frame: idr, Codec: "H264"}) {
		t.Fatal("submit refused")
	}
	var r Result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no result")
	}
	if r.Codec != "H264" || r.Image != nil || r.Path != "" || r.Conference != "c1" {
		t.Fatalf("result %+v", r)
	}
	if st := p.Stats(); st != (Stats{NoDecoder: 1}) {
		t.Fatalf("stats %+v", st)
	}
	if logs.Len() != 0 {
		t.Fatalf("logged above debug: %s", logs.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files written: %v", entries)
	}
}
