package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// issue: the demo's server set only ReadHeaderTimeout, so idle keep-alives
// and slow bodies stayed forever. It now sets ReadTimeout and IdleTimeout;
// an idle connection is closed, a WebSocket (hijacked) is not.
func TestHTTPServerTimeouts(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := chi.NewRouter()
	p, err := rtcplug.Mount(r, rtcplug.WithContext(ctx), rtcplug.WithUDPPort(0), rtcplug.WithZerolog(zerolog.New(io.Discard)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a := &app{log: zerolog.New(io.Discard), router: r, plugin: p}
	srv := a.httpServer(ctx)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.IdleTimeout > time.Minute {
		t.Fatalf("timeouts: header %v read %v idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout)
	}
	// The same server with short timeouts, to see them act.
	srv.ReadTimeout, srv.IdleTimeout = 300*time.Millisecond, 300*time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	// A keep-alive connection left idle after a request is closed.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a bound for the test, not the server
	if _, err := io.WriteString(c, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle keep-alive: %v, want EOF from the server", err)
	}

	// A WebSocket lives on past ReadTimeout: net/http clears the deadlines
	// of a hijacked connection.
	ws := dialWS(t, ctx, "ws://"+ln.Addr().String()+"/ws")
	time.Sleep(3 * srv.ReadTimeout) // let the server's timeouts pass
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	if err := ws.Ping(pctx); err != nil {
		t.Fatalf("WebSocket cut by the HTTP timeouts: %v", err)
	}
}

// dialWS opens a signaling socket, reads the Welcome and keeps reading in
// the background so that control frames are answered.
func dialWS(t *testing.T, ctx context.Context, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	c.CloseRead(ctx)
	return c
}
