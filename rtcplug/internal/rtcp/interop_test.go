package rtcp

import (
	"slices"
	"testing"

	pionrtcp "github.com/pion/rtcp"
)

// TestPionToOurs parses a compound built by an independent implementation.
func TestPionToOurs(t *testing.T) {
	in := []pionrtcp.Packet{
		&pionrtcp.SenderReport{SSRC: 1, NTPTime: 0x0102030405060708, RTPTime: 9, PacketCount: 10, OctetCount: 11,
			Reports: []pionrtcp.ReceptionReport{{SSRC: 2, FractionLost: 3, TotalLost: 4, LastSequenceNumber: 5,
				Jitter: 6, LastSenderReport: 7, Delay: 8}}},
		&pionrtcp.SourceDescription{Chunks: []pionrtcp.SourceDescriptionChunk{{Source: 1,
			Items: []pionrtcp.SourceDescriptionItem{{Type: pionrtcp.SDESCNAME, Text: "pion-cname"},
				{Type: pionrtcp.SDESTool, Text: "pion"}}}}},
		&pionrtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2},
		&pionrtcp.FullIntraRequest{SenderSSRC: 1, FIR: []pionrtcp.FIREntry{{SSRC: 2, SequenceNumber: 5},
			{SSRC: 3, SequenceNumber: 6}}},
		&pionrtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: 2,
			Nacks: pionrtcp.NackPairsFromSequenceNumbers([]uint16{65534, 65535, 0, 40})},
		&pionrtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: 1, Bitrate: 1e6, SSRCs: []uint32{2}},
		&pionrtcp.Goodbye{Sources: []uint32{1, 2}, Reason: "bye"},
		&pionrtcp.ApplicationDefined{SubType: 3, SSRC: 1, Name: "NAME", Data: []byte{1, 2, 3, 4}},
	}
	b, err := pionrtcp.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ps := collect(t, b)
	if len(ps) != len(in) {
		t.Fatalf("%d packets, want %d", len(ps), len(in))
	}
	si, _ := ps[0].SenderInfo()
	r, _ := ps[0].Report(0)
	if si.NTPTime != 0x0102030405060708 || si.OctetCount != 11 ||
		r != (ReceptionReport{2, 3, 4, 5, 6, 7, 8}) {
		t.Fatalf("SR %+v %+v", si, r)
	}
	var items []string
	_ = ps[1].SDESItems(func(it SDESItem) bool { items = append(items, string(it.Text)); return true })
	if !slices.Equal(items, []string{"pion-cname", "pion"}) {
		t.Fatalf("SDES %q", items)
	}
	if !ps[2].IsPLI() || ps[2].MediaSSRC() != 2 {
		t.Fatal("PLI")
	}
	e1, _ := ps[3].FIREntry(1)
	if ps[3].NumFIREntries() != 2 || e1 != (FIREntry{3, 6}) {
		t.Fatalf("FIR %+v", e1)
	}
	if lost := ps[4].AppendNACKLost(nil); !slices.Equal(lost, []uint16{65534, 65535, 0, 40}) {
		t.Fatalf("NACK %v", lost)
	}
	if fb, _ := ps[5].Feedback(); fb.FMT != FMTAFB || string(fb.FCI[:4]) != "REMB" {
		t.Fatalf("REMB %+v", fb)
	}
	if s, _ := ps[6].ByeSSRC(1); s != 2 || string(ps[6].ByeReason()) != "bye" {
		t.Fatal("BYE")
	}
	if a, _ := ps[7].App(); a.Subtype != 3 || string(a.Name[:]) != "NAME" || len(a.Data) != 4 {
		t.Fatalf("APP %+v", a)
	}
}

// TestOursToPion checks that an independent implementation reads what we
// send: the compound a receiver emits.
func TestOursToPion(t *testing.T) {
	var b []byte
	b = AppendRR(b, 1, []ReceptionReport{{SSRC: 2, FractionLost: 3, TotalLost: 4, HighestSeq: 5, Jitter: 6,
		LastSR: 7, DelaySinceLastSR: 8}})
	b = AppendSDESCNAME(b, 1, "rtcplug")
	b = AppendPLI(b, 1, 2)
	b = AppendFIR(b, 1, 2, 9)
	b = AppendNACK(b, 1, 2, []uint16{7, 65535, 3, 30})
	b = AppendBYE(b, 1, "gone")
	out, err := pionrtcp.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 6 {
		t.Fatalf("%d packets", len(out))
	}
	rr := out[0].(*pionrtcp.ReceiverReport)
	if rr.SSRC != 1 || len(rr.Reports) != 1 || rr.Reports[0].Delay != 8 || rr.Reports[0].TotalLost != 4 {
		t.Fatalf("RR %+v", rr)
	}
	sd := out[1].(*pionrtcp.SourceDescription)
	if sd.Chunks[0].Source != 1 || sd.Chunks[0].Items[0].Text != "rtcplug" {
		t.Fatalf("SDES %+v", sd)
	}
	if pli := out[2].(*pionrtcp.PictureLossIndication); pli.MediaSSRC != 2 {
		t.Fatalf("PLI %+v", pli)
	}
	if fir := out[3].(*pionrtcp.FullIntraRequest); fir.FIR[0] != (pionrtcp.FIREntry{SSRC: 2, SequenceNumber: 9}) {
		t.Fatalf("FIR %+v", fir)
	}
	var lost []uint16
	for _, n := range out[4].(*pionrtcp.TransportLayerNack).Nacks {
		lost = append(lost, n.PacketList()...)
	}
	if !slices.Equal(lost, []uint16{65535, 3, 7, 30}) {
		t.Fatalf("NACK %v", lost)
	}
	if bye := out[5].(*pionrtcp.Goodbye); bye.Reason != "gone" || bye.Sources[0] != 1 {
		t.Fatalf("BYE %+v", bye)
	}
}
