package peer

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/testpeer"

	"github.com/nutsbolts/webrtc/rtcplug/internal/demux"
)

// checkRequest is an ICE connectivity check from the controlling client,
// with USE-CANDIDATE when nominate is set.
func checkRequest(t testing.TB, pwd string, nominate bool) []byte {
	t.Helper()
	b, _, err := testpeer.CheckRequest(rand.Reader, localUfrag, remoteUfrag, pwd, nominate)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// passivePeer is a peer whose answer says a=setup:passive.
func passivePeer(t *testing.T) *Peer {
	t.Helper()
	p := newTestPeer(t)
	r := remote()
	r.Setup = "passive"
	if err := p.SetRemote(t0, r, RemoteMedia{}); err != nil {
		t.Fatal(err)
	}
	drain(p)
	return p
}

// dtlsSent records when the peer sent DTLS through the link's pipe.
func dtlsSent(l *link) *[]time.Time {
	var at []time.Time
	l.Pipe.Filter = func(d *testpeer.Datagram) bool {
		if d.From == server && demux.Classify(d.Data) == demux.KindDTLS {
			at = append(at, d.At)
		}
		return true
	}
	return &at
}

// passiveLink is a link whose answer says a=setup:passive, from a client
// that nominates only when the test says so.
func passiveLink(t *testing.T, late bool) (*link, *[]time.Time) {
	l := newLink(t, linkOpts{passive: true, late: late, client: func(c *testpeer.ClientConfig) { c.NoNomination = true }})
	return l, dtlsSent(l)
}

// TestPassiveAnswerNominated: with a=setup:passive we are the DTLS client.
// Nothing is sent before a check nominates the address; the check with
// USE-CANDIDATE starts the handshake toward it; the client's media, keyed
// with the DTLS server's half of the exported keys, decrypts (RFC 5764
// §4.2).
func TestPassiveAnswerNominated(t *testing.T) {
	l, sent := passiveLink(t, false)
	l.c.Start(l.Now)
	if err := l.RunUntil(time.Second, func() bool { return l.c.Responses == 1 }); err != nil {
		t.Fatal(err)
	}
	if len(*sent) != 0 {
		t.Fatal("DTLS started before nomination")
	}
	if d := l.p.Deadline(); !d.Equal(t0.Add(NominationWait)) {
		t.Fatalf("deadline %v, want the nomination fallback", d)
	}
	l.Now = t0.Add(20 * time.Millisecond)
	l.c.Check(l.Now, true)
	if err := l.RunUntil(time.Second, func() bool { return len(*sent) > 0 }); err != nil {
		t.Fatal(err)
	}
	if !(*sent)[0].Equal(l.Now) || !logged(l.pp.evs, "ClientHello sent (we are the DTLS client)") {
		t.Fatalf("no ClientHello narrated at the nomination: %v, %+v", *sent, l.pp.evs)
	}
	if err := l.RunUntil(time.Second, func() bool { return l.c.Connected && l.p.State() == StateConnected }); err != nil {
		t.Fatal(err)
	}
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 1, Timestamp: 1, SSRC: 0x99, Marker: true}
	enc, err := l.c.Out.EncryptRTP(nil, append(h.MarshalTo(nil), 0x10, 1, 2, 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	l.c.Send(enc)
	l.RunFor(10 * time.Millisecond)
	if st := l.p.Stats(); st.VideoPackets != 1 {
		t.Fatalf("media with the server's key not decrypted: %+v", st)
	}
}

// TestPassiveAnswerWithoutNomination: a controlling agent that never
// nominates still gets a handshake, NominationWait after its first check.
func TestPassiveAnswerWithoutNomination(t *testing.T) {
	l, sent := passiveLink(t, false)
	l.c.Start(l.Now)
	if err := l.RunUntil(2*time.Second, func() bool { return l.c.Connected && l.p.State() == StateConnected }); err != nil {
		t.Fatal(err)
	}
	if !(*sent)[0].Equal(t0.Add(NominationWait)) {
		t.Fatalf("first ClientHello at %v", (*sent)[0].Sub(t0))
	}
}

// TestPassiveAnswerIgnoresServerRecords: as the client we never start a
// DTLS server for a record that comes before our hello.
func TestPassiveAnswerIgnoresServerRecords(t *testing.T) {
	p := passivePeer(t)
	p.Handle(t0, client, bindingRequest(t, localPwd))
	drain(p)
	p.Handle(t0, client, []byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	if p.dtls != nil {
		t.Fatal("DTLS server started although the answer is passive")
	}
}

// TestPassiveAnswerAfterChecks: checks that came before the answer count
// once it is applied: a nomination starts the client at once, a plain
// check starts the wait.
func TestPassiveAnswerAfterChecks(t *testing.T) {
	for _, nominate := range []bool{true, false} {
		l, sent := passiveLink(t, true)
		l.c.Check(l.Now, nominate)
		l.RunFor(time.Second)
		if l.c.Responses != 1 || len(*sent) != 0 {
			t.Fatalf("%d responses, DTLS at %v", l.c.Responses, *sent)
		}
		l.answerNow(t)
		want := l.Now
		if !nominate {
			want = l.Now.Add(NominationWait)
			if !l.p.Deadline().Equal(want) {
				t.Fatalf("deadline %v", l.p.Deadline())
			}
		}
		if err := l.RunUntil(2*time.Second, func() bool { return l.c.Connected && l.p.State() == StateConnected }); err != nil {
			t.Fatal(err)
		}
		if !(*sent)[0].Equal(want) {
			t.Fatalf("nominate=%v: first ClientHello %v after the answer", nominate, (*sent)[0].Sub(t0.Add(time.Second)))
		}
	}
}

func logged(evs []Event, msg string) bool {
	for _, e := range evs {
		if e.Kind == Log && e.Msg == msg {
			return true
		}
	}
	return false
}
