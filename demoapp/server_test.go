package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// testApp is the application without rtcplug: only its own routes, over a
// temporary output directory.
func testApp(t *testing.T) (*app, string) {
	t.Helper()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	a := &app{cfg: config{OutputDir: dir}, log: zerolog.New(io.Discard), output: root}
	a.router = a.routes()
	return a, dir
}

func writeFile(t *testing.T, name string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(name, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestHealthzAndPage(t *testing.T) {
	a, _ := testApp(t)
	if rec := get(t, a.router, "/healthz"); rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Fatalf("/healthz: %d %q", rec.Code, rec.Body.String())
	}
	rec := get(t, a.router, "/")
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("/: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	for _, id := range []string{"start", "stop", "conference", "ws-state", "ice-state", "pc-state", "peer-state", "gallery", "error"} {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("page has no #%s", id)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	for _, p := range []string{"/static/app.js", "/static/style.css"} {
		if rec := get(t, a.router, p); rec.Code != 200 || rec.Body.Len() == 0 {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	// Nothing on the page comes from another site.
	for _, p := range []string{"/", "/static/style.css"} {
		b := get(t, a.router, p).Body.String()
		for _, s := range []string{"http:", "https:", "//", "url(", "@import"} {
			if strings.Contains(b, s) {
				t.Errorf("%s contains %q", p, s)
			}
		}
	}
}

type listing struct {
	Conference string     `json:"conference"`
	Peer       string     `json:"peer"`
	Snapshots  []snapshot `json:"snapshots"`
}

func TestSnapshotListing(t *testing.T) {
	a, dir := testApp(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	jpg := []byte("\xff\xd8\xff fake jpeg")
	writeFile(t, filepath.Join(dir, "room", "7", "keyframe-000001.jpg"), jpg, t0)
	writeFile(t, filepath.Join(dir, "room", "7", "keyframe-000002.jpg"), jpg, t0.Add(2*time.Second))
	writeFile(t, filepath.Join(dir, "room", "7", ".keyframe-000003.jpg.tmp"), jpg, t0.Add(3*time.Second))
	writeFile(t, filepath.Join(dir, "room", "7", "notes.txt"), jpg, t0.Add(3*time.Second))
	writeFile(t, filepath.Join(dir, "room", "8", "keyframe-000001.jpg"), jpg, t0.Add(time.Second))
	writeFile(t, filepath.Join(dir, "other", "9", "keyframe-000001.jpg"), jpg, t0)

	decode := func(target string) listing {
		t.Helper()
		rec := get(t, a.router, target)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		var l listing
		if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	names := func(l listing) string {
		var s []string
		for _, x := range l.Snapshots {
			s = append(s, x.Peer+"/"+x.Name)
		}
		return strings.Join(s, " ")
	}

	if got, want := names(decode("/api/snapshots?conference=room&peer=7")), "7/keyframe-000002.jpg 7/keyframe-000001.jpg"; got != want {
		t.Errorf("peer 7: %q, want %q (newest first, only JPEGs)", got, want)
	}
	if got, want := names(decode("/api/snapshots?conference=room")), "7/keyframe-000002.jpg 8/keyframe-000001.jpg 7/keyframe-000001.jpg"; got != want {
		t.Errorf("conference: %q, want %q", got, want)
	}
	if got := names(decode("/api/snapshots?conference=room&limit=1")); got != "7/keyframe-000002.jpg" {
		t.Errorf("limit=1: %q", got)
	}
	if l := decode("/api/snapshots?conference=empty&peer=1"); l.Snapshots == nil || len(l.Snapshots) != 0 {
		t.Errorf("unknown conference: %+v, want an empty list", l)
	}
	l := decode("/api/snapshots?conference=room&peer=8")
	if len(l.Snapshots) != 1 || l.Snapshots[0].URL != "/snapshots/room/8/keyframe-000001.jpg" || l.Snapshots[0].Bytes != int64(len(jpg)) {
		t.Fatalf("peer 8: %+v", l)
	}

	// The URL in the listing serves the file.
	rec := get(t, a.router, l.Snapshots[0].URL)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), jpg) || rec.Header().Get("Content-Type") != "image/jpeg" {
		t.Fatalf("serve: %d %q %s", rec.Code, rec.Body.Bytes(), rec.Header().Get("Content-Type"))
	}

	for _, bad := range []string{
		"/api/snapshots",
		"/api/snapshots?conference=",
		"/api/snapshots?conference=../etc",
		"/api/snapshots?conference=room&peer=..",
		"/api/snapshots?conference=room&peer=a/b",
		"/api/snapshots?conference=" + strings.Repeat("x", 65),
		"/api/snapshots?conference=room&limit=0",
		"/api/snapshots?conference=room&limit=100000",
	} {
		if rec := get(t, a.router, bad); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, rec.Code)
		}
	}
}

func TestSnapshotTraversalRefused(t *testing.T) {
	a, dir := testApp(t)
	outside := filepath.Join(filepath.Dir(dir), "secret.jpg")
	writeFile(t, outside, []byte("secret"), time.Now())
	t.Cleanup(func() { os.Remove(outside) })
	writeFile(t, filepath.Join(dir, "room", "7", "keyframe-000001.jpg"), []byte("ok"), time.Now())
	// A symlink inside the output directory that points out of it.
	if err := os.Symlink(outside, filepath.Join(dir, "room", "7", "keyframe-000002.jpg")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(dir), filepath.Join(dir, "room", "up")); err != nil {
		t.Fatal(err)
	}

	for _, target := range []string{
		"/snapshots/../secret.jpg",
		"/snapshots/room/7/../../../secret.jpg",
		"/snapshots/room/7/..%2f..%2f..%2fsecret.jpg",
		"/snapshots/%2e%2e/secret.jpg",
		"/snapshots/room/7/keyframe-000002.jpg", // symlink out of the root
		"/snapshots/room/up/secret.jpg",
		"/snapshots/room/7/",
		"/snapshots/room/",
		"/snapshots/",
		"/snapshots/room/7/.keyframe.jpg",
		"/snapshots/room/7/x/keyframe-000001.jpg",
	} {
		rec := get(t, a.router, target)
		if rec.Code == 200 || strings.Contains(rec.Body.String(), "secret") {
			t.Errorf("%s: %d %q, want refused", target, rec.Code, rec.Body.String())
		}
	}
	if rec := get(t, a.router, "/snapshots/room/7/keyframe-000001.jpg"); rec.Code != 200 || rec.Body.String() != "ok" {
		t.Errorf("good file: %d %q", rec.Code, rec.Body.String())
	}
}

func TestParseConfig(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer

	cfg, err := parseConfig(nil, getenv, &out)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != ":8080" || cfg.UDPPort != 15000 || cfg.OutputDir != "output" || cfg.LogLevel != zerolog.InfoLevel ||
		cfg.STUN != "" || len(cfg.PublicIPs) != 0 || cfg.https() {
		t.Fatalf("defaults: %+v", cfg)
	}

	env["RTCPLUG_HTTP"] = "127.0.0.1:9000"
	env["RTCPLUG_UDP_PORT"] = "16000"
	env["RTCPLUG_PUBLIC_IPS"] = "192.0.2.1, 2001:db8::1"
	env["RTCPLUG_LOG_LEVEL"] = "debug"
	env["RTCPLUG_TLS"] = "true"
	env["RTCPLUG_WHIP_TOKEN"] = "from-env"
	cfg, err = parseConfig(nil, getenv, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}
	if cfg.HTTPAddr != "127.0.0.1:9000" || cfg.UDPPort != 16000 || cfg.LogLevel != zerolog.DebugLevel || !cfg.TLS ||
		len(cfg.PublicIPs) != 2 || cfg.PublicIPs[0] != want[0] || cfg.PublicIPs[1] != want[1] || cfg.WHIPToken != "from-env" {
		t.Fatalf("from env: %+v", cfg)
	}

	// Flags win; the first -public-ip replaces the environment's list.
	cfg, err = parseConfig([]string{"-udp-port", "0", "-public-ip", "198.51.100.1", "-public-ip=198.51.100.2,198.51.100.3", "-stun", "stun.example:3478", "-whip-token", "from-flag"}, getenv, &out)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UDPPort != 0 || len(cfg.PublicIPs) != 3 || cfg.PublicIPs[0].String() != "198.51.100.1" || cfg.STUN != "stun.example:3478" || cfg.WHIPToken != "from-flag" {
		t.Fatalf("flags: %+v", cfg)
	}

	for _, args := range [][]string{
		{"-udp-port", "70000"},
		{"-public-ip", "not-an-ip"},
		{"-log-level", "loud"},
		{"-tls-cert", "c.pem"},
		{"extra"},
	} {
		if _, err := parseConfig(args, func(string) string { return "" }, &out); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	env = map[string]string{"RTCPLUG_UDP_PORT": "many"}
	if _, err := parseConfig(nil, getenv, &out); err == nil || !strings.Contains(err.Error(), "RTCPLUG_UDP_PORT") {
		t.Errorf("bad env: %v", err)
	}

	out.Reset()
	if _, err := parseConfig([]string{"-h"}, func(string) string { return "" }, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, s := range []string{"-http", "RTCPLUG_HTTP", "-udp-port", "RTCPLUG_UDP_PORT", "-public-ip", "RTCPLUG_PUBLIC_IPS",
		"-stun", "RTCPLUG_STUN", "-output", "RTCPLUG_OUTPUT", "-record", "RTCPLUG_RECORD", "-log-level", "RTCPLUG_LOG_LEVEL", "-tls", "-tls-cert", "-tls-key", "-whip-token", "RTCPLUG_WHIP_TOKEN"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("-h does not mention %s", s)
		}
	}
}

func TestSelfSignedCertificate(t *testing.T) {
	c, fp, err := selfSignedCertificate([]string{"localhost"}, []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.7")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 32*3-1 {
		t.Errorf("fingerprint %q", fp)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("192.0.2.7"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
}
