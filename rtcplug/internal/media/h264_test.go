package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/h264dec"
	"github.com/nutsbolts/webrtc/rtcplug/internal/vp8dec"
)

// annexB calls fn with each NAL unit of an Annex B stream.
func annexB(b []byte, fn func(nal []byte)) {
	var starts []int
	for i := 0; i+3 <= len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			starts = append(starts, i+3)
			i += 2
		}
	}
	for k, s := range starts {
		e := len(b)
		if k+1 < len(starts) {
			e = starts[k+1] - 3
			for e > s && b[e-1] == 0 {
				e--
			}
		}
		fn(b[s:e])
	}
}

// firstIDR returns the first IDR access unit of an Annex B stream, SPS and
// PPS in front, as the depacketizer hands keyframes over; without SEI when
// noSEI.
func firstIDR(t testing.TB, stream []byte, noSEI bool) []byte {
	t.Helper()
	var au []byte
	idr, done := false, false
	annexB(stream, func(n []byte) {
		if done || len(n) == 0 {
			return
		}
		typ := n[0] & 0x1f
		if idr && typ != 5 {
			done = true
			return
		}
		if typ == 6 && noSEI {
			return
		}
		idr = idr || typ == 5
		au = append(append(au, 0, 0, 0, 1), n...)
	})
	if !idr {
		t.Fatal("no IDR picture")
	}
	return au
}

func sampleIDR(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return firstIDR(t, b, false)
}

func needFFmpeg(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is required in CI (install it in .ci/run)")
		}
		t.Skip("ffmpeg not on PATH")
	}
	return p
}

// x264Black encodes one flat black picture with libx264 (the cheapest
// picture there is) and returns its IDR access unit without x264's SEI.
func x264Black(t testing.TB, size string, coder string) []byte {
	t.Helper()
	ff := needFFmpeg(t)
	out := filepath.Join(t.TempDir(), "b.h264")
	if o, err := exec.Command(ff, "-v", "error", "-y", "-f", "lavfi", "-i", "color=black:size="+size+":rate=30",
		"-frames:v", "1", "-c:v", "libx264", "-coder", coder, "-pix_fmt", "yuv420p", "-f", "h264", out).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, o)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return firstIDR(t, b, true)
}

// TestH264MinBytesMeasured: the rule of MinH264KeyframeBytes admits flat
// black libx264 IDR pictures (CABAC and CAVLC, no SEI) with a margin of at
// least two, and the pool decodes them.
func TestH264MinBytesMeasured(t *testing.T) {
	p := NewPool(context.Background(), Config{Workers: 1})
	defer p.Close()
	var d h264dec.Decoder
	for _, size := range []string{"1280x720", "1920x1080"} {
		for _, coder := range []string{"1", "0"} { // CABAC, CAVLC
			au := x264Black(t, size, coder)
			w, h, err := CheckH264Keyframe(au)
			if err != nil {
				t.Fatalf("%s coder %s: %v", size, coder, err)
			}
			min := MinH264KeyframeBytes(w, h)
			t.Logf("%s coder=%s: %d bytes, rule %d", size, coder, len(au), min)
			if len(au) < 2*min {
				t.Errorf("%s coder %s: %d bytes, rule %d leaves no margin", size, coder, len(au), min)
			}
			if _, err := decodeH264With(&d, au); err != nil {
				t.Errorf("%s coder %s: %v", size, coder, err)
			}
		}
	}
}

// h264SPS makes an Annex B SPS claiming w x h (multiples of 16; profile
// 66, level 5.1): bits written by hand after ITU-T H.264 §7.3.2.1.1.
func h264SPS(w, h int) []byte {
	var bits []bool
	put := func(v uint32, n int) {
		for i := n - 1; i >= 0; i-- {
			bits = append(bits, v>>i&1 == 1)
		}
	}
	ue := func(v uint32) {
		v++
		n := 0
		for x := v; x > 1; x >>= 1 {
			n++
		}
		put(0, n)
		put(v, n+1)
	}
	put(66, 8) // profile_idc
	put(0, 8)  // constraint flags
	put(51, 8) // level_idc
	ue(0)      // seq_parameter_set_id
	ue(0)      // log2_max_frame_num_minus4
	ue(2)      // pic_order_cnt_type
	ue(1)      // max_num_ref_frames
	put(0, 1)  // gaps_in_frame_num_value_allowed_flag
	ue(uint32(w/16 - 1))
	ue(uint32(h/16 - 1))
	put(1, 1) // frame_mbs_only_flag
	put(1, 1) // direct_8x8_inference_flag
	put(0, 1) // frame_cropping_flag
	put(0, 1) // vui_parameters_present_flag
	put(1, 1) // rbsp_stop_one_bit
	for len(bits)%8 != 0 {
		bits = append(bits, false)
	}
	out := []byte{0, 0, 0, 1, 0x67}
	for i := 0; i < len(bits); i += 8 {
		var c byte
		for j := range 8 {
			if bits[i+j] {
				c |= 0x80 >> j
			}
		}
		out = append(out, c)
	}
	return out
}

func TestCheckH264Keyframe(t *testing.T) {
	huge := append(h264SPS(4096, 2304), 0, 0, 0, 1, 0x68, 0xce, 0x38, 0x80, 0, 0, 0, 1, 0x65, 0x88)
	huge = append(huge, make([]byte, 40-len(huge))...)
	for _, c := range []struct {
		name  string
		frame []byte
		err   error
	}{
		{"real 640x480", sampleIDR(t, "h264-cb-640x480.h264"), nil},
		{"real 1280x720", sampleIDR(t, "h264-high-1280x720-4slices.h264"), nil},
		{"40 bytes claiming 4096x2304", huge, ErrTooSmall},
		{"just under the rule", append(h264SPS(4096, 2304), make([]byte, MinH264KeyframeBytes(4096, 2304)-len(h264SPS(4096, 2304))-1)...), ErrTooSmall},
		{"no SPS", []byte{0, 0, 0, 1, 0x65, 0x88, 0x84}, h264dec.ErrInvalid},
		{"empty", nil, h264dec.ErrInvalid},
	} {
		_, _, err := CheckH264Keyframe(c.frame)
		if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
	if w, h, _ := CheckH264Keyframe(huge); w != 4096 || h != 2304 {
		t.Fatalf("hand-made SPS reads as %dx%d", w, h)
	}
	if n := MinH264KeyframeBytes(4096, 2304); n != 36864/64 {
		t.Fatalf("MinH264KeyframeBytes(4096, 2304) = %d", n)
	}
}

// TestPoolRefusesTinyH264: 40 bytes claiming 4096x2304 never reach the
// decoder; neither does a codec the pool has no decoder for.
func TestPoolRefusesTinyH264(t *testing.T) {
	p := NewPool(context.Background(), Config{Workers: 1, OnResult: func(Result) { t.Error("decoded") }})
	defer p.Close()
	huge := append(h264SPS(4096, 2304), make([]byte, 20)...)[:40]
	for i := range 10 {
		if p.Submit(Job{Conference: "c", Peer: "p", Seq: i, Frame: huge, Codec: "H264"}) {
			t.Fatal("admitted")
		}
	}
	if p.Submit(Job{Conference: "c", Peer: "p", Frame: firstFrame(t), Codec: "AV1"}) {
		t.Fatal("admitted an unknown codec")
	}
	if s := p.Stats(); s.Refused != 11 || s.Decoded != 0 || s.Failed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestPoolH264: an H.264 keyframe gives a JPEG and an image equal to a
// fresh decode, which the worker's next keyframe does not overwrite.
func TestPoolH264(t *testing.T) {
	dir := t.TempDir()
	got := make(chan Result, 2)
	p := NewPool(context.Background(), Config{Dir: dir, Workers: 1, OnResult: func(r Result) { got <- r }})
	defer p.Close()
	a, b := sampleIDR(t, "h264-cb-640x480.h264"), sampleIDR(t, "h264-high-1280x720-4slices.h264")
	if !p.Submit(Job{Conference: "c1", Peer: "p1", Seq: 1, Time: time.Unix(0, 0), Frame: a, Codec: "H264"}) {
		t.Fatal("submit refused")
	}
	var r Result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no result")
	}
	want := filepath.Join(dir, "c1", "p1", "keyframe-000001.jpg")
	if r.Path != want || r.Width != 640 || r.Height != 480 || r.Image == nil || r.Codec != "H264" {
		t.Fatalf("result %+v", r)
	}
	f, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(f)); err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Fatalf("jpeg %+v %v", cfg, err)
	}
	if !p.Submit(Job{Conference: "c1", Peer: "p2", Seq: 1, Frame: b, Codec: "H264"}) {
		t.Fatal("submit refused")
	}
	if r2 := <-got; r2.Width != 1280 || r2.Height != 720 {
		t.Fatalf("second result %+v", r2)
	}
	var d h264dec.Decoder
	fresh, err := d.Decode(a)
	if err != nil {
		t.Fatal(err)
	}
	if !sameYCbCr(r.Image, fresh) {
		t.Fatal("callback picture differs from a fresh decode (overwritten?)")
	}
	if s := p.Stats(); s.Decoded != 2 || s.Written != 2 || s.Failed != 0 || s.Refused != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestPoolH264Failures: a P picture with its parameter sets, or a broken
// IDR, passes admission and fails decoding, counted as VP8's failures are.
func TestPoolH264Failures(t *testing.T) {
	stream, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "h264-cb-640x480.h264"))
	if err != nil {
		t.Fatal(err)
	}
	idr := firstIDR(t, stream, false)
	// The access unit after the IDR is a P picture: give it the IDR's
	// parameter sets and mark nothing else.
	var sps, pps, pslice []byte
	annexB(stream, func(n []byte) {
		switch n[0] & 0x1f {
		case 7:
			sps = n
		case 8:
			pps = n
		case 1:
			if pslice == nil {
				pslice = n
			}
		}
	})
	var p264 []byte
	for _, n := range [][]byte{sps, pps, pslice} {
		p264 = append(append(p264, 0, 0, 0, 1), n...)
	}
	broken := append([]byte(nil), idr...)
	for i := len(broken) - len(broken)/3; i < len(broken); i++ {
		broken[i] = 0xff
	}
	var d h264dec.Decoder
	if _, err := decodeH264With(&d, p264); !errors.Is(err, h264dec.ErrNotIntra) {
		t.Fatalf("P picture: %v", err)
	}
	p := NewPool(context.Background(), Config{Workers: 1, OnResult: func(Result) { t.Error("result") }})
	for i, f := range [][]byte{p264, broken} {
		if !p.Submit(Job{Conference: "c", Peer: "p", Seq: i, Frame: f, Codec: "H264"}) {
			t.Fatalf("frame %d refused", i)
		}
		waitIdle(t, p, i+1)
	}
	p.Close()
	if s := p.Stats(); s.Failed != 2 || s.Decoded != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// benchKeyframeToJPEG is a worker's whole snapshot path: decode with a
// kept decoder, encode the picture at the default quality.
func benchKeyframeToJPEG(b *testing.B, decode func() (*image.YCbCr, error)) {
	var w worker
	b.ReportAllocs()
	for b.Loop() {
		img, err := decode()
		if err != nil {
			b.Fatal(err)
		}
		if w.buf, err = w.enc.Append(w.buf[:0], img, DefaultQuality); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyframeToJPEG: the committed samples, H.264 (libx264
// constrained baseline 640x480; high profile 1280x720, 4 slices) beside
// VP8 keyframes (libvpx, testsrc2 with noise) of the same sizes.
func BenchmarkKeyframeToJPEG(b *testing.B) {
	for _, c := range []struct{ name, file string }{
		{"H264/640x480", "h264-cb-640x480.h264"},
		{"H264/1280x720", "h264-high-1280x720-4slices.h264"},
	} {
		au := sampleIDR(b, c.file)
		b.Run(c.name, func(b *testing.B) {
			var d h264dec.Decoder
			benchKeyframeToJPEG(b, func() (*image.YCbCr, error) { return decodeH264With(&d, au) })
		})
	}
	for _, c := range []struct{ name, file string }{
		{"VP8/640x480", "vp8-640x480-noise-key.ivf"},
		{"VP8/1280x720", "vp8-1280x720-key.ivf"},
	} {
		ivf, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", c.file))
		if err != nil {
			b.Fatal(err)
		}
		hl := int(binary.LittleEndian.Uint16(ivf[6:8]))
		n := int(binary.LittleEndian.Uint32(ivf[hl:]))
		frame := ivf[hl+12 : hl+12+n]
		b.Run(c.name, func(b *testing.B) {
			d := new(vp8dec.Decoder)
			benchKeyframeToJPEG(b, func() (*image.YCbCr, error) { return decodeWith(d, frame) })
		})
	}
}

// FuzzCheckH264Keyframe: any bytes; an admitted frame has a size in range
// and meets the length rule, and decoding it never panics.
func FuzzCheckH264Keyframe(f *testing.F) {
	// A small real IDR (150x100, libx264 baseline); the 640x480 samples are
	// too large for the fuzzer's mutator to make progress on.
	if b, err := os.ReadFile(filepath.Join("..", "h264dec", "testdata", "baseline.264")); err == nil {
		f.Add(firstIDR(f, b, false))
	}
	f.Add(append(h264SPS(4096, 2304), make([]byte, 30)...))
	f.Add(append(h264SPS(64, 48), 0, 0, 0, 1, 0x68, 0xce, 0x38, 0x80, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00))
	var d h264dec.Decoder
	f.Fuzz(func(t *testing.T, b []byte) {
		w, h, err := CheckH264Keyframe(b)
		if err != nil {
			return
		}
		if w < 1 || h < 1 || w*h > MaxPixels || len(b) < MinH264KeyframeBytes(w, h) {
			t.Fatalf("admitted %dx%d in %d bytes", w, h, len(b))
		}
		if _, err := decodeH264With(&d, b); errors.Is(err, errH264Panic) {
			t.Fatal(err)
		}
	})
}
