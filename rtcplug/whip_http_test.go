package rtcplug_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// chromeOffer is a real Chromium offer: what a browser-based WHIP client
// posts.
func chromeOffer(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/chromium156-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type whipReq struct {
	method, url, body string
	header            map[string]string
}

func do(t *testing.T, r whipReq) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(r.method, r.url, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/sdp")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// peerIDs collects the ids of peers as OnPeerState reports them.
type peerIDs struct {
	mu  sync.Mutex
	ids []string
}

func (p *peerIDs) option() rtcplug.Option {
	return rtcplug.OnPeerState(func(st rtcplug.PeerState) {
		if st.State == "new" {
			p.mu.Lock()
			p.ids = append(p.ids, st.Peer)
			p.mu.Unlock()
		}
	})
}

func (p *peerIDs) last(t *testing.T) string {
	t.Helper()
	var id string
	waitFor(t, "the peer's id", 5*time.Second, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.ids) > 0 {
			id = p.ids[len(p.ids)-1]
		}
		return id != ""
	})
	return id
}

// issue: anyone could end a WHIP session with the public peer id. The
// Location carries a secret; DELETE with the peer id or a wrong secret is
// 404, with the Location 200.
func TestWHIPSessionURLIsASecret(t *testing.T) {
	var ids peerIDs
	s := newServer(t, ids.option())
	resp, answer := do(t, whipReq{method: http.MethodPost, url: s.http.URL + "/whip/room", body: chromeOffer(t)})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	loc := resp.Header.Get("Location")
	id := ids.last(t)
	secret, ok := strings.CutPrefix(loc, "/whip/room/")
	if !ok || len(secret) < 26 || strings.Contains(loc, id) {
		t.Fatalf("Location %q (peer id %s)", loc, id)
	}
	if et := resp.Header.Get("ETag"); len(et) < 3 || et[0] != '"' || et[len(et)-1] != '"' {
		t.Fatalf("ETag %q", et)
	}
	for _, path := range []string{
		"/whip/room/" + id,
		"/whip/room/" + strings.Repeat("A", len(secret)),
		"/whip/room/" + secret[:len(secret)-1],
		"/whip/other/" + secret,
	} {
		if resp, _ := do(t, whipReq{method: http.MethodDelete, url: s.http.URL + path}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("DELETE %s: %d", path, resp.StatusCode)
		}
	}
	if s.plugin.Stats().Peers != 1 {
		t.Fatal("a wrong DELETE ended the session")
	}
	if resp, _ := do(t, whipReq{method: http.MethodDelete, url: s.http.URL + loc}); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE Location: %d", resp.StatusCode)
	}
	waitFor(t, "peer gone", 5*time.Second, func() bool { return s.plugin.Stats().Peers == 0 })
	if resp, _ := do(t, whipReq{method: http.MethodDelete, url: s.http.URL + loc}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second DELETE: %d", resp.StatusCode)
	}
}

// RFC 9725 §4.5: a missing or wrong Bearer token is 401 with a Bearer
// challenge, on POST and on DELETE.
func TestWHIPBearerToken(t *testing.T) {
	s := newServer(t, rtcplug.WithBearerToken("s3cret-token"))
	post := func(auth string) *http.Response {
		h := map[string]string{}
		if auth != "" {
			h["Authorization"] = auth
		}
		resp, _ := do(t, whipReq{method: http.MethodPost, url: s.http.URL + "/whip/room", body: chromeOffer(t), header: h})
		return resp
	}
	for _, auth := range []string{"", "Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer s3cret-token-and-more", "Bearer"} {
		resp := post(auth)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("Authorization %q: %d %q", auth, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if s.plugin.Stats().Peers != 0 {
		t.Fatal("an unauthorized POST made a peer")
	}
	resp := post("bearer s3cret-token")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("right token: %d", resp.StatusCode)
	}
	loc := s.http.URL + resp.Header.Get("Location")
	if resp, _ := do(t, whipReq{method: http.MethodDelete, url: loc}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("DELETE without the token: %d", resp.StatusCode)
	}
	if resp, _ := do(t, whipReq{method: http.MethodPatch, url: loc}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("PATCH without the token: %d", resp.StatusCode)
	}
	if resp, _ := do(t, whipReq{method: http.MethodDelete, url: loc, header: map[string]string{"Authorization": "Bearer s3cret-token"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE with the token: %d", resp.StatusCode)
	}
}

// WithAuthorize refusing a WHIP request is a 401 with a Bearer challenge too.
func TestWHIPAuthorizeIs401(t *testing.T) {
	s := newServer(t, rtcplug.WithAuthorize(func(r *http.Request, conf string) (string, error) {
		return "", errors.New("not this conference")
	}))
	resp, body := do(t, whipReq{method: http.MethodPost, url: s.http.URL + "/whip/room", body: chromeOffer(t)})
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") ||
		!strings.Contains(body, "not this conference") {
		t.Fatalf("%d %q %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
}

// CORS for browser-based WHIP clients: the preflight names the methods and
// headers, allowed origins are echoed and Location is exposed; other origins
// get no CORS headers.
func TestWHIPCORS(t *testing.T) {
	s := newServer(t, rtcplug.WithOriginPatterns("app.example"))
	preflight := func(path, origin, method string) *http.Response {
		resp, _ := do(t, whipReq{method: http.MethodOptions, url: s.http.URL + path, header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": method,
			"Access-Control-Request-Headers": "authorization, content-type",
		}})
		return resp
	}
	resp := preflight("/whip/room", "https://app.example", "POST")
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Location") ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Link") ||
		h.Get("Accept-Post") != "application/sdp" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
	if resp := preflight("/whip/room/abc", "https://app.example", "DELETE"); !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Fatalf("session preflight: %v", resp.Header)
	}
	if resp := preflight("/whip/room", "https://evil.example", "POST"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin allowed: %v", resp.Header)
	}
	resp, _ = do(t, whipReq{method: http.MethodPost, url: s.http.URL + "/whip/room", body: chromeOffer(t),
		header: map[string]string{"Origin": "https://app.example"}})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Location") {
		t.Fatalf("POST: %d %v", resp.StatusCode, resp.Header)
	}
}

// The Location works when the plugin's router is mounted under a prefix,
// by chi or by http.StripPrefix.
func TestWHIPLocationUnderPrefix(t *testing.T) {
	r := chi.NewRouter()
	var p *rtcplug.Plugin
	r.Route("/api/v1", func(sub chi.Router) {
		var err error
		p, err = rtcplug.Mount(sub, rtcplug.WithUDPPort(0), rtcplug.WithCandidateFilter(loopback4),
			rtcplug.WithLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
	})
	outer := http.NewServeMux()
	outer.Handle("/edge/", http.StripPrefix("/edge", r))
	srv := httptest.NewServer(outer)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		_ = p.Close()
		srv.Close()
	})
	resp, body := do(t, whipReq{method: http.MethodPost, url: srv.URL + "/edge/api/v1/whip/room", body: chromeOffer(t)})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(loc, "/edge/api/v1/whip/room/") {
		t.Fatalf("%d Location %q %s", resp.StatusCode, loc, body)
	}
	if resp, _ := do(t, whipReq{method: http.MethodDelete, url: srv.URL + loc}); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %d", loc, resp.StatusCode)
	}
}

// issue: a slow WHIP body held the plugin's wait group, so Close waited for
// the sender. Now Close cuts the read and returns.
func TestWHIPSlowBodyDoesNotDelayClose(t *testing.T) {
	reading := make(chan struct{}, 1)
	s := newServer(t, rtcplug.WithAuthorize(func(r *http.Request, conf string) (string, error) {
		// Called just before the body is read.
		select {
		case reading <- struct{}{}:
		default:
		}
		return "", nil
	}))
	c, err := net.Dial("tcp", s.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /whip/room HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\nContent-Length: 5000\r\n\r\nv=0\r\n")
	<-reading
	closed := make(chan struct{})
	go func() {
		_ = s.plugin.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a slow WHIP body")
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// issue: WHIP read the body with no deadline. A body that does not arrive
// in time gets 408 and the connection ends.
func TestWHIPBodyDeadline(t *testing.T) {
	s := newServer(t, rtcplug.WithWHIPBodyTimeout(200*time.Millisecond))
	c, err := net.Dial("tcp", s.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a bound for the test only
	fmt.Fprintf(c, "POST /whip/room HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\nContent-Length: 5000\r\n\r\nv=0\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Fatalf("status %d, close %v", resp.StatusCode, resp.Close)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
		t.Fatalf("connection kept: %v %q", err, rest)
	}
	if s.plugin.Stats().Peers != 0 {
		t.Fatal("a peer from a body that never came")
	}
}
