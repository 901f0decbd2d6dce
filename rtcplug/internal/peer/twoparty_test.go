package peer

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/testpeer"
)

// handshakeType is the type of the first handshake message in an epoch-0
// DTLS datagram; ok is false for anything else.
// Handshake types the tests look for on the wire (RFC 5246 §7.4, RFC 6347
// §4.2.2).
const (
	hsClientHello        = 1
	hsServerHello        = 2
	hsHelloVerifyRequest = 3
)

func handshakeType(b []byte) (typ uint8, ok bool) {
	// record header: type(1) version(2) epoch(2) seq(6) length(2); then the
	// handshake header starts with its type.
	if len(b) < 14 || b[0] != 22 || b[3] != 0 || b[4] != 0 {
		return 0, false
	}
	return b[13], true
}

// helloCookie is the cookie of an unfragmented ClientHello datagram (RFC
// 6347 §4.2.1: client_version, random, session_id, cookie), or nil.
func helloCookie(b []byte) []byte {
	if typ, ok := handshakeType(b); !ok || typ != hsClientHello {
		return nil
	}
	off := 13 + 12 + 2 + 32 // record header, handshake header, version, random
	if len(b) <= off {
		return nil
	}
	off += 1 + int(b[off]) // session_id
	if len(b) <= off {
		return nil
	}
	n := int(b[off])
	if n == 0 || len(b) < off+1+n {
		return nil
	}
	return b[off+1 : off+1+n]
}

// fromPeer counts the handshake messages the peer sent through the pipe.
type fromPeer map[uint8]int

func watch(l *link, filter func(d *testpeer.Datagram) bool) fromPeer {
	seen := fromPeer{}
	l.Pipe.Filter = func(d *testpeer.Datagram) bool {
		if d.From == server {
			if typ, ok := handshakeType(d.Data); ok {
				seen[typ]++
			}
			return true
		}
		if filter != nil {
			return filter(d)
		}
		return true
	}
	return seen
}

// stream sends frames through the pipe, one every 33 ms, and runs the pair
// until they are delivered; it returns the keyframes the peer emitted.
func (l *link) stream(t *testing.T, s *sender, frames [][]byte) int {
	t.Helper()
	keys := 0
	for _, f := range frames {
		for _, pk := range s.packetize(f) {
			l.c.Send(pk)
		}
		l.RunFor(33 * time.Millisecond)
	}
	l.RunFor(time.Second)
	for _, e := range l.pp.evs {
		if e.Kind == Keyframe {
			keys++
		}
	}
	l.pp.evs = nil
	return keys
}

// TestTwoPartyBothRoles connects our peer to the client stack in both DTLS
// roles, with both SRTP profiles, through a pipe that drops, duplicates and
// reorders (seeded), then streams through a clean pipe: the client's media
// decrypts in the peer and the peer's RTCP decrypts in the client, so the
// exported keys sit the right way round on each side (RFC 5764 §4.2).
func TestTwoPartyBothRoles(t *testing.T) {
	frames := ivfFrames(t)[:61]
	for _, passive := range []bool{false, true} {
		for _, nominate := range []bool{true, false} {
			if !passive && !nominate {
				continue // the server role does not wait for a nomination
			}
			for _, prof := range []srtp.Profile{srtp.AES128CMHMACSHA1_80, srtp.AEADAES128GCM} {
				for seed := uint64(1); seed <= 6; seed++ {
					name := fmt.Sprintf("passive=%v/nominate=%v/%v/seed=%d", passive, nominate, prof, seed)
					t.Run(name, func(t *testing.T) {
						l := newLink(t, linkOpts{passive: passive, profile: prof, media: RemoteMedia{NACK: true}, pipeSeed: seed,
							client: func(c *testpeer.ClientConfig) { c.NoNomination = !nominate }})
						l.Pipe.Delay, l.Pipe.Drop, l.Pipe.Dup, l.Pipe.Reorder = 5*time.Millisecond, 0.15, 0.1, 0.2
						l.connect(t, ConnectTimeout)
						t.Logf("connected after %v: %d datagrams sent, %d lost, %d delivered", l.Now.Sub(t0), l.Pipe.Sent, l.Pipe.Dropped, l.Pipe.Delivers)
						if l.p.Stats().SRTPProfile != prof || l.p.Stats().CipherSuite == 0 {
							t.Fatalf("stats %+v", l.p.Stats())
						}
						l.Pipe.Drop, l.Pipe.Dup, l.Pipe.Reorder = 0, 0, 0
						l.RunFor(time.Second) // late duplicates of the handshake
						l.pp.evs = nil
						s := l.sender(t)
						if keys := l.stream(t, s, frames); keys != 3 {
							t.Fatalf("%d keyframes, want 3; stats %+v", keys, l.p.Stats())
						}
						if st := l.p.Stats(); st.Frames != 61 || st.VideoPackets == 0 {
							t.Fatalf("stats %+v", st)
						}
						if l.c.RTCP == 0 || l.c.BadRTCP != 0 {
							t.Fatalf("client decrypted %d RTCP packets, %d failed", l.c.RTCP, l.c.BadRTCP)
						}
					})
				}
			}
		}
	}
}

// TestCookieTampered: a ClientHello whose cookie was altered is answered
// with a new HelloVerifyRequest, never a ServerHello (RFC 6347 §4.2.1);
// the handshake goes on once an unaltered cookie comes.
func TestCookieTampered(t *testing.T) {
	for _, times := range []int{1, 1 << 30} {
		l := newLink(t, linkOpts{})
		tampered := 0
		seen := watch(l, func(d *testpeer.Datagram) bool {
			if c := helloCookie(d.Data); c != nil && tampered < times {
				c[len(c)/2] ^= 0x40
				tampered++
			}
			return true
		})
		l.c.Start(l.Now)
		err := l.RunUntil(10*time.Second, func() bool { return l.c.Connected || l.c.Err != nil })
		if times == 1 {
			if err != nil || !l.c.Connected || l.p.State() != StateConnected {
				t.Fatalf("one bad cookie: client %v (%v), peer %v", l.c.Connected, l.c.Err, l.p.State())
			}
			if seen[hsHelloVerifyRequest] != 2 || seen[hsServerHello] != 1 {
				t.Fatalf("peer sent %v", seen)
			}
			continue
		}
		t.Logf("%d tampered hellos; peer sent %v; client: %v", tampered, seen, l.c.Err)
		if tampered < 2 || seen[hsServerHello] != 0 || seen[hsHelloVerifyRequest] != tampered+1 {
			t.Fatalf("%d tampered hellos; peer sent %v", tampered, seen)
		}
		if l.p.State() != StateChecking || l.c.Connected {
			t.Fatalf("peer %v after bad cookies", l.p.State())
		}
	}
}

// TestCookieForeignAddress: the hello that carries the cookie, sent from an
// address ICE never checked, is dropped unanswered; the client's
// retransmission from its checked address completes the handshake.
func TestCookieForeignAddress(t *testing.T) {
	l := newLink(t, linkOpts{})
	moved := 0
	seen := watch(l, func(d *testpeer.Datagram) bool {
		if helloCookie(d.Data) != nil && moved == 0 {
			d.From = other
			moved++
		}
		return true
	})
	sentToOther := 0
	watchFilter := l.Pipe.Filter
	l.Pipe.Filter = func(d *testpeer.Datagram) bool {
		if d.From == server && d.To == other {
			sentToOther++
		}
		return watchFilter(d)
	}
	l.c.MoveTo(client) // receive on both
	l.c.Start(l.Now)
	dropped := func() uint64 { return l.p.Stats().Dropped }
	if err := l.RunUntil(time.Second/2, func() bool { return moved == 1 && l.Pipe.InFlight() == 0 }); err != nil {
		t.Fatal(err)
	}
	if d := dropped(); d != 1 || seen[hsServerHello] != 0 || sentToOther != 0 {
		t.Fatalf("cookie hello from %v: %d dropped, peer sent %v, %d to it", other, d, seen, sentToOther)
	}
	l.connect(t, ConnectTimeout)
	if seen[hsServerHello] != 1 || sentToOther != 0 {
		t.Fatalf("peer sent %v, %d to the foreign address", seen, sentToOther)
	}
}

// TestCookieExpired: a cookie is good for its time slot and the next
// (dtls cookieSlot, 60 s); a hello that carries it later gets a new
// HelloVerifyRequest, not a ServerHello. (In a running peer ConnectTimeout
// ends the attempt first; this checks the DTLS server's own limit inside
// the peer.)
func TestCookieExpired(t *testing.T) {
	for _, after := range []time.Duration{time.Second, 121 * time.Second} {
		l := newLink(t, linkOpts{})
		var held []byte
		watch(l, func(d *testpeer.Datagram) bool {
			if helloCookie(d.Data) != nil {
				if held == nil {
					held = bytes.Clone(d.Data)
				}
				return false // held back: the peer sees it only below
			}
			return true
		})
		l.c.Start(l.Now)
		l.RunFor(200 * time.Millisecond)
		if held == nil {
			t.Fatal("no cookie hello")
		}
		l.pp.out = nil
		l.p.Handle(t0.Add(after), client, held)
		l.pp.collect()
		var got []uint8
		for _, d := range l.pp.out {
			if typ, ok := handshakeType(d.Data); ok {
				got = append(got, typ)
			}
		}
		want := []uint8{hsServerHello}
		if after > time.Minute {
			want = []uint8{hsHelloVerifyRequest}
		}
		if len(got) == 0 || got[0] != want[0] {
			t.Fatalf("cookie %v old: peer sent handshake types %v, want %v first", after, got, want)
		}
		if after > time.Minute && bytes.Contains(got, []byte{hsServerHello}) {
			t.Fatalf("ServerHello for an expired cookie: %v", got)
		}
	}
}

// TestConsentExpiresTwoParty: the client keeps the peer alive with
// authenticated SRTP, or with nothing but SRTCP sender reports, for twice
// ConsentTimeout; then it sends only forged media (right header, wrong
// tag). ConsentTimeout after its last authenticated packet the peer is gone
// (RFC 7675 §5.1), not before. No ICE check is sent after the handshake.
func TestConsentExpiresTwoParty(t *testing.T) {
	frames := ivfFrames(t)
	for _, passive := range []bool{false, true} {
		for _, keep := range []string{"srtp", "srtcp"} {
			t.Run(fmt.Sprintf("passive=%v/%s", passive, keep), func(t *testing.T) {
				l, s := connectedLink(t, linkOpts{passive: passive, media: RemoteMedia{NACK: true}})
				var last time.Time
				end := l.Now.Add(2 * ConsentTimeout)
				for i := 0; l.Now.Before(end); i++ {
					interval := 33 * time.Millisecond
					if keep == "srtp" {
						for _, pk := range s.packetize(frames[i%len(frames)]) {
							l.c.Send(pk)
						}
					} else {
						interval = 5 * time.Second
						l.c.Send(s.sr(s.ssrc, l.Now, uint32(i)*90000*5))
					}
					last = l.Now
					l.RunFor(interval)
					if l.p.State() != StateConnected {
						t.Fatalf("%v after %v of %s", l.p.State(), l.Now.Sub(t0), keep)
					}
				}
				forged := s.packetize(frames[1])[0]
				forged[len(forged)-1] ^= 1
				for l.Now.Before(last.Add(ConsentTimeout - ReportInterval)) {
					l.c.Send(forged)
					l.RunFor(time.Second)
				}
				if l.p.State() != StateConnected {
					t.Fatalf("%v %v after the last packet", l.p.State(), l.Now.Sub(last))
				}
				if err := l.RunUntil(2*ReportInterval, func() bool { return l.p.State().Done() }); err != nil {
					t.Fatalf("still %v %v after the last packet", l.p.State(), l.Now.Sub(last))
				}
				if gone := l.Now.Sub(last); gone > ConsentTimeout {
					t.Fatalf("gone %v after the last packet", gone)
				}
			})
		}
	}
}
