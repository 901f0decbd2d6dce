// Package testivf reads the IVF files under testdata for tests and the load
// generator: one reader instead of one per package. IVF is libvpx's container:
// a file header (32 bytes, its length at offset 6, little-endian), then per
// frame a 12-byte header (size u32le, pts u64le) and the frame.
package testivf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// VP8 is the path of the VP8 test stream: 640x480, 120 frames at 30 fps, a
// keyframe every 30.
var VP8 = testdata("vp8-640x480.ivf")

// testdata is the path of a file in the module's testdata directory, found
// from this source file so that any package's test can use it.
func testdata(name string) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("testdata", name)
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", name)
}

// Frames splits an IVF file into its frames (sub-slices of b).
func Frames(b []byte) ([][]byte, error) {
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		return nil, errors.New("testivf: not an IVF file")
	}
	hdr := int(binary.LittleEndian.Uint16(b[6:]))
	if hdr < 32 || hdr > len(b) {
		return nil, errors.New("testivf: bad header length")
	}
	b = b[hdr:]
	var frames [][]byte
	for len(b) >= 12 {
		n := int(binary.LittleEndian.Uint32(b))
		b = b[12:]
		if n > len(b) {
			return nil, fmt.Errorf("testivf: frame %d truncated", len(frames))
		}
		frames = append(frames, b[:n:n])
		b = b[n:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("testivf: %d trailing bytes", len(b))
	}
	if len(frames) == 0 {
		return nil, errors.New("testivf: no frames")
	}
	return frames, nil
}

// Read returns the frames of the IVF file at path.
func Read(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Frames(b)
}

// TB is the part of testing.TB that Must uses.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// Must returns the frames of the IVF file at path or fails the test.
func Must(t TB, path string) [][]byte {
	t.Helper()
	frames, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}
