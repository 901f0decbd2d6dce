package rtcplug_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// fromSource returns dial options whose connections come from the loopback
// address 127.0.1.n (all of 127/8 is on the loopback interface), so that the
// per-source limits see n as a source of its own.
func fromSource(n int) *websocket.DialOptions {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 1+byte(n/250), 1+byte(n%250))}
	d := &net.Dialer{LocalAddr: local}
	return &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}}
}

// joinN opens n signaling sockets, each from a source of its own, joining
// conferences named by name(i), and waits for each one's offer, then
// returns the sockets.
func joinN(t *testing.T, s *server, n int, name func(int) string) []*wsClient {
	t.Helper()
	out := make([]*wsClient, n)
	for i := range out {
		out[i] = dial(t, s.wsURL(), fromSource(i))
		out[i].send("JoinConference", map[string]string{"conferenceName": name(i)})
		out[i].next("SdpOffer")
	}
	return out
}

// refusedFull joins conference with a fresh socket from a fresh source and
// expects Error "full".
func refusedFull(t *testing.T, s *server, conference string) {
	t.Helper()
	w := dial(t, s.wsURL(), fromSource(999))
	w.send("JoinConference", map[string]string{"conferenceName": conference})
	w.expectError("full")
}

// TestDefaults checks what the defaults do, not what they are written as:
// the default routes answer, the default limits refuse exactly the join one
// past them, audio is offered. (TestPionEndToEnd checks the default JPEG
// quality on real snapshots; the default UDP port is not bound in tests.)
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
	t.Run("pending per source", func(t *testing.T) {
		s := newServer(t)
		// One source may hold a quarter of the pending handshakes; another
		// source still gets in.
		for range rtcplug.DefaultMaxPending / 4 {
			w := dial(t, s.wsURL(), fromSource(7))
			w.send("JoinConference", map[string]string{"conferenceName": "src"})
			w.next("SdpOffer")
		}
		w := dial(t, s.wsURL(), fromSource(7))
		w.send("JoinConference", map[string]string{"conferenceName": "src2"})
		w.expectError("full")
		joinN(t, s, 1, func(int) string { return "src2" })
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

// annexKLuma is the luminance quantization table of ITU-T T.81 Annex K.1.
var annexKLuma = [64]int{
	16, 11, 10, 16, 24, 40, 51, 61,
	12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56,
	14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77,
	24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101,
	72, 92, 95, 98, 112, 100, 103, 99,
}

// checkDefaultQuality checks that the snapshot at path was encoded at
// DefaultJPEGQuality: its luminance table holds the Annex K table scaled the
// IJG way for that quality (compared as sorted values, so the order the
// table is stored in does not matter).
func checkDefaultQuality(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	q := rtcplug.DefaultJPEGQuality
	scale := 200 - 2*q
	if q < 50 {
		scale = 5000 / q
	}
	var want []int
	for _, v := range annexKLuma {
		want = append(want, min(max((v*scale+50)/100, 1), 255))
	}
	slices.Sort(want)
	got := lumaTable(t, b)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: luminance table %v, want the quality-%d table %v", path, got, q, want)
	}
}

// lumaTable returns the 8-bit quantization table 0 of a baseline JPEG
// (T.81 B.2.4.1).
func lumaTable(t *testing.T, b []byte) []int {
	t.Helper()
	for i := 2; i+4 <= len(b) && b[i] == 0xff; {
		marker, n := b[i+1], int(b[i+2])<<8|int(b[i+3])
		if marker == 0xda || i+2+n > len(b) {
			break
		}
		if marker == 0xdb {
			seg := b[i+4 : i+2+n]
			for len(seg) >= 65 {
				pq, tq := seg[0]>>4, seg[0]&15
				if pq != 0 {
					break
				}
				if tq == 0 {
					out := make([]int, 64)
					for k := range out {
						out[k] = int(seg[1+k])
					}
					return out
				}
				seg = seg[65:]
			}
		}
		i += 2 + n
	}
	t.Fatal("no 8-bit luminance table")
	return nil
}
