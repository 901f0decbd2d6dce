package rtcp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chromiumSRSDES is laid out as a Chromium sender emits its periodic report:
// an SR with no report blocks, then an SDES chunk with a 16-character CNAME.
const chromiumSRSDES = `
80 c8 00 06  4a 8e 71 2d  ea 9b 3c 41  7a e1 47 ae
00 2c 8d 1e  00 00 01 2c  00 02 4c b8
81 ca 00 06  4a 8e 71 2d  01 10 6b 51 68 46 45 30
69 52 58 79 4a 2b 64 39  46 6e 00 00`

// chromiumRRREMB is a receiver's compound: an RR with one block, SDES, then a
// REMB (PSFB FMT 15) that must come through raw.
const chromiumRRREMB = `
81 c9 00 07  00 00 00 01  4a 8e 71 2d  05 00 00 1f
00 01 03 e8  00 00 00 2a  7a e1 47 ae  00 01 80 00
81 ca 00 03  00 00 00 01  01 03 61 62 63 00 00 00
8f ce 00 05  00 00 00 01  00 00 00 00  52 45 4d 42
01 0a 7d 78  4a 8e 71 2d`

// transportCC is a lone transport-wide feedback (RTPFB FMT 15) with the P
// bit set and one octet of padding, as libwebrtc pads it to a word.
const transportCC = `
af cd 00 05  00 00 00 01  4a 8e 71 2d  00 01 00 01
00 00 01 00  20 01 04 01`

func collect(t *testing.T, b []byte) []Packet {
	t.Helper()
	var ps []Packet
	it := NewIterator(b)
	for it.Next() {
		ps = append(ps, it.Packet())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return ps
}

func TestChromiumSRSDES(t *testing.T) {
	ps := collect(t, unhex(t, chromiumSRSDES))
	if len(ps) != 2 || ps[0].Type != TypeSR || ps[1].Type != TypeSDES {
		t.Fatalf("packets %+v", ps)
	}
	sr := ps[0]
	if sr.SenderSSRC() != 0x4a8e712d || sr.NumReports() != 0 {
		t.Fatalf("ssrc %x reports %d", sr.SenderSSRC(), sr.NumReports())
	}
	si, ok := sr.SenderInfo()
	want := SenderInfo{NTPTime: 0xea9b3c417ae147ae, RTPTime: 0x002c8d1e, PacketCount: 300, OctetCount: 0x24cb8}
	if !ok || si != want {
		t.Fatalf("sender info %+v, want %+v", si, want)
	}
	if si.MiddleNTP() != 0x3c417ae1 {
		t.Fatalf("middle NTP %x", si.MiddleNTP())
	}
	ssrc, cname, ok := ps[1].CNAME()
	if !ok || ssrc != 0x4a8e712d || string(cname) != "kQhFE0iRXyJ+d9Fn" {
		t.Fatalf("cname %x %q %v", ssrc, cname, ok)
	}
	if _, ok := ps[1].SenderInfo(); ok {
		t.Fatal("SDES has no sender info")
	}
}

func TestChromiumRRREMB(t *testing.T) {
	ps := collect(t, unhex(t, chromiumRRREMB))
	if len(ps) != 3 {
		t.Fatalf("%d packets", len(ps))
	}
	rr, ok := ps[0].Report(0)
	want := ReceptionReport{SSRC: 0x4a8e712d, FractionLost: 5, TotalLost: 31, HighestSeq: 0x103e8,
		Jitter: 42, LastSR: 0x7ae147ae, DelaySinceLastSR: 0x18000}
	if !ok || rr != want {
		t.Fatalf("report %+v, want %+v", rr, want)
	}
	if _, ok := ps[0].Report(1); ok {
		t.Fatal("report 1 of 1")
	}
	if _, c, _ := ps[1].CNAME(); string(c) != "abc" {
		t.Fatalf("cname %q", c)
	}
	fb, ok := ps[2].Feedback()
	if !ok || fb.FMT != FMTAFB || fb.SenderSSRC != 1 || fb.MediaSSRC != 0 || !bytes.HasPrefix(fb.FCI, []byte("REMB")) {
		t.Fatalf("feedback %+v", fb)
	}
	if ps[2].IsPLI() || ps[2].IsFIR() {
		t.Fatal("REMB taken for PLI/FIR")
	}
}

func TestTransportCCPadding(t *testing.T) {
	ps := collect(t, unhex(t, transportCC))
	if len(ps) != 1 {
		t.Fatalf("%d packets", len(ps))
	}
	p := ps[0]
	fb, ok := p.Feedback()
	if !ok || !p.Padding || p.Type != TypeRTPFB || fb.FMT != FMTTransportCC || fb.MediaSSRC != 0x4a8e712d {
		t.Fatalf("%+v %+v", p, fb)
	}
	if len(fb.FCI) != 11 || len(p.Raw) != 24 {
		t.Fatalf("fci %d raw %d", len(fb.FCI), len(p.Raw))
	}
	if p.IsNACK() || p.NumNACKPairs() != 0 {
		t.Fatal("transport-cc taken for NACK")
	}
}

func TestPaddingOnlyOnLast(t *testing.T) {
	// An RR whose P bit is set but which is not last: the bit is ignored
	// and the body read whole.
	rr := AppendRR(nil, 7, nil)
	rr = append(rr, 0, 0, 0, 4)
	rr[0] |= 0x20
	rr[3]++
	b := AppendPLI(rr, 7, 9)
	ps := collect(t, b)
	if len(ps) != 2 || len(ps[0].Body) != 8 || !ps[1].IsPLI() {
		t.Fatalf("%+v", ps)
	}
	// The same packet last: four octets of padding are removed.
	ps = collect(t, rr)
	if len(ps) != 1 || len(ps[0].Body) != 4 || ps[0].SenderSSRC() != 7 {
		t.Fatalf("%+v", ps)
	}
}

func TestRoundTrip(t *testing.T) {
	reports := make([]ReceptionReport, 40)
	for i := range reports {
		reports[i] = ReceptionReport{SSRC: uint32(i + 1), FractionLost: uint8(i), TotalLost: 0xfffffe,
			HighestSeq: 1 << 16 * uint32(i), Jitter: 3, LastSR: 4, DelaySinceLastSR: 5}
	}
	var b []byte
	b = AppendSR(b, 11, SenderInfo{NTPTime: 1 << 40, RTPTime: 2, PacketCount: 3, OctetCount: 4}, reports[:33])
	b = AppendRR(b, 12, nil)
	b = AppendRR(b, 13, reports)
	b = AppendSDESCNAME(b, 12, "user@example.com")
	b = AppendSDESCNAME(b, 14, strings.Repeat("x", 300))
	b = AppendSDESCNAME(b, 15, "")
	b = AppendBYE(b, 12, "done")
	b = AppendBYE(b, 16, "")
	b = AppendPLI(b, 12, 99)
	b = AppendFIR(b, 12, 99, 7)
	b = AppendNACK(b, 12, 99, []uint16{1000, 1001, 1016, 1017, 3})

	ps := collect(t, b)
	types := make([]uint8, len(ps))
	for i, p := range ps {
		types[i] = p.Type
	}
	wantTypes := []uint8{TypeSR, TypeRR, TypeRR, TypeRR, TypeRR, TypeSDES, TypeSDES, TypeSDES, TypeBYE, TypeBYE,
		TypePSFB, TypePSFB, TypeRTPFB}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("types %v, want %v", types, wantTypes)
	}
	// The SR carries 31 blocks, the RR after it the other two.
	if ps[0].NumReports() != 31 || ps[1].NumReports() != 2 || ps[1].SenderSSRC() != 11 {
		t.Fatalf("split SR: %d + %d", ps[0].NumReports(), ps[1].NumReports())
	}
	if si, _ := ps[0].SenderInfo(); si.NTPTime != 1<<40 || si.OctetCount != 4 {
		t.Fatalf("sender info %+v", si)
	}
	if r, _ := ps[1].Report(1); r != reports[32] {
		t.Fatalf("report %+v", r)
	}
	if r, _ := ps[0].Report(5); r != reports[5] || r.Lost() != -2 {
		t.Fatalf("report %+v lost %d", r, r.Lost())
	}
	if ps[2].NumReports() != 0 || len(ps[2].Raw) != 8 || ps[2].SenderSSRC() != 12 {
		t.Fatalf("empty RR %x", ps[2].Raw)
	}
	if ps[3].NumReports() != 31 || ps[4].NumReports() != 9 || ps[4].SenderSSRC() != 13 {
		t.Fatal("split RR")
	}
	if r, _ := ps[4].Report(8); r != reports[39] {
		t.Fatalf("last report %+v", r)
	}
	if s, c, ok := ps[5].CNAME(); !ok || s != 12 || string(c) != "user@example.com" {
		t.Fatalf("cname %d %q", s, c)
	}
	if _, c, _ := ps[6].CNAME(); len(c) != 255 {
		t.Fatalf("long cname %d", len(c))
	}
	if _, c, ok := ps[7].CNAME(); !ok || len(c) != 0 {
		t.Fatal("empty cname")
	}
	if s, _ := ps[8].ByeSSRC(0); s != 12 || string(ps[8].ByeReason()) != "done" {
		t.Fatalf("bye %d %q", s, ps[8].ByeReason())
	}
	if s, _ := ps[9].ByeSSRC(0); s != 16 || ps[9].ByeReason() != nil || ps[9].NumSources() != 1 {
		t.Fatal("bye without reason")
	}
	if !ps[10].IsPLI() || ps[10].SenderSSRC() != 12 || ps[10].MediaSSRC() != 99 || len(ps[10].Raw) != 12 {
		t.Fatalf("pli %x", ps[10].Raw)
	}
	if e, ok := ps[11].FIREntry(0); !ok || !ps[11].IsFIR() || e != (FIREntry{SSRC: 99, Seq: 7}) ||
		ps[11].MediaSSRC() != 0 || ps[11].NumFIREntries() != 1 {
		t.Fatalf("fir %+v", e)
	}
	lost := ps[12].AppendNACKLost(nil)
	if !slices.Equal(lost, []uint16{3, 1000, 1001, 1016, 1017}) {
		t.Fatalf("nack %v", lost)
	}
}

func TestAppendNACK(t *testing.T) {
	tests := []struct {
		name  string
		lost  []uint16
		pairs []NACKPair
	}{
		{"one", []uint16{5}, []NACKPair{{5, 0}}},
		{"run", []uint16{5, 6, 7, 21}, []NACKPair{{5, 0x8003}}},
		{"next pair", []uint16{5, 22}, []NACKPair{{5, 0}, {22, 0}}},
		{"unsorted dups", []uint16{9, 5, 9, 6, 5}, []NACKPair{{5, 0x0009}}},
		{"wrap", []uint16{1, 65534, 0, 65535}, []NACKPair{{65534, 0x0007}}},
		{"wrap edge", []uint16{10, 65530}, []NACKPair{{65530, 0x8000}}},
		{"wrap pairs", []uint16{11, 65530}, []NACKPair{{65530, 0}, {11, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := collect(t, AppendNACK(nil, 1, 2, tt.lost))
			if len(ps) != 1 || !ps[0].IsNACK() {
				t.Fatalf("%+v", ps)
			}
			var got []NACKPair
			for i := range ps[0].NumNACKPairs() {
				n, _ := ps[0].NACKPair(i)
				got = append(got, n)
			}
			if !slices.Equal(got, tt.pairs) {
				t.Fatalf("pairs %04x, want %04x", got, tt.pairs)
			}
		})
	}
	if b := AppendNACK([]byte{1}, 1, 2, nil); !bytes.Equal(b, []byte{1}) {
		t.Fatal("empty list must append nothing")
	}
	// More isolated losses than fit: the oldest MaxNACKPairs are kept.
	var many []uint16
	for i := range MaxNACKPairs + 10 {
		many = append(many, uint16(60000+i*20))
	}
	p := collect(t, AppendNACK(nil, 1, 2, many))[0]
	if p.NumNACKPairs() != MaxNACKPairs {
		t.Fatalf("%d pairs", p.NumNACKPairs())
	}
	if n, _ := p.NACKPair(MaxNACKPairs - 1); n.PID != many[MaxNACKPairs-1] {
		t.Fatalf("last pid %d", n.PID)
	}
}

func TestHostile(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{"empty", ``, ErrTruncated},
		{"short header", `80 c9 00`, ErrTruncated},
		{"version 1", `41 c9 00 01 00 00 00 01`, ErrVersion},
		{"version 0", `01 c9 00 01 00 00 00 01`, ErrVersion},
		{"length past end", `80 c9 00 02 00 00 00 01`, ErrTruncated},
		{"huge length", `80 c9 ff ff 00 00 00 01`, ErrTruncated},
		{"zero length RR", `80 c9 00 00`, ErrMalformed},
		{"zero length SR", `80 c8 00 00`, ErrMalformed},
		{"zero length PLI", `81 ce 00 00`, ErrMalformed},
		{"truncated report block", `81 c9 00 04 00 00 00 01 00 00 00 02 00 00 00 00 00 00 00 00`, ErrMalformed},
		{"count > room SR", `9f c8 00 06 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00`, ErrMalformed},
		{"padding zero", `a0 c9 00 01 00 00 00 00`, ErrPadding},
		{"padding too long", `a0 c9 00 01 00 00 00 05`, ErrPadding},
		{"padding eats SSRC", `a0 c9 00 01 00 00 00 04`, ErrMalformed},
		{"sdes unterminated", `81 ca 00 02 00 00 00 01 01 02 61 62`, ErrMalformed},
		{"sdes item past end", `81 ca 00 02 00 00 00 01 01 09 61 62`, ErrMalformed},
		{"sdes missing chunk", `82 ca 00 02 00 00 00 01 01 01 61 00`, ErrMalformed},
		{"bye count > room", `82 cb 00 01 00 00 00 01`, ErrMalformed},
		{"bye reason past end", `81 cb 00 02 00 00 00 01 09 61 62 63`, ErrMalformed},
		{"app short", `80 cc 00 01 00 00 00 01`, ErrMalformed},
		{"nack without fci", `81 cd 00 02 00 00 00 01 00 00 00 02`, ErrMalformed},
		{"fir half entry", `84 ce 00 03 00 00 00 01 00 00 00 00 00 00 00 02`, ErrMalformed},
		{"good then bad", `80 c9 00 01 00 00 00 01 80 c9 00 05 00 00 00 01`, ErrTruncated},
		{"trailing bytes", `80 c9 00 01 00 00 00 01 80 c9`, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.in)
			if _, err := Validate(b); !errors.Is(err, tt.err) {
				t.Fatalf("Validate = %v, want %v", err, tt.err)
			}
			it := NewIterator(b)
			for it.Next() {
				exercise(it.Packet())
			}
			if it.Next() || it.Err() == nil {
				t.Fatal("iterator did not stop with an error")
			}
		})
	}
}

func TestEmptyBYEAndSDES(t *testing.T) {
	// Zero sources and zero chunks are legal, header-only packets.
	n, err := Validate(unhex(t, `80 cb 00 00 80 ca 00 00 80 cf 00 00`))
	if n != 3 || err != nil {
		t.Fatalf("%d %v", n, err)
	}
}

func TestAccessorsOnWrongType(t *testing.T) {
	p := collect(t, AppendPLI(nil, 1, 2))[0]
	if _, ok := p.SenderInfo(); ok {
		t.Fatal("SenderInfo on PLI")
	}
	if _, ok := p.Report(0); ok || p.NumReports() != 0 || p.NumSources() != 0 || p.ByeReason() != nil {
		t.Fatal("report accessors on PLI")
	}
	if _, _, ok := p.CNAME(); ok || p.SDESItems(func(SDESItem) bool { return true }) == nil {
		t.Fatal("SDES accessors on PLI")
	}
	if _, ok := p.App(); ok || p.NumFIREntries() != 0 || p.NumNACKPairs() != 0 {
		t.Fatal("other accessors on PLI")
	}
	if _, ok := p.NACKPair(-1); ok {
		t.Fatal("negative index")
	}
	rr := collect(t, AppendRR(nil, 1, nil))[0]
	if _, ok := rr.Feedback(); ok || rr.MediaSSRC() != 0 {
		t.Fatal("Feedback on RR")
	}
}

func TestSDESItemsAndApp(t *testing.T) {
	// Two chunks: CNAME + NAME, then a chunk whose items end on a word
	// boundary and so needs a whole word of nulls.
	b := unhex(t, `82 ca 00 06  00 00 00 0a  01 01 61 02 02 62 63 00
	               00 00 00 0b  01 02 64 65  00 00 00 00
	               81 cc 00 03  00 00 00 0a  71 77 65 72  de ad be ef`)
	ps := collect(t, b)
	var items []SDESItem
	if err := ps[0].SDESItems(func(it SDESItem) bool { items = append(items, it); return true }); err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[1].Type != SDESName || string(items[1].Text) != "bc" || items[2].SSRC != 11 {
		t.Fatalf("%+v", items)
	}
	a, ok := ps[1].App()
	if !ok || a.Subtype != 1 || a.SSRC != 10 || string(a.Name[:]) != "qwer" || !bytes.Equal(a.Data, []byte{0xde, 0xad, 0xbe, 0xef}) {
		t.Fatalf("%+v", a)
	}
}

// exercise calls every accessor, as a consumer of an unknown packet would.
func exercise(p Packet) {
	_ = p.FMT()
	_ = p.SenderSSRC()
	_ = p.MediaSSRC()
	_, _ = p.SenderInfo()
	for i := -1; i <= p.NumReports(); i++ {
		_, _ = p.Report(i)
	}
	_ = p.ReportExtension()
	_, _, _ = p.CNAME()
	_ = p.SDESItems(func(SDESItem) bool { return true })
	for i := -1; i <= p.NumSources(); i++ {
		_, _ = p.ByeSSRC(i)
	}
	_ = p.ByeReason()
	_, _ = p.App()
	_, _ = p.Feedback()
	_ = p.IsPLI()
	for i := -1; i <= p.NumFIREntries(); i++ {
		_, _ = p.FIREntry(i)
	}
	for i := -1; i <= p.NumNACKPairs(); i++ {
		_, _ = p.NACKPair(i)
	}
	_ = p.AppendNACKLost(nil)
}

func TestZeroAlloc(t *testing.T) {
	b := unhex(t, chromiumSRSDES)
	if n := testing.AllocsPerRun(100, func() { parseCompound(b) }); n != 0 {
		t.Fatalf("parse: %v allocs", n)
	}
	dst := make([]byte, 0, 1500)
	lost := []uint16{100, 101, 105, 130, 65535, 0}
	reports := []ReceptionReport{{SSRC: 1}, {SSRC: 2}}
	if n := testing.AllocsPerRun(100, func() {
		d := AppendRR(dst[:0], 1, reports)
		d = AppendSDESCNAME(d, 1, "cname")
		d = AppendPLI(d, 1, 2)
		d = AppendFIR(d, 1, 2, 3)
		_ = AppendNACK(d, 1, 2, lost)
	}); n != 0 {
		t.Fatalf("builders: %v allocs", n)
	}
}

// parseCompound reads what a receiver reads from a sender's report.
func parseCompound(b []byte) (n uint32) {
	it := NewIterator(b)
	for it.Next() {
		p := it.Packet()
		switch p.Type {
		case TypeSR:
			si, _ := p.SenderInfo()
			n += si.MiddleNTP()
			for i := range p.NumReports() {
				r, _ := p.Report(i)
				n += r.Jitter
			}
		case TypeSDES:
			s, c, _ := p.CNAME()
			n += s + uint32(len(c))
		}
	}
	return n
}

func BenchmarkParseCompound(b *testing.B) {
	pkt := unhex(b, chromiumSRSDES)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		parseCompound(pkt)
	}
}

func BenchmarkAppendNACK(b *testing.B) {
	lost := []uint16{100, 101, 105, 117, 130, 131, 160, 65535, 0, 2}
	dst := make([]byte, 0, 1500)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendNACK(dst[:0], 1, 2, lost)
	}
}

func BenchmarkAppendRRSDES(b *testing.B) {
	reports := []ReceptionReport{{SSRC: 1, HighestSeq: 1000}}
	dst := make([]byte, 0, 1500)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendRR(dst[:0], 1, reports)
		dst = AppendSDESCNAME(dst, 1, "0123456789abcdef")
	}
}
