package vp8dec

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
)

// rawYUV is the picture as ffmpeg's rawvideo yuv420p writes it.
func rawYUV(img *image.YCbCr) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	var b bytes.Buffer
	for y := 0; y < h; y++ {
		b.Write(img.Y[y*img.YStride : y*img.YStride+w])
	}
	for y := 0; y < ch; y++ {
		b.Write(img.Cb[y*img.CStride : y*img.CStride+cw])
	}
	for y := 0; y < ch; y++ {
		b.Write(img.Cr[y*img.CStride : y*img.CStride+cw])
	}
	return b.Bytes()
}

func clips(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*.ivf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no clips: %v", err)
	}
	return files
}

// TestConformance decodes the committed clips and compares every picture
// with the hash of ffmpeg's decode of it (testdata/ffmpeg-sha256.txt).
func TestConformance(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "ffmpeg-sha256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			continue
		}
		want[fs[0]+" "+fs[1]] = fs[2] + " " + fs[3]
	}
	n := 0
	for _, path := range clips(t) {
		var d Decoder
		for i, fr := range testivf.Must(t, path) {
			img, err := d.Decode(fr)
			if err != nil {
				t.Errorf("%s frame %d: %v", path, i, err)
				continue
			}
			sum := sha256.Sum256(rawYUV(img))
			got := strconv.Itoa(img.Rect.Dx()) + "x" + strconv.Itoa(img.Rect.Dy()) + " " + hex.EncodeToString(sum[:])
			key := filepath.Base(path) + " " + strconv.Itoa(i)
			if want[key] != got {
				t.Errorf("%s: got %s, want %s", key, got, want[key])
			}
			n++
		}
	}
	if n != len(want) {
		t.Errorf("decoded %d pictures, the hash list has %d", n, len(want))
	}
}

// TestFFmpeg compares the clips with a live ffmpeg decode. Without ffmpeg
// it is skipped, unless CI is set.
func TestFFmpeg(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg not found")
		}
		t.Skip("ffmpeg not found")
	}
	paths := clips(t)
	paths = append(paths, repoTestdata("vp8-640x480-noise-key.ivf"), repoTestdata("vp8-1280x720-key.ivf"))
	for _, path := range paths {
		out, err := exec.Command("ffmpeg", "-loglevel", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-").Output()
		if err != nil {
			t.Fatalf("%s: ffmpeg: %v", path, err)
		}
		var d Decoder
		off := 0
		for i, fr := range testivf.Must(t, path) {
			if fr[0]&1 != 0 {
				// An interframe: its picture is in ffmpeg's output but not
				// ours; only files whose key frames come first are used.
				t.Fatalf("%s frame %d is not a key frame", path, i)
			}
			img, err := d.Decode(fr)
			if err != nil {
				t.Fatalf("%s frame %d: %v", path, i, err)
			}
			got := rawYUV(img)
			if off+len(got) > len(out) || !bytes.Equal(out[off:off+len(got)], got) {
				t.Errorf("%s frame %d differs from ffmpeg", path, i)
			}
			off += len(got)
		}
	}
}
