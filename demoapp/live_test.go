package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// liveApp is testApp with the plugin mounted (no peers).
func liveApp(t *testing.T) (*app, string) {
	t.Helper()
	a, dir := testApp(t)
	p, err := rtcplug.Mount(a.router, rtcplug.WithContext(t.Context()), rtcplug.WithUDPPort(0),
		rtcplug.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	a.plugin = p
	return a, dir
}

func TestLiveRoutes(t *testing.T) {
	a, _ := liveApp(t)
	h := a.router

	rec := get(t, h, "/api/peers")
	var body struct{ Peers []peerJSON }
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Peers == nil || len(body.Peers) != 0 {
		t.Fatalf("/api/peers: %d %s", rec.Code, rec.Body)
	}
	if rec := get(t, h, "/api/peers?conference=../x"); rec.Code != http.StatusBadRequest {
		t.Fatalf("bad conference: %d", rec.Code)
	}
	rec = get(t, h, "/wall")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "wall.js") || rec.Header().Get("Content-Security-Policy") == "" {
		t.Fatalf("/wall: %d %v", rec.Code, rec.Header())
	}
	if rec := get(t, h, "/static/wall.js"); rec.Code != http.StatusOK {
		t.Fatalf("/static/wall.js: %d", rec.Code)
	}
	rec = get(t, h, "/metrics")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "\nrtcplug_peers 0\n") ||
		!strings.Contains(rec.Body.String(), "rtcplug_packets_received_total{kind=\"video\"} 0") {
		t.Fatalf("/metrics: %d\n%s", rec.Code, rec.Body)
	}
}

// The newest-image table never grows past maxLatest and keeps only paths
// under the output directory.
func TestNoteKeyframe(t *testing.T) {
	a, out := liveApp(t)
	a.noteKeyframe(rtcplug.Keyframe{Peer: "p1", Path: out + "/c/p1/keyframe-000001.jpg", Time: time.Now()})
	a.noteKeyframe(rtcplug.Keyframe{Peer: "p2", Path: "/elsewhere/x.jpg"})
	if got := a.live.latest["p1"].URL; got != "/snapshots/c/p1/keyframe-000001.jpg" || len(a.live.latest) != 1 {
		t.Fatalf("latest %v", a.live.latest)
	}
	for i := range maxLatest + 10 {
		a.noteKeyframe(rtcplug.Keyframe{Peer: string(rune('a'+i%26)) + strings.Repeat("x", i%7) + string(rune(i)), Path: out + "/c/p/k.jpg"})
	}
	if len(a.live.latest) > maxLatest {
		t.Fatalf("%d entries", len(a.live.latest))
	}
}
