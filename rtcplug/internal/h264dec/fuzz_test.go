package h264dec

import (
	"testing"
)

// nalsOf returns the NAL units (without start codes) of the samples with
// the given type.
func nalsOf(t testing.TB, typ byte) [][]byte {
	var out [][]byte
	for _, name := range samples {
		stream, _ := readSample(t, name)
		for i := 0; ; {
			n, next, ok := nextNAL(stream, i)
			if !ok {
				break
			}
			i = next
			if n[0]&0x1f == typ {
				out = append(out, n)
			}
		}
	}
	return out
}

// FuzzDecode feeds whole access units.
func FuzzDecode(f *testing.F) {
	for _, name := range samples {
		stream, _ := readSample(f, name)
		f.Add(stream)
	}
	f.Fuzz(func(t *testing.T, au []byte) {
		var d Decoder
		img, err := d.Decode(au)
		if err == nil && (img == nil || img.Rect.Dx() <= 0) {
			t.Fatal("no image without error")
		}
		PeekSize(au) //nolint:errcheck
	})
}

// FuzzSPS feeds sequence parameter set NAL units.
func FuzzSPS(f *testing.F) {
	for _, n := range nalsOf(f, 7) {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n []byte) {
		var s sps
		if len(n) < 1 {
			return
		}
		if err := parseSPS(unescape(nil, n[1:]), &s); err == nil {
			if s.widthMbs*s.heightMbs > maxFrameMbs || s.width() <= 0 || s.height() <= 0 {
				t.Fatalf("accepted SPS of %dx%d macroblocks, %dx%d", s.widthMbs, s.heightMbs, s.width(), s.height())
			}
		}
	})
}

// FuzzPPS feeds picture parameter sets after a real SPS.
func FuzzPPS(f *testing.F) {
	for _, n := range nalsOf(f, 8) {
		f.Add(n)
	}
	spss := nalsOf(f, 7)
	f.Fuzz(func(t *testing.T, n []byte) {
		for _, s := range spss {
			var d Decoder
			if err := d.SetParameterSets(s); err != nil {
				t.Fatal(err)
			}
			d.SetParameterSets(n) //nolint:errcheck
		}
	})
}

// FuzzSlice feeds slice NAL units after the real parameter sets of each
// sample, so the fuzzer spends its time in slice and macroblock parsing.
func FuzzSlice(f *testing.F) {
	type ps struct{ sps, pps []byte }
	var sets []ps
	for _, name := range samples {
		stream, _ := readSample(f, name)
		var p ps
		for i := 0; ; {
			n, next, ok := nextNAL(stream, i)
			if !ok {
				break
			}
			i = next
			switch n[0] & 0x1f {
			case 7:
				p.sps = n
			case 8:
				p.pps = n
			case 5, 1:
				f.Add(len(sets), n)
			}
		}
		sets = append(sets, p)
	}
	f.Fuzz(func(t *testing.T, set int, n []byte) {
		if set < 0 || set >= len(sets) {
			return
		}
		var d Decoder
		if err := d.SetParameterSets(sets[set].sps, sets[set].pps); err != nil {
			t.Fatal(err)
		}
		d.Decode(append([]byte{0, 0, 1}, n...)) //nolint:errcheck
	})
}
