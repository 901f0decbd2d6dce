package jpeg

import (
	"bytes"
	"encoding/binary"
	"image"
	stdjpeg "image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/image/vp8"
)

// keyframes reads the keyframes of an IVF file (32-byte file header, then a
// 12-byte header before each frame).
func keyframes(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for p := 32; p+12 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[p:]))
		f := b[p+12 : p+12+n]
		if f[0]&1 == 0 { // RFC 6386 9.1: P bit clear = keyframe
			out = append(out, f)
		}
		p += 12 + n
	}
	if len(out) == 0 {
		t.Fatalf("%s: no keyframe", name)
	}
	return out
}

func decodeVP8(t testing.TB, d *vp8.Decoder, f []byte) *image.YCbCr {
	d.Init(bytes.NewReader(f), len(f))
	if _, err := d.DecodeFrameHeader(); err != nil {
		t.Fatal(err)
	}
	img, err := d.DecodeFrame()
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// psnr compares two pictures over their RGB values.
func psnr(a, b image.Image) float64 {
	r := a.Bounds()
	var se float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range [3]float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				se += d * d
			}
		}
	}
	mse := se / float64(3*r.Dx()*r.Dy())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

func TestTablesComplete(t *testing.T) {
	for i, s := range huffSpecs {
		n := 0
		for _, c := range s.counts {
			n += int(c)
		}
		if n != len(s.syms) {
			t.Errorf("table %d: %d codes, %d symbols", i, n, len(s.syms))
		}
		seen := map[uint8]bool{}
		for _, v := range s.syms {
			if seen[v] {
				t.Errorf("table %d: symbol %#x twice", i, v)
			}
			seen[v] = true
		}
		if i&1 == 1 && len(s.syms) != 162 {
			t.Errorf("AC table %d has %d symbols, want 162", i, len(s.syms))
		}
	}
}

// TestMatchesStdlib: our JPEG decodes with image/jpeg to the size we wrote
// and stays within 40 dB PSNR of image/jpeg's own encoding at the same
// quality, at both sizes and several qualities.
func TestMatchesStdlib(t *testing.T) {
	for _, name := range []string{"vp8-640x480.ivf", "vp8-640x480-noise-key.ivf", "vp8-1280x720-key.ivf"} {
		img := decodeVP8(t, vp8.NewDecoder(), keyframes(t, name)[0])
		for _, q := range []int{50, 75, 90, 100} {
			var ours, theirs bytes.Buffer
			var e Encoder
			if err := e.Encode(&ours, img, q); err != nil {
				t.Fatal(err)
			}
			if err := stdjpeg.Encode(&theirs, img, &stdjpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			a, err := stdjpeg.Decode(bytes.NewReader(ours.Bytes()))
			if err != nil {
				t.Fatalf("%s q%d: image/jpeg cannot read ours: %v", name, q, err)
			}
			b, _ := stdjpeg.Decode(bytes.NewReader(theirs.Bytes()))
			if a.Bounds() != img.Bounds() {
				t.Fatalf("%s: bounds %v, want %v", name, a.Bounds(), img.Bounds())
			}
			p, src := psnr(a, b), psnr(a, img)
			t.Logf("%s q%d: %d bytes (image/jpeg %d); PSNR vs image/jpeg %.1f dB, vs source %.1f dB (image/jpeg's %.1f)",
				name, q, ours.Len(), theirs.Len(), p, src, psnr(b, img))
			if p < 40 {
				t.Errorf("%s q%d: PSNR against image/jpeg %.1f dB < 40", name, q, p)
			}
		}
	}
}

// TestOddSizes: sizes that are not multiples of 16 repeat the edge samples.
func TestOddSizes(t *testing.T) {
	src := decodeVP8(t, vp8.NewDecoder(), keyframes(t, "vp8-640x480.ivf")[0])
	for _, sz := range [][2]int{{1, 1}, {17, 9}, {33, 31}, {639, 479}} {
		img := src.SubImage(image.Rect(0, 0, sz[0], sz[1])).(*image.YCbCr)
		var buf bytes.Buffer
		var e Encoder
		if err := e.Encode(&buf, img, 90); err != nil {
			t.Fatal(err)
		}
		got, err := stdjpeg.Decode(&buf)
		if err != nil {
			t.Fatalf("%v: %v", sz, err)
		}
		if got.Bounds().Dx() != sz[0] || got.Bounds().Dy() != sz[1] {
			t.Fatalf("%v: decoded %v", sz, got.Bounds())
		}
		if p := psnr(got, img); p < 30 {
			t.Errorf("%v: PSNR vs source %.1f dB", sz, p)
		}
	}
}

func TestUnsupported(t *testing.T) {
	var e Encoder
	img := image.NewYCbCr(image.Rect(0, 0, 16, 16), image.YCbCrSubsampleRatio444)
	if err := e.Encode(&bytes.Buffer{}, img, 90); err != ErrUnsupported {
		t.Fatalf("4:4:4: %v", err)
	}
	img = image.NewYCbCr(image.Rect(0, 0, 0, 0), image.YCbCrSubsampleRatio420)
	if err := e.Encode(&bytes.Buffer{}, img, 90); err != ErrUnsupported {
		t.Fatalf("empty: %v", err)
	}
	img = image.NewYCbCr(image.Rect(0, 0, 32, 32), image.YCbCrSubsampleRatio420)
	for _, r := range []image.Rectangle{image.Rect(1, 0, 17, 16), image.Rect(0, 1, 16, 17)} {
		if err := e.Encode(&bytes.Buffer{}, img.SubImage(r).(*image.YCbCr), 90); err != ErrUnsupported {
			t.Fatalf("odd origin %v: %v", r, err)
		}
	}
	if err := e.Encode(&bytes.Buffer{}, img.SubImage(image.Rect(2, 2, 18, 18)).(*image.YCbCr), 90); err != nil {
		t.Fatalf("even origin: %v", err)
	}
}

// TestNoAllocs: after the first picture of a size, encoding allocates nothing.
func TestNoAllocs(t *testing.T) {
	img := decodeVP8(t, vp8.NewDecoder(), keyframes(t, "vp8-640x480.ivf")[0])
	var e Encoder
	var buf []byte
	buf, _ = e.Append(buf[:0], img, 90)
	if n := testing.AllocsPerRun(5, func() { buf, _ = e.Append(buf[:0], img, 90) }); n != 0 {
		t.Fatalf("%v allocations per picture", n)
	}
}

// TestFFmpegReads: ffmpeg (an independent decoder) reads the file as a
// baseline yuvj420p JPEG of the right size.
func TestFFmpegReads(t *testing.T) {
	probe, err := exec.LookPath("ffprobe")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffprobe not installed")
		}
		t.Skip("ffprobe not installed")
	}
	ff, err := exec.LookPath("ffmpeg")
	if err != nil && os.Getenv("CI") != "" {
		t.Fatal("ffmpeg not installed")
	}
	hd := decodeVP8(t, vp8.NewDecoder(), keyframes(t, "vp8-1280x720-key.ivf")[0])
	noisy := decodeVP8(t, vp8.NewDecoder(), keyframes(t, "vp8-640x480-noise-key.ivf")[0])
	for _, c := range []struct {
		img  *image.YCbCr
		q    int
		want string
	}{
		{hd, 75, "mjpeg|Baseline|1280|720|yuvj420p"},
		{noisy, 100, "mjpeg|Baseline|640|480|yuvj420p"}, // most codes, most stuffing
		{noisy.SubImage(image.Rect(4, 2, 21, 11)).(*image.YCbCr), 50, "mjpeg|Baseline|17|9|yuvj420p"},
	} {
		var e Encoder
		var buf bytes.Buffer
		if err := e.Encode(&buf, c.img, c.q); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "k.jpg")
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(probe, "-v", "error", "-show_entries", "stream=codec_name,width,height,pix_fmt,profile",
			"-of", "compact=p=0:nk=1", p).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe: %v\n%s", err, out)
		}
		if got := string(bytes.TrimSpace(out)); got != c.want {
			t.Fatalf("ffprobe: %q, want %q", got, c.want)
		}
		if ff != "" {
			out, err := exec.Command(ff, "-v", "error", "-xerror", "-i", p, "-f", "null", "-").CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) != 0 {
				t.Fatalf("%s q%d: ffmpeg decode: %v %s", c.want, c.q, err, out)
			}
		}
	}
}

// noise is a picture of pseudo-random samples: the most nonzero
// coefficients, the longest codes and the most 0xFF bytes to stuff.
func noise(w, h int, seed uint64) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	x := seed | 1
	next := func() byte { // xorshift64
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return byte(x >> 32)
	}
	for i := range img.Y {
		img.Y[i] = next()
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = next(), next()
	}
	return img
}

// entropyData returns the entropy-coded segment of a JPEG we wrote: what
// follows the SOS header up to the EOI marker.
func entropyData(t *testing.T, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte{0xff, 0xda})
	if i < 0 || !bytes.HasSuffix(b, []byte{0xff, 0xd9}) {
		t.Fatal("no SOS or no EOI at the end")
	}
	n := int(b[i+2])<<8 | int(b[i+3])
	return b[i+2+n : len(b)-2]
}

// TestByteStuffing: in the entropy-coded data every 0xFF is followed by a
// stuffed zero (T.81 F.1.2.3), so no marker appears before EOI; the noisy
// picture at quality 100 makes many of them, going through the writer's
// slow path.
func TestByteStuffing(t *testing.T) {
	var e Encoder
	for _, img := range []*image.YCbCr{
		noise(160, 96, 1),
		decodeVP8(t, vp8.NewDecoder(), keyframes(t, "vp8-640x480-noise-key.ivf")[0]),
	} {
		b, err := e.Append(nil, img, 100)
		if err != nil {
			t.Fatal(err)
		}
		d, stuffed := entropyData(t, b), 0
		for i := 0; i < len(d); i++ {
			if d[i] == 0xff {
				if i+1 == len(d) || d[i+1] != 0 {
					t.Fatalf("0xFF at %d of %d not followed by a zero", i, len(d))
				}
				stuffed++
				i++
			}
		}
		if stuffed == 0 {
			t.Fatal("no 0xFF in the entropy-coded data: the stuffing path went untested")
		}
		if _, err := stdjpeg.Decode(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStrips: the widest and tallest pictures a baseline JPEG carries, one
// MCU high or wide (memory stays a few MB), and full-range noise at odd
// sizes, decode to their size.
func TestStrips(t *testing.T) {
	var e Encoder
	var buf []byte
	for _, sz := range [][3]int{{65535, 1, 90}, {1, 65535, 90}, {65535, 17, 75}, {17, 9, 100}, {31, 33, 100}, {2, 2, 1}} {
		img := noise(sz[0], sz[1], uint64(sz[0]*sz[1]))
		var err error
		if buf, err = e.Append(buf[:0], img, sz[2]); err != nil {
			t.Fatal(err)
		}
		got, err := stdjpeg.Decode(bytes.NewReader(buf))
		if err != nil {
			t.Fatalf("%v: %v", sz, err)
		}
		if got.Bounds() != img.Bounds() {
			t.Fatalf("%v: decoded %v", sz, got.Bounds())
		}
	}
}

// TestQualityClamped: qualities outside 1..100 act as the nearest end, as
// for image/jpeg, also as the first quality a zero Encoder sees.
func TestQualityClamped(t *testing.T) {
	img := noise(48, 32, 3)
	for _, c := range [][2]int{{0, 1}, {-7, 1}, {101, 100}, {1000, 100}} {
		var e, ref Encoder
		got, _ := e.Append(nil, img, c[0])
		want, _ := ref.Append(nil, img, c[1])
		if !bytes.Equal(got, want) {
			t.Fatalf("quality %d differs from %d", c[0], c[1])
		}
		if _, err := stdjpeg.Decode(bytes.NewReader(got)); err != nil {
			t.Fatalf("quality %d: %v", c[0], err)
		}
	}
}

// TestDeterministic: the bytes depend only on the picture and the quality,
// not on what the Encoder did before or on what dst holds.
func TestDeterministic(t *testing.T) {
	img := decodeVP8(t, vp8.NewDecoder(), keyframes(t, "vp8-640x480-noise-key.ivf")[0])
	var fresh Encoder
	want, _ := fresh.Append(nil, img, 75)
	var e Encoder
	_, _ = e.Append(nil, noise(33, 17, 7), 20) // another size and quality first
	got, _ := e.Append([]byte("prefix"), img, 75)
	if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[6:], want) {
		t.Fatal("output differs after another picture, or the prefix was lost")
	}
	var buf bytes.Buffer
	if err := e.Encode(&buf, img, 75); err != nil || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("Encode differs from Append (%v)", err)
	}
}

// FuzzEncode: any size and any samples give a JPEG that image/jpeg reads
// back at that size.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(16), uint8(16), uint8(90), []byte{0, 255, 128})
	f.Add(uint8(1), uint8(1), uint8(1), []byte{255})
	f.Add(uint8(33), uint8(7), uint8(100), []byte{0xff, 0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, w, h, q uint8, seed []byte) {
		if w == 0 || h == 0 || len(seed) == 0 {
			return
		}
		img := image.NewYCbCr(image.Rect(0, 0, int(w), int(h)), image.YCbCrSubsampleRatio420)
		for i := range img.Y {
			img.Y[i] = seed[i%len(seed)]
		}
		for i := range img.Cb {
			img.Cb[i] = seed[(i*7)%len(seed)]
			img.Cr[i] = seed[(i*13)%len(seed)] ^ 0xff
		}
		var e Encoder
		var buf bytes.Buffer
		if err := e.Encode(&buf, img, int(q)%100+1); err != nil {
			t.Fatal(err)
		}
		got, err := stdjpeg.Decode(&buf)
		if err != nil {
			t.Fatalf("%dx%d q%d: %v", w, h, q, err)
		}
		if got.Bounds() != img.Bounds() {
			t.Fatalf("bounds %v", got.Bounds())
		}
	})
}
