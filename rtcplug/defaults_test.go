package rtcplug_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// joinN opens n signaling sockets joining conferences named by name(i) and
// waits for each one's offer, then returns the sockets.
func joinN(t *testing.T, s *server, n int, name func(int) string) []*wsClient {
	t.Helper()
	out := make([]*wsClient, n)
	for i := range out {
		out[i] = dial(t, s.wsURL())
		out[i].send("JoinConference", map[string]string{"conferenceName": name(i)})
		out[i].next("SdpOffer")
	}
	return out
}

// refusedFull joins conference with a fresh socket and expects Error "full".
func refusedFull(t *testing.T, s *server, conference string) {
	t.Helper()
	w := dial(t, s.wsURL())
	w.send("JoinConference", map[string]string{"conferenceName": conference})
	w.expectError("full")
}

// TestDefaults checks what the defaults do, not what they are written as:
// the default routes answer, the default limits refuse exactly the join one
// past them, audio is offered.
func TestDefaults(t *testing.T) {
	t.Run("routes", func(t *testing.T) {
		s := newServer(t) // no path options
		// dial checks the Welcome.
		dial(t, "ws"+strings.TrimPrefix(s.http.URL, "http")+rtcplug.DefaultSignalingPath)
		resp, err := http.Post(s.http.URL+rtcplug.DefaultWHIPPath+"/room", "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// The WHIP handler itself refuses the media type: the route exists.
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("POST %s/room: %d, want 415 from the WHIP handler", rtcplug.DefaultWHIPPath, resp.StatusCode)
		}
		resp, err = http.Get(s.http.URL + "/elsewhere")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET /elsewhere: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("audio", func(t *testing.T) {
		s := newServer(t)
		w := dial(t, s.wsURL())
		w.send("JoinConference", map[string]string{"conferenceName": "a"})
		var offer struct{ SDP string }
		if err := json.Unmarshal(w.next("SdpOffer").Data, &offer); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(offer.SDP, "m=audio ") || !strings.Contains(offer.SDP, "m=video ") {
			t.Fatalf("default offer lacks audio or video:\n%s", offer.SDP)
		}
	})
	t.Run("peers per conference", func(t *testing.T) {
		s := newServer(t)
		joinN(t, s, rtcplug.DefaultMaxPeersPerConference, func(int) string { return "one" })
		refusedFull(t, s, "one")
		joinN(t, s, 1, func(int) string { return "two" }) // only that conference is full
	})
	t.Run("pending", func(t *testing.T) {
		s := newServer(t)
		// Fill conferences up to the per-conference limit so only the
		// pending limit can refuse.
		per := rtcplug.DefaultMaxPeersPerConference
		joinN(t, s, rtcplug.DefaultMaxPending, func(i int) string { return fmt.Sprint("c", i/per) })
		refusedFull(t, s, "fresh")
		if st := s.plugin.Stats(); st.Pending != rtcplug.DefaultMaxPending {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("conferences", func(t *testing.T) {
		s := newServer(t, rtcplug.WithMaxPending(1<<20))
		joinN(t, s, rtcplug.DefaultMaxConferences, func(i int) string { return fmt.Sprint("c", i) })
		refusedFull(t, s, "one-more")
		joinN(t, s, 1, func(int) string { return "c0" }) // an existing conference still takes peers
	})
	t.Run("peers", func(t *testing.T) {
		s := newServer(t, rtcplug.WithMaxPending(1<<20))
		per := rtcplug.DefaultMaxPeersPerConference
		joinN(t, s, rtcplug.DefaultMaxPeers, func(i int) string { return fmt.Sprint("c", i/per) })
		// A conference of its own, far below the conference limit: only
		// the total refuses.
		refusedFull(t, s, "one-more")
		if st := s.plugin.Stats(); st.Peers != rtcplug.DefaultMaxPeers {
			t.Fatalf("stats %+v", st)
		}
	})
}
