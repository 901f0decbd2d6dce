package testivf

import (
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	frames, err := Read(VP8)
	if err != nil || len(frames) != 120 || frames[0][0]&1 != 0 {
		t.Fatalf("%d frames, %v", len(frames), err)
	}
	if _, err := Read(filepath.Join(filepath.Dir(VP8), "opus-48k.ogg")); err == nil {
		t.Fatal("an Ogg file read as IVF")
	}
}
