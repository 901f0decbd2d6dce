package main

import (
	"bytes"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
	"github.com/nutsbolts/webrtc/rtcplug/internal/vp8"
)

// TestOursAgainstRtcplug runs a short load with our own senders against
// rtcplug in this process: every sender connects (WHIP, ICE, DTLS as the
// client, since rtcplug answers passive), all it sent arrives, and every
// conference gets a JPEG, so the packets are VP8 the receiver can assemble.
func TestOursAgainstRtcplug(t *testing.T) {
	testOurs(t, "rtcplug")
}

// TestOursAgainstPion is the same against the pion reference, which answers
// active: our sender is then the DTLS server.
func TestOursAgainstPion(t *testing.T) {
	testOurs(t, "pion")
}

func testOurs(t *testing.T, mode string) {
	if testing.Short() {
		t.Skip("streams for seconds")
	}
	const n = 3
	frames := testivf.Must(t, testivf.VP8)
	o := options{duration: time.Second, snapshots: true, fps: 30, connectMax: 20 * time.Second, inprocess: true, sender: "ours", sources: 2}
	d, err := newDialer(o.sender, frames, o.fps, o.sources)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(mode, o, n)
	if err != nil {
		t.Fatal(err)
	}
	r, err := runLoad(o, d, frames, srv, srv.base+"/whip", n)
	srv.stop()
	if err != nil {
		t.Fatal(err)
	}
	if r.connected != n || len(r.failures) > 0 {
		t.Fatalf("%d of %d connected: %v", r.connected, n, r.failures)
	}
	if r.sent == 0 || r.received != r.sent {
		t.Fatalf("sent %d packets, %s received %d", r.sent, mode, r.received)
	}
	if len(r.firstImage) != n {
		t.Fatalf("%d of %d conferences got a JPEG", len(r.firstImage), n)
	}
	if f := d.(*fleet); f.failed.Load() != 0 {
		t.Fatalf("%d packets failed to send", f.failed.Load())
	}
}

// TestPacketize: the shared packets split a frame as pion's VP8Payloader
// does for a 1200-byte MTU, with the 15-bit picture ID, S on the first
// packet and the marker on the last, and carry the frame whole.
func TestPacketize(t *testing.T) {
	frame := bytes.Repeat([]byte{1, 2, 3}, 1000) // 3000 bytes: 1184 + 1184 + 632
	pk := packetize([][]byte{frame})[0]
	if len(pk) != 3 {
		t.Fatalf("%d packets", len(pk))
	}
	var got []byte
	for i, b := range pk {
		if len(b) > mtu {
			t.Fatalf("packet %d: %d bytes", i, len(b))
		}
		var h rtp.Header
		if err := h.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		var d vp8.Descriptor
		dl, err := d.Unmarshal(b[rtp.FixedHeaderLen:])
		if err != nil {
			t.Fatal(err)
		}
		if h.PayloadType != videoPT || h.Marker != (i == 2) || d.Start != (i == 0) || !d.LongPictureID || dl != descLen {
			t.Fatalf("packet %d: header %+v, descriptor %+v", i, h, d)
		}
		got = append(got, b[rtp.FixedHeaderLen+dl:]...)
	}
	if !bytes.Equal(got, frame) {
		t.Fatal("frame not carried whole")
	}
}

// TestSendNoAllocs: protecting and sending a frame allocates nothing, and
// what is sent opens with the peer's context as the next packets of the
// sender, with its picture ID.
func TestSendNoAllocs(t *testing.T) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	key, salt := bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte{9}, 12)
	out, err := srtp.NewContext(srtp.AEADAES128GCM, key, salt)
	if err != nil {
		t.Fatal(err)
	}
	in, err := srtp.NewContext(srtp.AEADAES128GCM, key, salt)
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{frames: packetize([][]byte{bytes.Repeat([]byte{0x10}, 100)}), step: 3000}
	p := &pacer{f: f, scratch: make([]byte, 0, 1500)}
	o := &oursSender{s: &sender{}, conn: tx, out: out, to: rx.LocalAddr().(*net.UDPAddr).AddrPort(), ssrc: 0x1234, seq: 65535, pic: 0x7fff}
	p.send(o)
	buf := make([]byte, 1500)
	n, _, err := rx.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	var h rtp.Header
	if err := h.Unmarshal(buf[:n]); err != nil {
		t.Fatal(err)
	}
	plain, err := in.DecryptRTP(nil, buf[:n], &h)
	if err != nil {
		t.Fatal(err)
	}
	var d vp8.Descriptor
	if _, err := d.Unmarshal(plain[rtp.FixedHeaderLen:]); err != nil {
		t.Fatal(err)
	}
	if h.SequenceNumber != 65535 || h.SSRC != 0x1234 || d.PictureID != 0x7fff || !h.Marker {
		t.Fatalf("header %+v, descriptor %+v", h, d)
	}
	if o.seq != 0 || o.pic != 0 || o.ts != 3000 || o.s.sent.Load() != 1 {
		t.Fatalf("after one frame: seq %d, pic %d, ts %d, sent %d", o.seq, o.pic, o.ts, o.s.sent.Load())
	}
	// Drain as we go so the socket buffer never fills.
	go func() {
		b := make([]byte, 1500)
		for {
			if _, _, err := rx.ReadFromUDPAddrPort(b); err != nil {
				return
			}
		}
	}()
	if a := testing.AllocsPerRun(200, func() { p.send(o) }); a != 0 {
		t.Fatalf("%v allocations per frame", a)
	}
}

// BenchmarkSendPacket is the senders' cost per packet: header fields,
// SRTP (AES-128-GCM) and the send on a loopback socket (whose receive
// side the kernel also does in this process, as for the real senders; a
// goroutine drains it). cpu-ns/op is the process's CPU per packet.
func BenchmarkSendPacket(b *testing.B) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	_ = rx.SetReadBuffer(4 << 20)
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	out, err := srtp.NewContext(srtp.AEADAES128GCM, bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte{9}, 12))
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := rx.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	f := &fleet{frames: packetize([][]byte{bytes.Repeat([]byte{0x10}, maxFragment)}), step: 3000}
	p := &pacer{f: f, scratch: make([]byte, 0, 1500)}
	o := &oursSender{s: &sender{}, conn: tx, out: out, to: rx.LocalAddr().(*net.UDPAddr).AddrPort()}
	b.ReportAllocs()
	c0 := procCPU(os.Getpid())
	b.ResetTimer()
	for range b.N {
		p.send(o)
	}
	b.StopTimer()
	b.ReportMetric((procCPU(os.Getpid())-c0)*1e9/float64(b.N), "cpu-ns/op")
}
