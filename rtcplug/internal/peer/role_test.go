package peer

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

func nominatingRequest(t testing.TB) []byte {
	return checkRequest(t, localPwd, true)
}

// checkRequest is an ICE connectivity check from the controlling client,
// with USE-CANDIDATE when nominate is set.
func checkRequest(t testing.TB, pwd string, nominate bool) []byte {
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
	if nominate {
		m.AddUseCandidate()
	}
	m.AddIntegrity([]byte(pwd))
	m.AddFingerprint()
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(m.Raw)
}

// passivePeer is a peer whose answer says a=setup:passive, and the DTLS
// server (ours, standing in for the remote) it must reach.
func passivePeer(t *testing.T) (*Peer, *dtls.Server) {
	t.Helper()
	p := newTestPeer(t)
	r, srv := passiveRemote(t, p)
	if err := p.SetRemote(t0, r, RemoteMedia{}); err != nil {
		t.Fatal(err)
	}
	drain(p)
	return p, srv
}

// passiveRemote is a passive answer for p and the server behind it.
func passiveRemote(t *testing.T, p *Peer) (sdp.Remote, *dtls.Server) {
	t.Helper()
	cert, err := dtls.GenerateCertificate(rand.Reader, t0)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := dtls.ParseFingerprint("sha-256", p.cfg.Certificate.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dtls.NewServer(dtls.Config{Certificate: cert, ExpectedFingerprints: []dtls.Fingerprint{fp}}, client)
	if err != nil {
		t.Fatal(err)
	}
	r := remote()
	r.Setup = "passive"
	r.Fingerprints = []sdp.Fingerprint{{Algorithm: "sha-256", Value: cert.Fingerprint()}}
	return r, srv
}

// handshake pumps datagrams between the peer's DTLS client (first flight in
// evs) and srv until the peer is connected.
func handshake(t *testing.T, p *Peer, srv *dtls.Server, now time.Time, evs []Event) {
	t.Helper()
	for range 20 {
		for _, ev := range evs {
			if ev.Kind == Transmit && ev.Addr == client && Classify(ev.Data) == KindDTLS {
				_ = srv.HandleDatagram(now, ev.Data)
			}
		}
		evs = nil
		for d := srv.PollTransmit(); d != nil; d = srv.PollTransmit() {
			p.HandleDatagram(now, client, bytes.Clone(d))
			evs = append(evs, drain(p)...)
		}
		if p.State() == StateConnected {
			return
		}
	}
	t.Fatalf("not connected: state %v", p.State())
}

// TestPassiveAnswerNominated: with a=setup:passive we are the DTLS client.
// Nothing is sent before a check nominates the address; the check with
// USE-CANDIDATE starts the handshake toward it; the SRTP keys are swapped
// (we decrypt with the server's half, RFC 5764 §4.2).
func TestPassiveAnswerNominated(t *testing.T) {
	p, srv := passivePeer(t)
	p.HandleDatagram(t0, client, bindingRequest(t, localPwd))
	evs := drain(p)
	if count(evs, Transmit) != 1 || p.dtls != nil {
		t.Fatalf("DTLS started before nomination: %+v", evs)
	}
	if d := p.Deadline(); !d.Equal(t0.Add(NominationWait)) {
		t.Fatalf("deadline %v, want the nomination fallback", d)
	}
	now := t0.Add(20 * time.Millisecond)
	p.HandleDatagram(now, client, nominatingRequest(t))
	evs = drain(p)
	if p.dtls == nil || count(evs, Transmit) != 2 {
		t.Fatalf("no ClientHello after USE-CANDIDATE: %+v", evs)
	}
	if !logged(evs, "ClientHello sent (we are the DTLS client)") {
		t.Fatalf("ClientHello not narrated: %+v", evs)
	}
	handshake(t, p, srv, now, evs)

	prof := p.Profile()
	km, err := srv.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, srtp.KeyingMaterialLen(prof))
	if err != nil {
		t.Fatal(err)
	}
	_, _, sk, ss, err := srtp.SplitKeyingMaterial(prof, km)
	if err != nil {
		t.Fatal(err)
	}
	out, err := srtp.NewContext(prof, sk, ss)
	if err != nil {
		t.Fatal(err)
	}
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 1, Timestamp: 1, SSRC: 0x99, Marker: true}
	pkt := append(h.MarshalTo(nil), 0x10, 1, 2, 3)
	enc, err := out.EncryptRTP(nil, pkt, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.HandleDatagram(now, client, enc)
	drain(p)
	if st := p.Stats(); st.VideoPackets != 1 {
		t.Fatalf("media with the server's key not decrypted: %+v", st)
	}
}

// TestPassiveAnswerWithoutNomination: a controlling agent that never
// nominates still gets a handshake, NominationWait after its first check.
func TestPassiveAnswerWithoutNomination(t *testing.T) {
	p, srv := passivePeer(t)
	p.HandleDatagram(t0, client, bindingRequest(t, localPwd))
	drain(p)
	p.HandleTimeout(t0.Add(NominationWait - time.Millisecond))
	if p.dtls != nil {
		t.Fatal("started early")
	}
	now := t0.Add(NominationWait)
	p.HandleTimeout(now)
	evs := drain(p)
	if p.dtls == nil || count(evs, Transmit) != 1 || !p.roleDeadline().IsZero() {
		t.Fatalf("no ClientHello at the fallback: %+v", evs)
	}
	handshake(t, p, srv, now, evs)
}

// TestPassiveAnswerIgnoresServerRecords: as the client we never start a
// DTLS server for a record that comes before our hello.
func TestPassiveAnswerIgnoresServerRecords(t *testing.T) {
	p, _ := passivePeer(t)
	p.HandleDatagram(t0, client, bindingRequest(t, localPwd))
	drain(p)
	p.HandleDatagram(t0, client, []byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	if p.dtls != nil {
		t.Fatal("DTLS server started although the answer is passive")
	}
}

// TestPassiveAnswerAfterChecks: checks that came before the answer count
// once it is applied: a nomination starts the client at once, a plain
// check starts the wait.
func TestPassiveAnswerAfterChecks(t *testing.T) {
	for _, nominate := range []bool{true, false} {
		p := newTestPeer(t)
		r, srv := passiveRemote(t, p)
		p.HandleDatagram(t0, client, checkRequest(t, localPwd, nominate))
		drain(p)
		now := t0.Add(time.Second)
		if err := p.SetRemote(now, r, RemoteMedia{}); err != nil {
			t.Fatal(err)
		}
		evs := drain(p)
		if nominate {
			if p.dtls == nil || count(evs, Transmit) != 1 {
				t.Fatalf("nominated before the answer: %+v", evs)
			}
			handshake(t, p, srv, now, evs)
			continue
		}
		if p.dtls != nil || !p.Deadline().Equal(now.Add(NominationWait)) {
			t.Fatalf("deadline %v", p.Deadline())
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
