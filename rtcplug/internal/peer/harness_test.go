package peer

import (
	"bytes"
	"crypto/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/testpeer"
)

// server is the peer's address in the two-party tests.
var server = netip.MustParseAddrPort("127.0.0.1:40000")

// peerParty drives a Peer as one end of a testpeer.Pair: its transmits go
// into the pipe, the other events are kept for the test.
type peerParty struct {
	p   *Peer
	out []testpeer.Datagram
	evs []Event
}

func (pp *peerParty) collect() {
	for ev, ok := pp.p.Poll(); ok; ev, ok = pp.p.Poll() {
		if ev.Kind == Transmit {
			pp.out = append(pp.out, testpeer.Datagram{From: server, To: ev.Addr, Data: bytes.Clone(ev.Data)})
			continue
		}
		pp.evs = append(pp.evs, ev)
	}
}

func (pp *peerParty) HandleDatagram(now time.Time, from, _ netip.AddrPort, b []byte) {
	pp.p.Handle(now, from, b)
	pp.collect()
}

func (pp *peerParty) HandleTimeout(now time.Time) {
	pp.p.HandleTimeout(now)
	pp.collect()
}

func (pp *peerParty) Deadline() time.Time { return pp.p.Deadline() }

func (pp *peerParty) Owns(a netip.AddrPort) bool { return a == server }

func (pp *peerParty) Drain(send func(from, to netip.AddrPort, b []byte)) {
	for _, d := range pp.out {
		send(d.From, d.To, d.Data)
	}
	pp.out = pp.out[:0]
}

// linkOpts shape a link; the zero value is a browser-like active client
// that nominates at once, over a perfect pipe.
type linkOpts struct {
	passive  bool            // the answer says a=setup:passive: the peer is the DTLS client
	profile  srtp.Profile    // the only SRTP profile the client offers; 0: the defaults
	config   func(c *Config) // edits the peer's Config
	media    RemoteMedia
	answer   func(r *sdp.Remote) // edits the answer before SetRemote
	client   func(c *testpeer.ClientConfig)
	pipeSeed uint64
	late     bool // the test applies the answer (link.answerNow)
}

// link is our peer and a client stack facing each other in virtual time.
type link struct {
	*testpeer.Pair
	p     *Peer
	c     *testpeer.Client
	pp    *peerParty
	r     sdp.Remote
	media RemoteMedia
}

// newLink creates the peer (answer applied at t0) and the client, which
// has sent nothing yet.
func newLink(t testing.TB, o linkOpts) *link {
	t.Helper()
	cert, err := dtls.GenerateCertificate(rand.Reader, t0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{LocalUfrag: localUfrag, LocalPwd: localPwd, Certificate: cert, Rand: rand.Reader}
	if o.config != nil {
		o.config(&cfg)
	}
	p, err := New(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	cc := testpeer.ClientConfig{
		Addr: client, Server: server,
		ServerUfrag: localUfrag, ServerPwd: localPwd, Ufrag: remoteUfrag, Pwd: remotePwd,
		ServerFingerprint: cert.Fingerprint(), Passive: o.passive,
	}
	if o.profile != 0 {
		cc.SRTPProfiles = []srtp.Profile{o.profile}
	}
	if o.client != nil {
		o.client(&cc)
	}
	c, err := testpeer.NewClient(cc, t0)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Answer()
	r.VideoPT, r.AudioPT = 96, 111
	if o.answer != nil {
		o.answer(&r)
	}
	pp := &peerParty{p: p}
	l := &link{Pair: testpeer.NewPair(pp, c, t0), p: p, c: c, pp: pp, r: r, media: o.media}
	if o.pipeSeed != 0 {
		l.Pipe.Seed(o.pipeSeed)
	}
	if !o.late {
		l.answerNow(t)
	}
	return l
}

// answerNow applies the client's answer to the peer at the link's time.
func (l *link) answerNow(t testing.TB) {
	t.Helper()
	if err := l.p.SetRemote(l.Now, l.r, l.media); err != nil {
		t.Fatal(err)
	}
	l.pp.collect()
	l.Flush()
}

// connect runs the client's ICE checks and the DTLS handshake until both
// ends have their SRTP keys, within d of virtual time.
func (l *link) connect(t testing.TB, d time.Duration) {
	t.Helper()
	l.c.Start(l.Now)
	err := l.RunUntil(d, func() bool {
		return (l.p.State() == StateConnected && l.c.Connected) || l.p.State().Done() || l.c.Err != nil
	})
	if err != nil || l.p.State() != StateConnected || !l.c.Connected || l.c.Err != nil {
		t.Fatalf("not connected at %v: peer %v, client connected %v, err %v / %v", l.Now.Sub(t0), l.p.State(), l.c.Connected, l.c.Err, err)
	}
	if l.p.Profile() != l.c.Profile {
		t.Fatalf("profiles: peer %v, client %v", l.p.Profile(), l.c.Profile)
	}
}

// sender is the test side of the media after a real handshake.
func (l *link) sender(t testing.TB) *sender {
	return &sender{t: t, out: l.c.Out, in: l.c.In, seq: 65500, ssrc: 0x1234}
}

// connectedLink is a link through ICE, DTLS and the SRTP key export at t0
// over a perfect pipe, with the peer's events of the setup drained.
func connectedLink(t testing.TB, o linkOpts) (*link, *sender) {
	t.Helper()
	l := newLink(t, o)
	l.connect(t, time.Second)
	if !l.Now.Equal(t0) {
		t.Fatalf("a perfect pipe took %v", l.Now.Sub(t0))
	}
	l.pp.evs = nil
	return l, l.sender(t)
}

// connected returns a peer that passed the real ICE check, DTLS handshake
// and SRTP key export against the client stack, at t0, and the client's
// media side. The answer asks for generic NACKs, as browsers' do.
func connected(t testing.TB, prof srtp.Profile) (*Peer, *sender) {
	t.Helper()
	l, s := connectedLink(t, linkOpts{profile: prof, media: RemoteMedia{NACK: true}})
	return l.p, s
}
