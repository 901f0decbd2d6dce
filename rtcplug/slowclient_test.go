package rtcplug_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// pipeListener hands the server the other end of each net.Pipe a client
// dials: no kernel buffers, so a client that does not read stops the
// server's writes at once.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// issue: a client whose reply queue overflowed was cut without a close
// frame. It is now closed with 1008 and a reason, which a client that reads
// late still receives after the replies already queued.
func TestSlowClientClosedWithReason(t *testing.T) {
	r := chi.NewRouter()
	p, err := rtcplug.Mount(r, rtcplug.WithUDPPort(0), rtcplug.WithCandidateFilter(loopback4), rtcplug.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ln := newPipeListener()
	srv := &http.Server{Handler: r}
	go srv.Serve(ln)
	t.Cleanup(func() {
		_ = p.Close()
		_ = srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://pipe/ws", &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: ln.dial}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// Not reading: the server's writer blocks on the Welcome, and each bad
	// message queues an Error reply until the queue overflows.
	for i := 0; i < 100; i++ {
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"Bogus"}`)); err != nil {
			break // the server may have closed already
		}
	}
	n := 0
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			n++
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("after %d messages: %v, want a close frame", n, err)
		}
		if ce.Code != websocket.StatusPolicyViolation || ce.Reason == "" {
			t.Fatalf("closed with %d %q", ce.Code, ce.Reason)
		}
		t.Logf("read %d messages, then close %d %q", n, ce.Code, ce.Reason)
		return
	}
}
