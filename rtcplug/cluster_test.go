package rtcplug_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
	"github.com/pion/webrtc/v4"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// fakeCluster records what the plugin tells its cluster and admits up to
// limit peers.
type fakeCluster struct {
	limit int

	mu       sync.Mutex
	node     rtcplug.ClusterNode
	admitted map[string]bool
	events   []rtcplug.ClusterEvent
	commands []rtcplug.ClusterCommand
	detached bool
}

func (f *fakeCluster) Name() string { return "fake" }
func (f *fakeCluster) Frames() bool { return true }
func (f *fakeCluster) Attach(n rtcplug.ClusterNode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.node, f.admitted = n, map[string]bool{}
	return nil
}

func (f *fakeCluster) Admit(ctx context.Context, m rtcplug.ClusterMember) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.admitted) >= f.limit {
		return fmt.Errorf("%w: fake limit", rtcplug.ErrFull)
	}
	f.admitted[m.Peer] = true
	return nil
}

func (f *fakeCluster) Leave(conf, peer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.admitted, peer)
}

func (f *fakeCluster) Publish(ctx context.Context, ev rtcplug.ClusterEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
	return nil
}

// Command knows one peer elsewhere: "elsewhere".
func (f *fakeCluster) Command(ctx context.Context, cmd rtcplug.ClusterCommand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commands = append(f.commands, cmd)
	// A Kick names the peer; a WHIP DELETE only the session's secret.
	if cmd.Peer == "elsewhere" || cmd.Op == rtcplug.OpWHIPDelete && cmd.Secret == "elsewhere-secret" {
		return nil
	}
	return rtcplug.ErrNoPeer
}

func (f *fakeCluster) Peers(ctx context.Context) ([]rtcplug.PeerInfo, error) {
	return []rtcplug.PeerInfo{{ID: "elsewhere", Conference: "room", Node: "other", State: rtcplug.StateConnected}}, nil
}

func (f *fakeCluster) Detach() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.detached = true
}

func (f *fakeCluster) count(kind rtcplug.ClusterEventKind, st rtcplug.PeerStateName) (n int, last rtcplug.ClusterEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.events {
		if e.Kind == kind && (kind != rtcplug.ClusterState || e.State == st) {
			n, last = n+1, e
		}
	}
	return n, last
}

// The plugin's side of a cluster: admission (a refusal is "full"), events
// with keyframe JPEGs and frames, commands for peers it does not have, and
// the goodbye.
func TestClusterHooks(t *testing.T) {
	fc := &fakeCluster{limit: 1}
	s := newServer(t, rtcplug.WithCluster(fc))

	p := newPion(t, piondtls.SRTP_AEAD_AES_128_GCM)
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.http.URL+"/whip/room", "application/sdp", strings.NewReader(offer.SDP))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	loc := resp.Header.Get("Location")
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, p)
	// The Location carries the session's secret; Peers has the id.
	var id string
	for _, pi := range s.plugin.Peers() {
		id = pi.ID
	}

	// The cluster's limit refuses a second peer, on either signaling.
	resp, err = http.Post(s.http.URL+"/whip/room", "application/sdp", strings.NewReader(offer.SDP))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "full") {
		t.Fatalf("second POST: %d %s", resp.StatusCode, body)
	}
	w := dial(t, s.wsURL())
	w.send("JoinConference", map[string]string{"conferenceName": "room"})
	w.expectError("full")

	p.stream(t, 1500*time.Millisecond)
	waitFor(t, "a keyframe event", 10*time.Second, func() bool { n, _ := fc.count(rtcplug.ClusterKeyframe, ""); return n > 0 })
	_, k := fc.count(rtcplug.ClusterKeyframe, "")
	img, err := jpeg.Decode(bytes.NewReader(k.JPEG))
	if err != nil || img.Bounds().Dx() != 640 || img.Bounds().Dy() != 480 || k.Width != 640 || k.Peer != id || k.Codec != "VP8" {
		t.Fatalf("keyframe event: %v %v %+v", err, img.Bounds(), k.Peer)
	}
	if n, _ := fc.count(rtcplug.ClusterFrame, ""); n < 10 {
		t.Fatalf("%d frame events", n)
	}
	if n, _ := fc.count(rtcplug.ClusterState, rtcplug.StateConnected); n != 1 {
		t.Fatalf("%d connected events", n)
	}

	// Commands for peers elsewhere go to the cluster.
	if err := s.plugin.Kick("elsewhere"); err != nil {
		t.Fatalf("Kick elsewhere: %v", err)
	}
	if err := s.plugin.Kick("nobody"); !errors.Is(err, rtcplug.ErrNoPeer) {
		t.Fatalf("Kick nobody: %v", err)
	}
	for path, code := range map[string]int{"/whip/room/elsewhere-secret": http.StatusOK, "/whip/room/nobody": http.StatusNotFound} {
		req, _ := http.NewRequest(http.MethodDelete, s.http.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != code {
			t.Fatalf("DELETE %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	all, err := s.plugin.PeersCluster(context.Background())
	if err != nil || len(all) != 2 || all[0].Node == "" || all[1].Node == "" {
		t.Fatalf("PeersCluster: %v %+v", err, all)
	}

	// The peer leaves: closed is published and the place is given back.
	req, _ := http.NewRequest(http.MethodDelete, s.http.URL+loc, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	waitFor(t, "the closed event", 5*time.Second, func() bool {
		n, _ := fc.count(rtcplug.ClusterState, rtcplug.StateClosed)
		fc.mu.Lock()
		defer fc.mu.Unlock()
		return n == 1 && len(fc.admitted) == 0
	})
	_ = s.plugin.Close()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if !fc.detached {
		t.Fatal("not detached after Close")
	}
	if st := s.plugin.Stats(); st.DroppedClusterEvents != 0 {
		t.Fatalf("%d events dropped", st.DroppedClusterEvents)
	}
}
