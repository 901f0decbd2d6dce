package udpmux

import (
	"context"
	"crypto/rand"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/testpeer"
)

// TestInboxOverflow: while a peer's goroutine is stuck (here in its event
// handler), datagrams for it fill its inbox; the ones beyond InboxSize are
// dropped and counted, the socket reader never blocks, and once the peer
// goes on it works through exactly the queued ones.
func TestInboxOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := newMemConn()
		m := New(conn, netip.MustParseAddrPort("[::]:15000"), nil)
		cert, err := dtls.GenerateCertificate(rand.Reader, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		const ufrag, pwd = "lufrag", "localpasswordlocalpassword"
		p, err := peer.New(peer.Config{LocalUfrag: ufrag, LocalPwd: pwd, Certificate: cert}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		r := &loopRouter{ufrag: ufrag, bound: map[netip.AddrPort]bool{}}
		gate := make(chan struct{})
		r.loop = NewLoop(m, p, func(ev peer.Event) {
			if ev.Kind == peer.Bind {
				r.mu.Lock()
				r.bound[ev.Addr] = true
				r.mu.Unlock()
				<-gate // a slow host: the peer's goroutine stops here
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go m.Run(ctx, r)
		go r.loop.Run(ctx)

		client := netip.MustParseAddrPort("192.0.2.1:4000")
		check, _, err := testpeer.CheckRequest(rand.Reader, ufrag, "remote", pwd, true)
		if err != nil {
			t.Fatal(err)
		}
		conn.in <- datagram{client, check}
		synctest.Wait() // the loop is now stuck in the handler
		<-conn.out      // the check's response went out before the Bind event

		const extra = 100
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			for i := range InboxSize + extra {
				// SRTP-looking bytes before any keys: the peer drops them.
				conn.in <- datagram{client, []byte{0x80, 96, 0, byte(i), 0, 0, 0, 1, 0, 0, 0, 1, 0}}
			}
		}()
		synctest.Wait()
		select {
		case <-sent:
		default:
			t.Fatal("the socket reader blocked on a full inbox")
		}
		if st := m.Stats(); st.Dropped != extra || st.Routed != 1+InboxSize {
			t.Fatalf("mux stats %+v, want %d dropped and %d routed", st, extra, 1+InboxSize)
		}

		close(gate)
		synctest.Wait()
		var st peer.Stats
		if err := r.loop.Do(ctx, func(_ time.Time, p *peer.Peer) error { st = p.Stats(); return nil }); err != nil {
			t.Fatal(err)
		}
		if st.Dropped != InboxSize {
			t.Fatalf("the peer handled %d queued datagrams, want %d", st.Dropped, InboxSize)
		}
		cancel()
		synctest.Wait()
	})
}
