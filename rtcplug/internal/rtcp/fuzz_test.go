package rtcp

import (
	"encoding/binary"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{chromiumSRSDES, chromiumRRREMB, transportCC} {
		f.Add(unhex(f, s))
	}
	var b []byte
	b = AppendRR(b, 1, []ReceptionReport{{SSRC: 2}})
	b = AppendSDESCNAME(b, 1, "cname")
	b = AppendBYE(b, 1, "reason")
	f.Add(b)
	f.Add(AppendFIR(AppendPLI(nil, 1, 2), 1, 2, 3))
	f.Add(AppendNACK(nil, 1, 2, []uint16{1, 2, 40}))
	f.Add([]byte{0x80, 0xcc, 0x00, 0x02, 0, 0, 0, 1, 'n', 'a', 'm', 'e'})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, verr := Validate(b)
		it := NewIterator(b)
		seen, total := 0, 0
		for it.Next() {
			p := it.Packet()
			seen++
			total += len(p.Raw)
			if len(p.Raw) < 4 || len(p.Raw)%4 != 0 || len(p.Body) > len(p.Raw)-4 {
				t.Fatalf("packet bounds raw %d body %d", len(p.Raw), len(p.Body))
			}
			exercise(p)
			if p.Type == TypeSDES {
				if err := p.SDESItems(func(SDESItem) bool { return true }); err != nil {
					t.Fatalf("validated SDES fails to walk: %v", err)
				}
			}
			if p.Type == TypeSR || p.Type == TypeRR {
				for i := range p.NumReports() {
					if _, ok := p.Report(i); !ok {
						t.Fatalf("validated report %d unreadable", i)
					}
				}
			}
		}
		if seen != n || (it.Err() == nil) != (verr == nil) {
			t.Fatalf("Validate %d %v, iterator %d %v", n, verr, seen, it.Err())
		}
		if verr == nil && total != len(b) {
			t.Fatalf("valid compound covers %d of %d bytes", total, len(b))
		}
	})
}

// FuzzAppendNACK checks that whatever list is packed reads back as the same
// set of sequence numbers, in ascending wrap-aware order.
func FuzzAppendNACK(f *testing.F) {
	f.Add([]byte{0, 5, 0, 6, 0, 22})
	f.Add([]byte{0xff, 0xfe, 0, 1, 0xff, 0xff})
	f.Add([]byte{0x80, 0, 0, 0, 0x7f, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		lost := make([]uint16, len(in)/2)
		for i := range lost {
			lost[i] = binary.BigEndian.Uint16(in[2*i:])
		}
		b := AppendNACK(nil, 1, 2, lost)
		if len(lost) == 0 {
			if len(b) != 0 {
				t.Fatal("NACK without losses")
			}
			return
		}
		it := NewIterator(b)
		if !it.Next() || !it.Packet().IsNACK() {
			t.Fatalf("no NACK: %v", it.Err())
		}
		p := it.Packet()
		got := p.AppendNACKLost(nil)
		want := map[uint16]bool{}
		for _, s := range lost {
			want[s] = true
		}
		seen := map[uint16]bool{}
		for i, s := range got {
			if !want[s] || seen[s] {
				t.Fatalf("unexpected or repeated %d in %v", s, got)
			}
			seen[s] = true
			if i > 0 && int(int16(s-lost[0])) <= int(int16(got[i-1]-lost[0])) {
				t.Fatalf("not ascending at %d: %v", i, got)
			}
		}
		if p.NumNACKPairs() < MaxNACKPairs && len(seen) != len(want) {
			t.Fatalf("lost %d of %d numbers", len(want)-len(seen), len(want))
		}
	})
}
