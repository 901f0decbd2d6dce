package rtcplug_test

import (
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
)

// TestDroppedKeyframeRequest: the decoder pool's request for a fresh
// keyframe (made when one of the peer's keyframes was dropped) reaches the
// sender as a PLI; for a peer gone it is a no-op.
func TestDroppedKeyframeRequest(t *testing.T) {
	s := newServer(t)
	w := dial(t, s.wsURL())
	pp := connect(t, w, "ask", piondtls.SRTP_AEAD_AES_128_GCM, nil)
	waitConnected(t, pp)
	w.waitState("connected", 10*time.Second)
	pp.stream(t, 500*time.Millisecond)
	select {
	case <-s.keyframe:
	case <-time.After(10 * time.Second):
		t.Fatal("no keyframe decoded")
	}
	// The PLIs of the start are answered by the keyframe streamed: no more
	// come on their own on a lossless loopback.
	for len(pp.plis) > 0 {
		<-pp.plis
	}
	s.plugin.RequestKeyframe("ask", pp.id)
	select {
	case <-pp.plis:
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not reach the sender")
	}
	s.plugin.RequestKeyframe("ask", "nobody")
}
