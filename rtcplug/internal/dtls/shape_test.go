package dtls

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The drive shape: Handle and Poll carry a whole handshake between our two
// roles, Poll yields a call's datagrams before its events, and with
// Config.Progress each side narrates its handshake in order, ending with
// the final flight; nothing is narrated after the handshake.
func TestPollDrivesHandshakeWithProgress(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c, s := ourPair(t, now, func(cc, sc *Config) { cc.Progress, sc.Progress = true, true })
	var notes [2][]string
	var done [2]bool
	from := netip.MustParseAddrPort("192.0.2.7:4000")
	pump := func(i int, src interface {
		Poll() (Event, bool)
	}, deliver func([]byte)) bool {
		moved, sawEvent := false, false
		for ev, ok := src.Poll(); ok; ev, ok = src.Poll() {
			switch ev.Kind {
			case Transmit:
				if sawEvent {
					t.Fatal("a datagram after an event of the same call")
				}
				if to, b, ok := ev.Datagram(); !ok || to.IsValid() || len(b) == 0 {
					t.Fatalf("Datagram() = %v %d %v", to, len(b), ok)
				}
				moved = true
				deliver(append([]byte(nil), ev.Data...))
			case Progress:
				sawEvent = true
				notes[i] = append(notes[i], ev.Note)
			case HandshakeComplete:
				sawEvent = true
				done[i] = true
			default:
				sawEvent = true
			}
		}
		return moved
	}
	for range 100 {
		a := pump(0, c, func(b []byte) { s.Handle(now, from, b) })
		b := pump(1, s, func(b []byte) { c.Handle(now, from, b) })
		if !a && !b {
			break
		}
	}
	if !done[0] || !done[1] {
		t.Fatalf("handshake not complete: %v", done)
	}
	if n := notes[0]; len(n) == 0 || !strings.HasPrefix(n[0], "ClientHello sent") || !strings.Contains(n[len(n)-1], "flight 5 sent") {
		t.Fatalf("client narration %q", n)
	}
	n := notes[1]
	if len(n) < 4 || !strings.HasPrefix(n[0], "ClientHello fragment received") ||
		!strings.Contains(strings.Join(n, "\n"), "HelloVerifyRequest sent") || !strings.Contains(n[len(n)-1], "flight 6 sent") {
		t.Fatalf("server narration %q", n)
	}
	c.Close()
	if ev, ok := c.Poll(); !ok || ev.Kind != Transmit {
		t.Fatalf("close_notify: %+v %v", ev, ok)
	}
	if ev, ok := c.Poll(); ok {
		t.Fatalf("narrated after the handshake: %+v", ev)
	}
}
