package rtcplug_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// TestSignalingSocketsBounded: a client that opens sockets and never joins
// cannot hold more than one per allowed peer plus a fixed margin (64); the
// next is refused with 503 before the upgrade, and a closed socket frees its
// place.
func TestSignalingSocketsBounded(t *testing.T) {
	s := newServer(t, rtcplug.WithMaxPeers(2, 2))
	const limit = 2 + 64
	clients := make([]*wsClient, 0, limit)
	// From several sources: one source alone may hold only a quarter.
	for i := range limit {
		src := fmt.Sprintf("127.0.0.%d", 1+i%8)
		clients = append(clients, dial(t, s.wsURL(), &websocket.DialOptions{HTTPClient: clientFrom(t, src)}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, s.wsURL(), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("socket %d: err=%v resp=%v, want 503", limit+1, err, resp)
	}
	// Close one; its place is free once the server has seen it go.
	_ = clients[0].c.Close(websocket.StatusNormalClosure, "")
	<-clients[0].done
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, _, err := websocket.Dial(ctx, s.wsURL(), nil)
		if err == nil {
			_ = c.CloseNow()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no place after a socket closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
