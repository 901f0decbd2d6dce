package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// syncBuffer is a log destination read while the server (or Chromium)
// writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunHTTPSAndShutdown runs the whole program the way main does, with a
// self-signed certificate: the page, /healthz and rtcplug's /ws answer on the
// one router, and cancelling the context stops everything.
func TestRunHTTPSAndShutdown(t *testing.T) {
	cfg := config{HTTPAddr: "127.0.0.1:0", UDPPort: 0, OutputDir: t.TempDir(), LogLevel: zerolog.InfoLevel, TLS: true, WHIPToken: "demo-token"}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, &logs) }()

	urlRE := regexp.MustCompile(`url=(https://127\.0\.0\.1:\d+/)`)
	fpRE := regexp.MustCompile(`sha256=([0-9A-F:]{95})`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(logs.String()); m != nil {
			base = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line in the log:\n%s", logs.String())
		}
	}
	fp := fpRE.FindStringSubmatch(logs.String())
	if fp == nil {
		t.Fatalf("no certificate fingerprint in the log:\n%s", logs.String())
	}

	var seen [32]byte
	tlsConf := &tls.Config{
		InsecureSkipVerify: true, // self-signed: checked by fingerprint below
		VerifyConnection: func(cs tls.ConnectionState) error {
			seen = sha256.Sum256(cs.PeerCertificates[0].Raw)
			return cs.PeerCertificates[0].VerifyHostname("127.0.0.1")
		},
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for _, p := range []string{"healthz", "", "api/snapshots?conference=defaultConference"} {
		res, err := client.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("/%s: %s", p, res.Status)
		}
	}
	// WHIP is announced with its URL, and the token is required.
	if !strings.Contains(logs.String(), "whip="+base+"whip/{conference}") {
		t.Errorf("no WHIP URL in the log:\n%s", logs.String())
	}
	res, err := client.Post(base+"whip/room", "application/sdp", strings.NewReader("v=0\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WHIP without the token: %s %q", res.Status, res.Header.Get("WWW-Authenticate"))
	}
	if got := colonHex(seen[:]); got != fp[1] {
		t.Errorf("served certificate %s, logged fingerprint %s", got, fp[1])
	}

	// rtcplug's signaling is on the same router, same origin.
	c, _, err := websocket.Dial(ctx, "wss"+base[len("https"):]+"ws", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatalf("dial /ws: %v", err)
	}
	defer c.CloseNow()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct{ Type string }
	if json.Unmarshal(b, &msg) != nil || msg.Type != "Welcome" {
		t.Fatalf("first message %s", b)
	}
	// Keep reading, as a browser does, so that the server's close frame is
	// answered.
	c.CloseRead(context.WithoutCancel(ctx))

	// A clean stop, with the WebSocket still open.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after the context ended")
	}
	t.Logf("log:\n%s", logs.String())
}
