package udpmux

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

// memConn is an in-memory PacketConn: channel operations are durably
// blocking inside a synctest bubble, unlike real sockets.
type memConn struct {
	in     chan datagram
	out    chan datagram
	closed chan struct{}
	once   sync.Once
}

type datagram struct {
	addr netip.AddrPort
	b    []byte
}

func newMemConn() *memConn {
	return &memConn{in: make(chan datagram, 16), out: make(chan datagram, 16), closed: make(chan struct{})}
}

func (c *memConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	select {
	case d := <-c.in:
		return copy(b, d.b), d.addr, nil
	case <-c.closed:
		return 0, netip.AddrPort{}, net.ErrClosed
	}
}

func (c *memConn) WriteToUDPAddrPort(b []byte, a netip.AddrPort) (int, error) {
	select {
	case c.out <- datagram{a, append([]byte(nil), b...)}:
	case <-c.closed:
		return 0, net.ErrClosed
	}
	return len(b), nil
}

func (c *memConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

type loopRouter struct {
	mu    sync.Mutex
	ufrag string
	loop  *Loop
	bound map[netip.AddrPort]bool
}

func (r *loopRouter) ByAddr(a netip.AddrPort) (Endpoint, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loop, r.bound[a]
}

func (r *loopRouter) ByUfrag(u []byte) (Endpoint, bool) { return r.loop, string(u) == r.ufrag }

// TestLoopInVirtualTime drives the socket layer and a peer's goroutine with
// the fake clock of testing/synctest: a verified check is answered and
// binds the address, and a peer that never completes DTLS fails exactly at
// the connect timeout; the read loop ends with its context.
func TestLoopInVirtualTime(t *testing.T) {
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
		var states []peer.State
		var failedAt time.Time
		start := time.Now()
		r.loop = NewLoop(m, p, func(ev peer.Event) {
			switch ev.Kind {
			case peer.Bind:
				r.mu.Lock()
				r.bound[ev.Addr] = true
				r.mu.Unlock()
			case peer.StateChange:
				states = append(states, ev.State)
				if ev.State == peer.StateFailed {
					failedAt = time.Now()
				}
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		go m.Run(ctx, r)
		go r.loop.Run(ctx)

		client := netip.MustParseAddrPort("192.0.2.1:4000")
		var req stun.Message
		req.Reset()
		req.SetType(stun.TypeBindingRequest)
		_ = req.NewTransactionID(rand.Reader)
		req.AddUsername(ufrag + ":remote")
		req.AddPriority(1)
		req.AddICEControlling(1)
		req.AddIntegrity([]byte(pwd))
		req.AddFingerprint()
		conn.in <- datagram{client, req.Raw}
		synctest.Wait()
		select {
		case d := <-conn.out:
			var resp stun.Message
			if d.addr != client || resp.Decode(d.b) != nil || resp.Type != stun.TypeBindingSuccess {
				t.Fatalf("response %+v", d)
			}
		default:
			t.Fatal("no response")
		}
		r.mu.Lock()
		if !r.bound[client] {
			t.Fatal("address not bound")
		}
		r.mu.Unlock()

		time.Sleep(peer.ConnectTimeout)
		synctest.Wait()
		select {
		case <-r.loop.Done():
		default:
			t.Fatal("loop still running after the connect timeout")
		}
		if len(states) != 2 || states[0] != peer.StateChecking || states[1] != peer.StateFailed {
			t.Fatalf("states %v", states)
		}
		if d := failedAt.Sub(start); d != peer.ConnectTimeout {
			t.Fatalf("failed after %v", d)
		}
		if err := r.loop.Do(ctx, func(time.Time, *peer.Peer) error { return nil }); err != ErrLoopDone {
			t.Fatalf("Do after the end: %v", err)
		}
		cancel()
		synctest.Wait()
	})
}

// TestLoopClosesOnCancel: ending the context closes the peer (state closed)
// and the loop returns.
func TestLoopClosesOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := newMemConn()
		m := New(conn, netip.MustParseAddrPort("[::]:15000"), nil)
		cert, _ := dtls.GenerateCertificate(rand.Reader, time.Now())
		p, _ := peer.New(peer.Config{LocalUfrag: "u1u1", LocalPwd: "pwdpwdpwdpwdpwdpwdpwdpwd", Certificate: cert}, time.Now())
		var last peer.State
		l := NewLoop(m, p, func(ev peer.Event) {
			if ev.Kind == peer.StateChange {
				last = ev.State
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		go l.Run(ctx)
		time.Sleep(time.Second)
		cancel()
		synctest.Wait()
		select {
		case <-l.Done():
		default:
			t.Fatal("loop still running")
		}
		if last != peer.StateClosed {
			t.Fatalf("state %v", last)
		}
	})
}
