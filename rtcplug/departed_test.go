package rtcplug_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/testpeer"
)

// udpClient runs a testpeer.Client over a real loopback socket against the
// plugin: our own ICE, DTLS and SRTP client stack in place of a browser.
type udpClient struct {
	t    *testing.T
	c    *testpeer.Client
	conn *net.UDPConn
	buf  []byte
}

// joinWithClient joins conf over w and answers the offer for a client
// stack on a fresh loopback socket (a=setup:active, VP8, and opus when
// offered).
func joinWithClient(t *testing.T, w *wsClient, conf string) *udpClient {
	t.Helper()
	w.send("JoinConference", map[string]string{"conferenceName": conf})
	var offer struct{ SDP string }
	if err := json.Unmarshal(w.next("SdpOffer").Data, &offer); err != nil {
		t.Fatal(err)
	}
	sess, err := sdp.Parse(offer.SDP)
	if err != nil {
		t.Fatal(err)
	}
	video := sess.Media[0]
	if video.Kind != "video" || len(video.Candidates) == 0 || len(video.Fingerprints) == 0 {
		t.Fatalf("offer %q", offer.SDP)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := testpeer.NewClient(testpeer.ClientConfig{
		Addr:   conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		Server: video.Candidates[0].Addr, ServerUfrag: video.ICEUfrag, ServerPwd: video.ICEPwd,
		ServerFingerprint: video.Fingerprints[0].Value, KeepAlive: time.Second,
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a := c.Answer()
	var b strings.Builder
	section := func(kind, mid string, pt int, rtpmap string) {
		fmt.Fprintf(&b, "m=%s 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\na=setup:%s\r\na=mid:%s\r\n", kind, pt, a.Setup, mid)
		fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=rtcp-mux\r\na=rtpmap:%d %s\r\na=sendonly\r\n", a.ICEUfrag, a.ICEPwd, pt, rtpmap)
	}
	mids := video.Mid
	if len(sess.Media) > 1 {
		mids += " " + sess.Media[1].Mid
	}
	fmt.Fprintf(&b, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE %s\r\na=fingerprint:sha-256 %s\r\n", mids, c.Fingerprint())
	section("video", video.Mid, sdp.OfferVideoPT, "VP8/90000")
	fmt.Fprintf(&b, "a=rtcp-fb:%d nack pli\r\n", sdp.OfferVideoPT)
	if len(sess.Media) > 1 {
		section("audio", sess.Media[1].Mid, sdp.OfferAudioPT, "opus/48000/2")
	}
	w.send("SdpAnswer", map[string]string{"sdp": b.String()})
	u := &udpClient{t: t, c: c, conn: conn, buf: make([]byte, 1500)}
	c.Start(time.Now())
	return u
}

// run drives the client until cond holds (checked after every step), for
// at most d.
func (u *udpClient) run(d time.Duration, cond func() bool) {
	u.t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		u.c.Drain(func(_, to netip.AddrPort, b []byte) {
			if _, err := u.conn.WriteToUDPAddrPort(b, to); err != nil {
				u.t.Fatal(err)
			}
		})
		now := time.Now()
		if now.After(end) {
			u.t.Fatalf("client: condition not met within %v (connected %v, err %v)", d, u.c.Connected, u.c.Err)
		}
		wake := now.Add(20 * time.Millisecond)
		if dl := u.c.Deadline(); !dl.IsZero() && dl.Before(wake) {
			wake = dl
		}
		_ = u.conn.SetReadDeadline(wake)
		n, from, err := u.conn.ReadFromUDPAddrPort(u.buf)
		now = time.Now()
		switch {
		case err == nil:
			u.c.HandleDatagram(now, from, u.c.From(), u.buf[:n])
		case errors.Is(err, os.ErrDeadlineExceeded):
		default:
			u.t.Fatal(err)
		}
		if dl := u.c.Deadline(); !dl.IsZero() && !now.Before(dl) {
			u.c.HandleTimeout(now)
		}
	}
	u.c.Drain(func(_, to netip.AddrPort, b []byte) { _, _ = u.conn.WriteToUDPAddrPort(b, to) })
}

// sendVP8 sends n small VP8 frames, one RTP packet each, the first a
// keyframe start.
func (u *udpClient) sendVP8(n int) {
	u.t.Helper()
	for i := range n {
		h := rtp.Header{Version: 2, PayloadType: sdp.OfferVideoPT, SequenceNumber: uint16(1000 + i), Timestamp: uint32(3000 * i), SSRC: 0x77, Marker: true}
		pkt := append(h.MarshalTo(nil), 0x10, 0x01, 0x02, 0x03) // S bit, PID 0; a delta frame's first byte
		enc, err := u.c.Out.EncryptRTP(nil, pkt, nil)
		if err != nil {
			u.t.Fatal(err)
		}
		u.c.Send(enc)
	}
}

// TestStatsKeepDepartedPeers: the plugin's totals are what every peer
// counted, including peers that have left (plugin.go keeps their counters
// when their loop ends). Two peers of our own client stack send media and
// leave one after the other.
func TestStatsKeepDepartedPeers(t *testing.T) {
	s := newServer(t)
	const perPeer = 20
	var want uint64
	for i := range 2 {
		w := dial(t, s.wsURL())
		u := joinWithClient(t, w, "stats")
		u.run(10*time.Second, func() bool { return u.c.Connected })
		w.waitState("connected", 10*time.Second)
		u.sendVP8(perPeer)
		want += perPeer
		u.run(10*time.Second, func() bool { return s.plugin.Stats().VideoPackets >= want })
		live := s.plugin.Stats()
		w.send("LeaveConference", nil)
		w.waitState("closed", 10*time.Second)
		waitFor(t, "peer gone", 10*time.Second, func() bool { return s.plugin.Stats().Peers == 0 })
		st := s.plugin.Stats()
		if st.VideoPackets != want || st.VideoBytes < live.VideoBytes || st.VideoBytes == 0 || st.PLIs < live.PLIs || st.PLIs == 0 || st.Reports < live.Reports {
			t.Fatalf("after peer %d left: %d video packets (want %d), %d bytes, %d PLIs, %d reports; while it was there: %+v", i, st.VideoPackets, want, st.VideoBytes, st.PLIs, st.Reports, live)
		}
	}
}
