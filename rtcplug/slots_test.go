package rtcplug_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"
	piondtls "github.com/pion/dtls/v3"
	"go.uber.org/goleak"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// clientFrom is an HTTP client whose connections come from the local
// address ip (any of 127.0.0.0/8 works on loopback), so a test has two
// sources.
func clientFrom(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func postFrom(t *testing.T, c *http.Client, url, offer string) *http.Response {
	t.Helper()
	resp, err := c.Post(url, "application/sdp", strings.NewReader(offer))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// issue: about 21 WHIP POSTs a second from one source kept all 64 pending
// slots full and locked every other sender out. One source now holds at
// most its share (here 2 of 8), however fast it refills; a second source
// gets in.
func TestPendingSlotsPerSource(t *testing.T) {
	s := newServer(t, rtcplug.WithMaxPending(8), rtcplug.WithMaxPendingPerSource(2))
	offer := chromeOffer(t)
	attacker, legit := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	url := s.http.URL + "/whip/room"
	var held []string
	for i := 0; i < 2; i++ {
		resp := postFrom(t, attacker, url, offer)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %d: %d", i, resp.StatusCode)
		}
		held = append(held, resp.Header.Get("Location"))
	}
	for i := 0; i < 10; i++ {
		// Refill as fast as a slot frees: never more than the share.
		if resp := postFrom(t, attacker, url, offer); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("refill %d: %d", i, resp.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodDelete, s.http.URL+held[0], nil)
		resp, err := attacker.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp = postFrom(t, attacker, url, offer)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("refill after DELETE %d: %d", i, resp.StatusCode)
		}
		held[0] = resp.Header.Get("Location")
	}
	if resp := postFrom(t, legit, url, offer); resp.StatusCode != http.StatusCreated {
		t.Fatalf("second source starved: %d", resp.StatusCode)
	}
	// The WebSocket route shares the limit: the first source is full there too.
	w := dial(t, s.wsURL())
	w.send("JoinConference", map[string]string{"conferenceName": "room"})
	w.expectError("full")
}

// closeStatus waits for the server to end the socket and returns its close
// status and reason.
func closeStatus(t *testing.T, w *wsClient) (websocket.StatusCode, string) {
	t.Helper()
	for {
		select {
		case _, ok := <-w.msgs:
			if ok {
				continue
			}
			var ce websocket.CloseError
			if !errors.As(w.err, &ce) {
				t.Fatalf("socket ended without a close frame: %v", w.err)
			}
			return ce.Code, ce.Reason
		case <-time.After(20 * time.Second):
			t.Fatal("socket not closed")
		}
	}
}

// issue: sockets that answer pings but never join held every socket slot.
// A socket without a peer past JoinTimeout is closed with 1008 and a reason.
func TestUnjoinedSocketClosed(t *testing.T) {
	s := newServer(t, rtcplug.WithSignalingTimeouts(100*time.Millisecond, time.Minute))
	w := dial(t, s.wsURL())
	code, reason := closeStatus(t, w)
	if code != websocket.StatusPolicyViolation || !strings.Contains(reason, "JoinConference") {
		t.Fatalf("closed with %d %q", code, reason)
	}
}

// A joined peer whose answer never comes ends after AnswerTimeout (its
// pending slot is free again), the client is told, and the socket, now
// without a peer, is closed after JoinTimeout.
func TestUnansweredPeerEnds(t *testing.T) {
	s := newServer(t, rtcplug.WithSignalingTimeouts(500*time.Millisecond, 100*time.Millisecond))
	w := dial(t, s.wsURL())
	w.send("JoinConference", map[string]string{"conferenceName": "room"})
	w.next("SdpOffer")
	w.expectError("timeout")
	w.waitState("closed", 10*time.Second)
	waitFor(t, "the pending slot freed", 5*time.Second, func() bool { st := s.plugin.Stats(); return st.Pending == 0 && st.Peers == 0 })
	if code, _ := closeStatus(t, w); code != websocket.StatusPolicyViolation {
		t.Fatalf("closed with %d", code)
	}
}

// A peer that answers in time is not touched by the deadlines, nor is its
// socket.
func TestAnsweredPeerKeepsSocket(t *testing.T) {
	s := newServer(t, rtcplug.WithSignalingTimeouts(300*time.Millisecond, 300*time.Millisecond))
	w := dial(t, s.wsURL())
	p := connect(t, w, "room", piondtls.SRTP_AEAD_AES_128_GCM, nil)
	waitConnected(t, p)
	w.waitState("connected", 10*time.Second)
	// Several deadlines' worth later, the socket still works.
	time.Sleep(time.Second)
	w.send("Bogus", nil)
	w.expectError("unknown-type")
	if s.plugin.Stats().Peers != 1 {
		t.Fatal("the connected peer was ended")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.c.Ping(ctx); err != nil {
		t.Fatalf("socket closed: %v", err)
	}
}

// One source cannot hold every signaling socket slot by reconnecting as
// fast as its idle sockets close: it has a quarter of them; another source
// still gets in.
func TestSocketsPerSource(t *testing.T) {
	s := newServer(t, rtcplug.WithMaxPeers(4, 4)) // 4+64 sockets, 17 per source
	url := s.wsURL()
	for i := 0; i < 17; i++ {
		dial(t, url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("18th socket from one source: %v %v", resp, err)
	}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: clientFrom(t, "127.0.0.2")})
	if err != nil {
		t.Fatalf("another source refused: %v", err)
	}
	c.CloseNow()
}

// The deadlines and the close with a reason leave nothing behind: a socket
// closed for not joining and a peer ended for not answering end their
// goroutines and timers with the plugin.
func TestDeadlinesLeaveNoGoroutines(t *testing.T) {
	before := goleak.IgnoreCurrent()
	r := chi.NewRouter()
	p, err := rtcplug.Mount(r, rtcplug.WithUDPPort(0), rtcplug.WithCandidateFilter(loopback4),
		rtcplug.WithLogger(testLogger(t)), rtcplug.WithSignalingTimeouts(100*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	t.Run("clients", func(t *testing.T) {
		idle := dial(t, url)
		joined := dial(t, url)
		joined.send("JoinConference", map[string]string{"conferenceName": "room"})
		joined.next("SdpOffer")
		joined.expectError("timeout")
		for _, w := range []*wsClient{idle, joined} {
			if code, _ := closeStatus(t, w); code != websocket.StatusPolicyViolation {
				t.Fatalf("closed with %d", code)
			}
		}
		// One more left open: shutdown closes it.
		dial(t, url)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	})
	srv.Close()
	goleak.VerifyNone(t, before)
}
