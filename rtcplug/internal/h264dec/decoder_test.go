package h264dec

import (
	"errors"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var samples = []string{"baseline", "main", "high-cqm", "high-slices4-nodeblock", "high-cavlc-qp10"}

func readSample(t testing.TB, name string) (stream, ref []byte) {
	t.Helper()
	var err error
	if stream, err = os.ReadFile(filepath.Join("testdata", name+".264")); err != nil {
		t.Fatal(err)
	}
	if ref, err = os.ReadFile(filepath.Join("testdata", name+".yuv")); err != nil {
		t.Fatal(err)
	}
	return
}

// TestSamples compares the committed samples with ffmpeg's decode of them.
func TestSamples(t *testing.T) {
	for _, name := range samples {
		t.Run(name, func(t *testing.T) {
			stream, ref := readSample(t, name)
			checkStream(t, stream, ref)
		})
	}
}

func TestTables(t *testing.T) {
	// Table 9-44 and 9-45 entries.
	if rangeTabLPS[0] != [4]uint8{128, 176, 208, 240} || rangeTabLPS[63] != [4]uint8{2, 2, 2, 2} ||
		rangeTabLPS[12][3] != 128 || rangeTabLPS[40][1] != 22 {
		t.Error("rangeTabLPS")
	}
	if transIdxLPS[0] != 0 || transIdxLPS[5] != 4 || transIdxLPS[62] != 38 || transIdxLPS[63] != 63 {
		t.Error("transIdxLPS")
	}
	// Tables 9-12 .. 9-33, I slice column.
	for _, c := range []struct {
		idx  int
		m, n int8
	}{{0, 20, -15}, {10, 7, 51}, {60, 0, 41}, {69, 3, 62}, {73, -17, 127}, {104, -22, 125},
		{105, -7, 93}, {165, 12, 72}, {166, 24, 0}, {226, 2, 97}, {227, -3, 71}, {275, -14, 97},
		{399, 31, 21}, {402, -17, 120}, {417, 23, -13}, {435, -9, 92}} {
		if cabacMN[c.idx] != [2]int8{c.m, c.n} {
			t.Errorf("ctxIdx %d: (m,n) = %v, want (%d,%d)", c.idx, cabacMN[c.idx], c.m, c.n)
		}
	}
	// Zig-zag scans (Figure 8-8, Table 8-13).
	if zigzag4x4[2] != 4 || zigzag4x4[15] != 15 {
		t.Error("zigzag4x4")
	}
	for k, want := range map[int]uint8{0: 0, 1: 1, 2: 8, 3: 16, 4: 9, 5: 2, 10: 32, 35: 56, 63: 63, 62: 62, 61: 55} {
		if zigzag8x8[k] != want {
			t.Errorf("zigzag8x8[%d] = %d, want %d", k, zigzag8x8[k], want)
		}
	}
	// coeff_token (Table 9-5): decode known codes.
	for _, c := range []struct {
		table    int
		code     string
		tc, t1   int
		consumed int
	}{{0, "1", 0, 0, 1}, {0, "000101", 1, 0, 6}, {0, "0000000000000100", 16, 0, 16}, {1, "11", 0, 0, 2},
		{2, "1111", 0, 0, 4}, {3, "000011", 0, 0, 6}, {3, "111111", 16, 3, 6}, {4, "0000000", 4, 3, 7}, {4, "1", 1, 1, 1}} {
		var w bitWriter
		for _, ch := range c.code {
			w.u(1, uint32(ch-'0'))
		}
		w.u(16, 0xffff)
		var r bitReader
		r.init(w.b)
		v, ok := coeffTokenTables[c.table].read(&r)
		if !ok || v>>2 != c.tc || v&3 != c.t1 || r.pos != c.consumed {
			t.Errorf("coeff_token table %d code %s: got %d/%d (%v, %d bits)", c.table, c.code, v>>2, v&3, ok, r.pos)
		}
	}
}

func TestExpGolomb(t *testing.T) {
	var w bitWriter
	vals := []uint32{0, 1, 2, 3, 7, 254, 65535, 1<<31 - 2}
	for _, v := range vals {
		w.ue(v)
	}
	w.se(-5)
	w.se(7)
	var r bitReader
	r.init(w.b)
	for _, v := range vals {
		if got := r.ue(); got != v {
			t.Errorf("ue = %d, want %d", got, v)
		}
	}
	if r.se() != -5 || r.se() != 7 || r.overrun() {
		t.Error("se")
	}
	r.init([]byte{0, 0, 0, 0, 0})
	r.ue()
	if !r.overrun() {
		t.Error("32 leading zeros must overrun")
	}
}

func TestUnescape(t *testing.T) {
	got := unescape(nil, []byte{1, 0, 0, 3, 1, 0, 0, 3, 0, 3})
	want := []byte{1, 0, 0, 1, 0, 0, 0, 3}
	if string(got) != string(want) {
		t.Errorf("unescape = %v, want %v", got, want)
	}
}

func TestUnsupported(t *testing.T) {
	idr := func(sliceType uint32) []byte {
		var w bitWriter
		writeSliceHeader(&w, sliceType, 0)
		w.trailing()
		return nal(0x65, w.b)
	}
	cat := func(b ...[]byte) []byte {
		return []byte(strings.Join(func() []string {
			var s []string
			for _, x := range b {
				s = append(s, string(x))
			}
			return s
		}(), ""))
	}
	cases := []struct {
		name string
		au   []byte
		want string
	}{
		{"P slice", cat(buildSPS(spsOpts{wMbs: 2, hMbs: 2}), buildPPS(false, 1), idr(5)), "P/B slice"},
		{"B slice", cat(buildSPS(spsOpts{wMbs: 2, hMbs: 2}), buildPPS(false, 1), idr(6)), "P/B slice"},
		{"interlaced", buildSPS(spsOpts{wMbs: 2, hMbs: 2, fieldCoding: true}), "interlaced"},
		{"4:2:2", buildSPS(spsOpts{profile: 100, wMbs: 2, hMbs: 2, chromaFormat: 2}), "chroma_format_idc"},
		{"10-bit", buildSPS(spsOpts{profile: 100, wMbs: 2, hMbs: 2, chromaFormat: 1, bitDepthMinus: 2}), "bit_depth"},
		{"FMO", cat(buildSPS(spsOpts{wMbs: 2, hMbs: 2}), buildPPS(false, 2)), "FMO"},
		{"too large", buildSPS(spsOpts{wMbs: 300, hMbs: 200}), "level 5.1"},
	}
	for _, c := range cases {
		var d Decoder
		_, err := d.Decode(c.au)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrUnsupported mentioning %q", c.name, err, c.want)
		}
		if notIntra := strings.Contains(c.want, "P/B"); errors.Is(err, ErrNotIntra) != notIntra {
			t.Errorf("%s: errors.Is(err, ErrNotIntra) = %v", c.name, !notIntra)
		}
	}
}

func TestPeekSizeAndOutOfBand(t *testing.T) {
	stream, ref := readSample(t, "main")
	w, h, err := PeekSize(stream)
	if err != nil || w != 150 || h != 100 {
		t.Fatalf("PeekSize = %d, %d, %v", w, h, err)
	}
	// Move SPS and PPS out of band, as sprop-parameter-sets carry them.
	var params [][]byte
	var rest []byte
	for i := 0; ; {
		n, next, ok := nextNAL(stream, i)
		if !ok {
			break
		}
		i = next
		if t := n[0] & 0x1f; t == 7 || t == 8 {
			params = append(params, n)
		} else {
			rest = append(append(rest, 0, 0, 1), n...)
		}
	}
	if w, h, err := PeekSize(rest, params...); err != nil || w != 150 || h != 100 {
		t.Fatalf("PeekSize(params) = %d, %d, %v", w, h, err)
	}
	var d Decoder
	if _, err := d.Decode(rest); err == nil {
		t.Fatal("decoding without parameter sets succeeded")
	}
	if err := d.SetParameterSets(params...); err != nil {
		t.Fatal(err)
	}
	img, err := d.Decode(rest)
	if err != nil {
		t.Fatal(err)
	}
	compareYUV(t, 0, img, ref)
}

// TestPCM decodes pictures of alternating I_PCM and Intra16x16 macroblocks
// (x264 emits no I_PCM), in one or two slices, with each
// disable_deblocking_filter_idc, and compares with ffmpeg.
func TestPCM(t *testing.T) {
	for _, c := range []struct {
		name   string
		slices int
		idc    uint32
	}{{"1slice_idc0", 1, 0}, {"2slices_idc0", 2, 0}, {"2slices_idc1", 2, 1}, {"2slices_idc2", 2, 2}} {
		t.Run(c.name, func(t *testing.T) {
			au := pcmPicture(c.slices, c.idc)
			ff := needFFmpeg(t)
			dir := t.TempDir()
			in := filepath.Join(dir, "pcm.264")
			if err := os.WriteFile(in, au, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "pcm.yuv")
			if b, err := exec.Command(ff, "-loglevel", "error", "-y", "-i", in, "-pix_fmt", "yuv420p", "-f", "rawvideo", out).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, b)
			}
			ref, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			checkStream(t, au, ref)
		})
	}
}

func pcmPicture(slices int, idc uint32) []byte {
	const wMbs, hMbs = 4, 3
	au := append(buildSPS(spsOpts{wMbs: wMbs, hMbs: hMbs}), buildPPS(false, 1)...)
	rng := rand.New(rand.NewSource(1))
	nz := make([]int, wMbs*hMbs) // total_coeff of every 4x4 block
	per := (wMbs*hMbs + slices - 1) / slices
	for s := 0; s < slices; s++ {
		var w bitWriter
		first := s * per
		// QP 51, so edges next to I_PCM (QP 0) are filtered.
		writeSliceHeaderAt(&w, uint32(first), 7, 25, idc)
		for mb := first; mb < min(first+per, wMbs*hMbs); mb++ {
			if (mb+mb/wMbs)%2 == 0 {
				w.ue(25)
				w.align()
				for i := 0; i < 384; i++ {
					w.u(8, uint32(100+i%16+rng.Intn(6)))
				}
				nz[mb] = 16
				continue
			}
			w.ue(3) // I_16x16_2_0_0: DC prediction, no coded coefficients
			w.ue(0) // intra_chroma_pred_mode DC
			w.se(0) // mb_qp_delta
			// Intra16x16DCLevel with TotalCoeff 0: code by nC (Table 9-5).
			var n []int
			if mb%wMbs > 0 && mb-1 >= first {
				n = append(n, nz[mb-1])
			}
			if mb-wMbs >= first {
				n = append(n, nz[mb-wMbs])
			}
			nC := 0
			switch len(n) {
			case 1:
				nC = n[0]
			case 2:
				nC = (n[0] + n[1] + 1) >> 1
			}
			switch {
			case nC < 2:
				w.u(1, 1)
			case nC < 4:
				w.u(2, 3)
			case nC < 8:
				w.u(4, 15)
			default:
				w.u(6, 3)
			}
		}
		w.trailing()
		au = append(au, nal(0x65, w.b)...)
	}
	return au
}

func TestNoAllocs(t *testing.T) {
	stream, _ := readSample(t, "high-cqm")
	var d Decoder
	if _, err := d.Decode(stream); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := d.Decode(stream); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per picture", allocs)
	}
}

// TestHostile feeds truncated and corrupted samples: errors are fine, panics
// and endless loops are not.
func TestHostile(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, name := range samples {
		stream, _ := readSample(t, name)
		var d Decoder
		for i := 0; i < 200; i++ {
			b := append([]byte(nil), stream...)
			switch i % 3 {
			case 0:
				b = b[:rng.Intn(len(b))]
			default:
				for k := 0; k < 1+rng.Intn(8); k++ {
					b[rng.Intn(len(b))] ^= byte(1 << uint(rng.Intn(8)))
				}
			}
			d.Decode(b) //nolint:errcheck // only panics matter
		}
	}
}

// TestTwoPicturesInOneUnit: a second picture after a complete one is left
// alone rather than failing the first.
func TestTwoPicturesInOneUnit(t *testing.T) {
	stream, ref := readSample(t, "baseline")
	var d Decoder
	img, err := d.Decode(append(append([]byte(nil), stream...), stream...))
	if err != nil {
		t.Fatal(err)
	}
	compareYUV(t, 0, img, ref)
}

// TestParameterSetOrder: a PPS given before its SPS is resolved when the SPS
// arrives, and a new SPS re-resolves the PPS that refers to it.
func TestParameterSetOrder(t *testing.T) {
	stream, ref := readSample(t, "high-cqm")
	var params [][]byte
	var rest []byte
	for i := 0; ; {
		n, next, ok := nextNAL(stream, i)
		if !ok {
			break
		}
		i = next
		if t := n[0] & 0x1f; t == 7 || t == 8 {
			params = append(params, n)
		} else {
			rest = append(append(rest, 0, 0, 1), n...)
		}
	}
	var d Decoder
	if err := d.SetParameterSets(params[1], params[0]); err != nil {
		t.Fatal(err)
	}
	img, err := d.Decode(rest)
	if err != nil {
		t.Fatal(err)
	}
	compareYUV(t, 0, img, ref)
	// Scaling lists from a flat SPS must not linger once the real one comes.
	other, _ := readSample(t, "baseline")
	d2 := Decoder{}
	for i := 0; ; {
		n, next, ok := nextNAL(other, i)
		if !ok {
			break
		}
		i = next
		if n[0]&0x1f == 7 {
			if err := d2.SetParameterSets(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := d2.SetParameterSets(params[1], params[0]); err != nil {
		t.Fatal(err)
	}
	if img, err = d2.Decode(rest); err != nil {
		t.Fatal(err)
	}
	compareYUV(t, 0, img, ref)
}
