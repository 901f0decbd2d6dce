package rtcplug_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// A host OnPeerState callback that blocks must not stall the peer it
// reports on, nor keep the sockets open at shutdown: the peer still ends,
// the WebSocket gets Going Away and the UDP port is released. Close then
// waits for the callback to return.
func TestBlockingPeerStateCallback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	entered := make(chan string, 16)
	r := chi.NewRouter()
	p, err := rtcplug.Mount(r, rtcplug.WithContext(ctx), rtcplug.WithUDPPort(0),
		rtcplug.WithCandidateFilter(loopback4), rtcplug.WithLogger(testLogger(t)),
		rtcplug.OnPeerState(func(s rtcplug.PeerState) {
			if s.State == "new" {
				return
			}
			entered <- string(s.State)
			<-release
		}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	w := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws")
	w.send("JoinConference", map[string]string{"conferenceName": "blocked"})
	w.next("SdpOffer")
	w.send("LeaveConference", nil)
	select {
	case st := <-entered:
		if st != "closed" {
			t.Fatalf("state %q", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnPeerState not called")
	}
	// The callback is now stuck. The peer has ended anyway.
	waitFor(t, "peer removed", 5*time.Second, func() bool { return p.Stats().Peers == 0 })

	cancel()
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		t.Fatal("WebSocket still open while a callback blocks")
	}
	port := p.UDPAddr().Port()
	waitFor(t, "UDP port released", 5*time.Second, func() bool {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.IPv6Unspecified(), port)))
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	select {
	case <-p.Done():
		t.Fatal("Done closed while a callback is still running")
	default:
	}
	close(release)
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the callback returned")
	}
}

// WHIP's DELETE ends WHIP sessions only: a WebSocket peer's id (it names its
// snapshot directory) is no handle to end it. WithAuthorize is asked for a
// DELETE too.
func TestWHIPDeleteOnlyWHIPPeers(t *testing.T) {
	var refuse atomic.Bool
	s := newServer(t, rtcplug.WithAuthorize(func(r *http.Request, conf string) (string, error) {
		if refuse.Load() {
			return "", errors.New("no")
		}
		return "", nil
	}))
	w := dial(t, s.wsURL())
	w.send("JoinConference", map[string]string{"conferenceName": "room"})
	var offer struct{ Peer string }
	if err := json.Unmarshal(w.next("SdpOffer").Data, &offer); err != nil || offer.Peer == "" {
		t.Fatalf("offer %+v %v", offer, err)
	}
	del := func(path string) int {
		req, _ := http.NewRequest(http.MethodDelete, s.http.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := del("/whip/room/" + offer.Peer); code != http.StatusNotFound {
		t.Fatalf("DELETE of a WebSocket peer: %d", code)
	}
	if s.plugin.Stats().Peers != 1 {
		t.Fatal("the WebSocket peer was ended over WHIP")
	}
	refuse.Store(true)
	if code := del("/whip/room/" + offer.Peer); code != http.StatusUnauthorized {
		t.Fatalf("DELETE refused by WithAuthorize: %d", code)
	}
}

// LeaveConference frees the peer's place at once: a JoinConference right
// after it is not refused as "full" while the old peer winds down.
func TestLeaveThenJoinAtTheLimit(t *testing.T) {
	s := newServer(t, rtcplug.WithMaxPeers(1, 1))
	w := dial(t, s.wsURL())
	for i := 0; i < 5; i++ {
		w.send("JoinConference", map[string]string{"conferenceName": "room"})
		w.send("LeaveConference", nil)
	}
	w.send("JoinConference", map[string]string{"conferenceName": "room"})
	for i := 0; i < 6; i++ {
		w.next("SdpOffer") // an Error instead fails here
	}
}

// OnPeerState hears every state a peer passes, "new" included, in order.
func TestPeerStateCallbackSeesNew(t *testing.T) {
	got := make(chan string, 8)
	s := newServer(t, rtcplug.OnPeerState(func(st rtcplug.PeerState) { got <- string(st.State) }))
	w := dial(t, s.wsURL())
	w.send("JoinConference", map[string]string{"conferenceName": "room"})
	w.next("SdpOffer")
	w.send("LeaveConference", nil)
	for _, want := range []string{"new", "closed"} {
		select {
		case st := <-got:
			if st != want {
				t.Fatalf("state %q, want %q", st, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
}
