package rtcplug_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	piondtls "github.com/pion/dtls/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/nutsbolts/webrtc/rtcplug"

	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
)

// ivfAll reads every frame of the test IVF file.
func ivfAll(t *testing.T) [][]byte { return testivf.Must(t, ivfPath) }

// oggAll reads the Opus packets of the test Ogg file as the sender sends
// them (one page each, headers left out).
func oggAll(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open(oggPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		page, _, err := r.ParseNextPage()
		if err != nil {
			return out
		}
		if len(page) >= 8 && (string(page[:8]) == "OpusHead" || string(page[:8]) == "OpusTags") {
			continue
		}
		out = append(out, page)
	}
}

// sameRun checks that got is a contiguous run of want and returns where it
// starts.
func sameRun(t *testing.T, what string, got, want [][]byte) int {
	t.Helper()
	if len(got) == 0 {
		t.Fatalf("no %s", what)
	}
	j := slices.IndexFunc(want, func(b []byte) bool { return bytes.Equal(b, got[0]) })
	if j < 0 {
		t.Fatalf("the first %s is not in the file sent", what)
	}
	for i, g := range got {
		if j+i >= len(want) || !bytes.Equal(g, want[j+i]) {
			t.Fatalf("%s %d (of %d) is not the file's %d: lost, reordered or changed", what, i, len(got), j+i)
		}
	}
	return j
}

// The host's view of a pion peer: every frame and Opus packet in order,
// Peers with its profile, cipher and growing counters, the identity from
// WithAuthorize everywhere, and Kick ends it on both sides.
func TestHostAPIWithPion(t *testing.T) {
	var mu sync.Mutex
	var frames []rtcplug.Frame
	var audio []rtcplug.AudioPacket
	states := make(chan rtcplug.PeerState, 16)
	s := newServer(t,
		rtcplug.WithAuthorize(func(r *http.Request, conf string) (string, error) { return "camera-7", nil }),
		rtcplug.OnFrame(func(f rtcplug.Frame) {
			f.Data = bytes.Clone(f.Data) // valid only during the call
			mu.Lock()
			frames = append(frames, f)
			mu.Unlock()
		}),
		rtcplug.OnAudio(func(a rtcplug.AudioPacket) {
			a.Data = bytes.Clone(a.Data)
			mu.Lock()
			audio = append(audio, a)
			mu.Unlock()
		}),
		rtcplug.OnPeerState(func(st rtcplug.PeerState) { states <- st }),
	)
	w := dial(t, s.wsURL())
	pp := connect(t, w, "host", piondtls.SRTP_AEAD_AES_128_GCM, nil)
	select {
	case <-pp.connected:
	case <-time.After(15 * time.Second):
		t.Fatal("pion did not connect")
	}
	w.waitState("connected", 10*time.Second)

	streamed := make(chan struct{})
	go func() {
		defer close(streamed)
		pp.stream(t, 3*time.Second)
	}()
	waitFor(t, "media in Peers", 5*time.Second, func() bool {
		ps := s.plugin.Peers()
		return len(ps) == 1 && ps[0].Frames > 0
	})
	first := s.plugin.Peers()[0]
	<-streamed
	last := s.plugin.Peers()[0]
	t.Logf("peer %+v", last)
	if last.ID != pp.id || last.Conference != "host" || last.Identity != "camera-7" || last.State != rtcplug.StateConnected ||
		last.VideoCodec != "VP8" || last.SRTPProfile != "SRTP_AEAD_AES_128_GCM" ||
		last.DTLSCipher != "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" || !last.Remote.Addr().IsLoopback() ||
		last.Since.IsZero() || last.Bitrate <= 0 || last.Keyframes == 0 {
		t.Errorf("Peers shows %+v", last)
	}
	if last.Packets <= first.Packets || last.Bytes <= first.Bytes || last.Frames <= first.Frames {
		t.Errorf("counters did not grow: %+v then %+v", first, last)
	}

	// Every frame assembled reaches OnFrame (the counter lags a little).
	waitFor(t, "every frame delivered", 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		st := s.plugin.Stats()
		return st.VideoFrames > 0 && uint64(len(frames)) == st.VideoFrames && uint64(len(audio)) == st.AudioPackets
	})
	mu.Lock()
	gotFrames, gotAudio := slices.Clone(frames), slices.Clone(audio)
	mu.Unlock()
	ivf := ivfAll(t)
	var data [][]byte
	for _, f := range gotFrames {
		data = append(data, f.Data)
	}
	j := sameRun(t, "frame", data, ivf)
	for i, f := range gotFrames {
		if f.Conference != "host" || f.Peer != pp.id || f.Identity != "camera-7" || f.Codec != "VP8" || f.Time.IsZero() {
			t.Fatalf("frame %d: %+v", i, f)
		}
		if key := ivf[j+i][0]&1 == 0; f.Keyframe != key { // RFC 6386 §9.1: P bit 0 = keyframe
			t.Fatalf("frame %d: keyframe %v, the file says %v", i, f.Keyframe, key)
		}
		if i > 0 && int32(f.RTPTime-gotFrames[i-1].RTPTime) <= 0 {
			t.Fatalf("frame %d: RTP time %d after %d", i, f.RTPTime, gotFrames[i-1].RTPTime)
		}
	}
	data = data[:0]
	for _, a := range gotAudio {
		data = append(data, a.Data)
	}
	sameRun(t, "Opus packet", data, oggAll(t))
	for i, a := range gotAudio {
		if a.Peer != pp.id || a.Identity != "camera-7" || (i > 0 && int32(a.RTPTime-gotAudio[i-1].RTPTime) <= 0) {
			t.Fatalf("audio packet %d: %+v", i, a)
		}
	}
	t.Logf("%d frames from the file's frame %d, %d Opus packets", len(gotFrames), j, len(gotAudio))

	// Kick: the client hears closed, pion sees the end, the peer is gone.
	if err := s.plugin.Kick(pp.id); err != nil {
		t.Fatal(err)
	}
	w.waitState("closed", 5*time.Second)
	select {
	case <-pp.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("pion did not see the end")
	}
	if ps := s.plugin.Peers(); len(ps) != 0 {
		t.Fatalf("after Kick: %+v", ps)
	}
	if err := s.plugin.Kick(pp.id); !errors.Is(err, rtcplug.ErrNoPeer) {
		t.Fatalf("second Kick: %v", err)
	}
	for st := range states {
		if st.Identity != "camera-7" {
			t.Fatalf("state %+v", st)
		}
		if st.State == rtcplug.StateClosed {
			if !errors.Is(st.Err, rtcplug.ErrKicked) {
				t.Fatalf("closed with %v", st.Err)
			}
			break
		}
	}
	if st := s.plugin.Stats(); st.DroppedFrames != 0 || st.DroppedAudio != 0 || st.ConnectTime.Count != 1 ||
		st.KeyframeLatency.Count != st.Keyframes || st.Keyframes == 0 {
		t.Fatalf("stats %+v", st)
	}
	for _, k := range s.keyframesOf("host", pp.id) {
		if k.Identity != "camera-7" {
			t.Fatalf("keyframe %+v", k)
		}
	}
}

func TestErr(t *testing.T) {
	mount := func(ctx context.Context) *rtcplug.Plugin {
		p, err := rtcplug.Mount(chi.NewRouter(), rtcplug.WithContext(ctx), rtcplug.WithUDPPort(0),
			rtcplug.WithLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := mount(context.Background())
	if p.Err() != nil {
		t.Fatalf("running: %v", p.Err())
	}
	_ = p.Close()
	if !errors.Is(p.Err(), rtcplug.ErrClosed) {
		t.Fatalf("after Close: %v", p.Err())
	}
	if err := p.Kick("x"); !errors.Is(err, rtcplug.ErrClosed) {
		t.Fatalf("Kick after Close: %v", err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	p = mount(ctx)
	why := errors.New("host shutting down")
	cancel(why)
	<-p.Done()
	if !errors.Is(p.Err(), why) {
		t.Fatalf("after the context: %v", p.Err())
	}
}

// WHIP: an offer the peer cannot use ends it with ErrBadOffer; Kick ends a
// WHIP session (the sender sees the end, its resource is gone).
func TestWHIPKickAndBadOffer(t *testing.T) {
	states := make(chan rtcplug.PeerState, 32)
	s := newServer(t, rtcplug.OnPeerState(func(st rtcplug.PeerState) { states <- st }))
	p := newPion(t, piondtls.SRTP_AEAD_AES_128_GCM)
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	post := func(body string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Post(s.http.URL+"/whip/room", "application/sdp", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	// RFC 4145 §4: holdconn opens no connection, so nothing could ever flow.
	resp, _ := post(strings.ReplaceAll(offer.SDP, "a=setup:actpass", "a=setup:holdconn"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("holdconn offer: %d", resp.StatusCode)
	}
	waitClosed := func(want error) {
		t.Helper()
		for {
			select {
			case st := <-states:
				if st.State == rtcplug.StateClosed {
					if !errors.Is(st.Err, want) {
						t.Fatalf("closed with %v, want %v", st.Err, want)
					}
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no closed state (%v)", want)
			}
		}
	}
	waitClosed(rtcplug.ErrBadOffer)

	resp, answer := post(offer.SDP)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	loc := resp.Header.Get("Location")
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.connected:
	case <-time.After(15 * time.Second):
		t.Fatal("pion did not connect over WHIP")
	}
	// The Location carries the session's secret, not the peer id (which
	// Peers lists).
	var id string
	for _, pi := range s.plugin.Peers() {
		if pi.Conference == "room" {
			id = pi.ID
		}
	}
	if id == "" || strings.Contains(loc, id) {
		t.Fatalf("peer %q, Location %q", id, loc)
	}
	if err := s.plugin.Kick(id); err != nil {
		t.Fatal(err)
	}
	waitClosed(rtcplug.ErrKicked)
	select {
	case <-p.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the WHIP sender did not see the end")
	}
	// Location may be absolute or relative to the POST (RFC 9725 §4.2).
	ref, err := resp.Request.URL.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, ref.String(), nil)
	del, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	del.Body.Close()
	if del.StatusCode != http.StatusNotFound {
		t.Fatalf("DELETE after Kick: %d", del.StatusCode)
	}
}
