package peer

import (
	"bytes"
	"crypto/rand"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

// nominatingCheck is a Binding request from the client with USE-CANDIDATE,
// as an attacker on the path would capture it.
func nominatingCheck(t testing.TB) []byte {
	t.Helper()
	var m stun.Message
	m.Reset()
	m.SetType(stun.TypeBindingRequest)
	if err := m.NewTransactionID(rand.Reader); err != nil {
		t.Fatal(err)
	}
	m.AddUsername(localUfrag + ":" + remoteUfrag)
	m.AddPriority(0x6e7f1eff)
	m.AddICEControlling(42)
	m.AddUseCandidate()
	m.AddIntegrity([]byte(localPwd))
	m.AddFingerprint()
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(m.Raw)
}

func attacker(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(40000+i))
}

// rtcpDest runs the report timer and returns where the reports went.
func rtcpDest(t *testing.T, p *Peer, now time.Time) []netip.AddrPort {
	t.Helper()
	p.HandleTimeout(now)
	var to []netip.AddrPort
	for _, e := range drain(p) {
		if e.Kind == Transmit && len(e.Data) > 1 && e.Data[1] >= 192 && e.Data[1] <= 223 {
			to = append(to, e.Addr)
		}
	}
	return to
}

// issue: a captured check replayed from many addresses hijacked the media
// path, evicted the address carrying SRTP and kept a vanished client's peer
// alive. Replays earn a response at most; the destination, the bound set and
// consent do not move.
func TestReplayedCheckMovesNothing(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	captured := nominatingCheck(t)
	p.Handle(t0, client, captured)
	drain(p)
	var r run
	now := streamFrames(t, p, s, t0, frames[:3], &r)
	bound := slices.Clone(p.bound)

	// Within the retransmission cache: every copy, from anywhere, gets the
	// old response and changes nothing at all.
	for i := 0; i < 200; i++ {
		p.Handle(now, attacker(i%50), captured)
		evs := drain(p)
		if count(evs, Bind) != 0 || count(evs, Unbind) != 0 || count(evs, StateChange) != 0 || count(evs, Transmit) != 1 {
			t.Fatalf("replay %d: %+v", i, evs)
		}
	}
	if !slices.Equal(p.bound, bound) || p.dest != client {
		t.Fatalf("after replays: bound %v dest %v", p.bound, p.dest)
	}

	// Past the cache (the client made many checks since), a replay is
	// processed again: it may bind the replaying address, but never moves
	// the destination nor evicts the address carrying SRTP.
	for i := 0; i < 100; i++ {
		p.Handle(now, client, bindingRequest(t, localPwd))
		drain(p)
	}
	for i := 0; i < 3*maxBound; i++ {
		p.Handle(now, attacker(100+i), captured)
		for _, e := range drain(p) {
			if e.Kind == Unbind && e.Addr == client {
				t.Fatal("the address carrying SRTP was unbound")
			}
		}
		if !p.isBound(client) || p.dest != client {
			t.Fatalf("replay %d: bound %v dest %v", i, p.bound, p.dest)
		}
		if len(p.bound) > maxBound {
			t.Fatalf("%d bound", len(p.bound))
		}
	}
	now = streamFrames(t, p, s, now, frames[3:5], &r)
	if to := rtcpDest(t, p, now.Add(2*ReportInterval)); len(to) == 0 || to[len(to)-1] != client {
		t.Fatalf("RTCP went to %v", to)
	}

	// The client vanishes; the replays go on every second. Consent rests on
	// authenticated media only, so the peer ends ConsentTimeout after the
	// last packet.
	last := now
	for i := 0; p.State() == StateConnected && i < 120; i++ {
		now = now.Add(time.Second)
		p.Handle(now, attacker(i%50), captured)
		drain(p)
		if d := p.Deadline(); !d.IsZero() && !d.After(now) {
			p.HandleTimeout(now)
			drain(p)
		}
	}
	if p.State() != StateClosed || now.Sub(last) > ConsentTimeout+time.Second {
		t.Fatalf("state %v %v after the last media", p.State(), now.Sub(last))
	}
}

// NAT rebinding still works with a full bound set: the client's check from
// its new address binds it (an old attacker address makes room), and its
// authenticated media moves RTCP there.
func TestRebindingAfterReplays(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := streamFrames(t, p, s, t0, frames[:2], &r)
	for i := 0; i < 2*maxBound; i++ {
		p.Handle(now, attacker(i), bindingRequest(t, localPwd)) // fresh, as if from a stale cache
		drain(p)
	}
	p.Handle(now, other, bindingRequest(t, localPwd))
	evs := drain(p)
	if !p.isBound(other) || !p.isBound(client) || count(evs, Unbind) != 1 || p.dest != client {
		t.Fatalf("bound %v dest %v events %+v", p.bound, p.dest, evs)
	}
	for _, pk := range s.packetize(frames[2]) {
		p.Handle(now, other, pk)
		drain(p)
	}
	if to := rtcpDest(t, p, now.Add(2*ReportInterval)); len(to) == 0 || to[len(to)-1] != other {
		t.Fatalf("RTCP went to %v, want %v", to, other)
	}
}

// Authenticated media reports its address as active once per change, for
// the routing table to protect.
func TestActiveEvents(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	active := 0
	send := func(from netip.AddrPort, f []byte) {
		for _, pk := range s.packetize(f) {
			p.Handle(t0, from, pk)
			for _, e := range drain(p) {
				if e.Kind == Active {
					if e.Addr != from {
						t.Fatalf("active %v, media from %v", e.Addr, from)
					}
					active++
				}
			}
		}
	}
	send(client, frames[0])
	send(client, frames[1])
	if active != 1 {
		t.Fatalf("%d Active events", active)
	}
	p.Handle(t0, other, bindingRequest(t, localPwd))
	drain(p)
	send(other, frames[2])
	if active != 2 {
		t.Fatalf("%d Active events after rebinding", active)
	}
}
