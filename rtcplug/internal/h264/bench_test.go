package h264

import (
	"testing"
)

// BenchmarkPush runs the high-profile sample (four slices per picture, 1200
// byte packets) through the depacketizer; per packet it allocates nothing
// once the frame buffer has grown.
func BenchmarkPush(b *testing.B) {
	aus := readAUs(b, highFile)
	pkts := packetize(aus, 1200)
	d := New(0)
	for _, p := range pkts { // warm up: buffers grown
		h := p.header()
		d.Push(&h, p.payload)
	}
	b.ReportAllocs()
	b.ResetTimer()
	seq := pkts[len(pkts)-1].seq
	ts := pkts[len(pkts)-1].ts
	var bytes int
	for i := 0; i < b.N; i++ {
		p := pkts[i%len(pkts)]
		if i%len(pkts) == 0 {
			ts += 3000 * 100
		}
		seq++
		h := p.header()
		h.SequenceNumber, h.Timestamp = seq, ts+p.ts
		d.Push(&h, p.payload)
		bytes += len(p.payload)
	}
	b.SetBytes(int64(bytes / max(b.N, 1)))
	if d.Stats().Dropped > 0 {
		b.Fatalf("%+v", d.Stats())
	}
}
