package peer

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtcp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"

	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
)

var (
	t0     = time.Unix(1_000_000, 0)
	client = netip.MustParseAddrPort("127.0.0.1:50000")
	other  = netip.MustParseAddrPort("127.0.0.1:50001")
)

const (
	localUfrag  = "srvufrag"
	localPwd    = "serverpasswordserverpassword"
	remoteUfrag = "cliufrag"
	remotePwd   = "clientpasswordclientpassword"
)

func newTestPeer(t testing.TB) *Peer {
	t.Helper()
	cert, err := dtls.GenerateCertificate(rand.Reader, t0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{LocalUfrag: localUfrag, LocalPwd: localPwd, Certificate: cert, Rand: rand.Reader}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func remote() sdp.Remote {
	return sdp.Remote{
		ICEUfrag: remoteUfrag, ICEPwd: remotePwd, Setup: "active", VideoPT: 96, AudioPT: 111,
		Fingerprints: []sdp.Fingerprint{{Algorithm: "sha-256", Value: "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"}},
	}
}

// drain collects the events of the last call, zeroing nothing: tests read
// the data before the next call, as the contract says.
func drain(p *Peer) []Event {
	var evs []Event
	for ev, ok := p.Poll(); ok; ev, ok = p.Poll() {
		if ev.Kind == Transmit {
			ev.Data = bytes.Clone(ev.Data)
		}
		evs = append(evs, ev)
	}
	return evs
}

func count(evs []Event, k EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func stateOf(evs []Event) (State, bool) {
	for _, e := range evs {
		if e.Kind == StateChange {
			return e.State, true
		}
	}
	return 0, false
}

func bindingRequest(t testing.TB, pwd string) []byte {
	return checkRequest(t, pwd, false)
}

func TestICEBindsOnlyAuthenticated(t *testing.T) {
	p := newTestPeer(t)
	p.Handle(t0, client, bindingRequest(t, "wrong-password-wrong-password"))
	evs := drain(p)
	if count(evs, Bind) != 0 || p.State() != StateNew {
		t.Fatalf("bad integrity bound an address: %+v", evs)
	}
	p.Handle(t0, client, bindingRequest(t, localPwd))
	evs = drain(p)
	if count(evs, Bind) != 1 || count(evs, Transmit) != 1 {
		t.Fatalf("events %+v", evs)
	}
	if s, _ := stateOf(evs); s != StateChecking {
		t.Fatalf("state %v", s)
	}
	var resp stun.Message
	for _, e := range evs {
		if e.Kind == Transmit {
			if e.Addr != client || resp.Decode(e.Data) != nil || resp.Type != stun.TypeBindingSuccess {
				t.Fatalf("response %+v", e)
			}
		}
	}
	// A second check from the same address binds nothing new (it only
	// re-asserts the route).
	p.Handle(t0, client, bindingRequest(t, localPwd))
	if evs := drain(p); count(evs, Bind) != 1 || count(evs, Unbind) != 0 || len(p.bound) != 1 {
		t.Fatalf("bound twice: %v", p.bound)
	}
}

// A DTLS ClientHello-like record: content type 22, version DTLS 1.0.
var dtlsRecord = []byte{22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}

func TestDTLSOnlyFromBoundAddress(t *testing.T) {
	p := newTestPeer(t)
	if err := p.SetRemote(t0, remote(), RemoteMedia{NACK: true}); err != nil {
		t.Fatal(err)
	}
	drain(p)
	p.Handle(t0, client, dtlsRecord)
	if evs := drain(p); len(evs) != 0 || p.dtls != nil {
		t.Fatalf("DTLS from an unbound address: %+v", evs)
	}
	p.Handle(t0, client, bindingRequest(t, localPwd))
	drain(p)
	p.Handle(t0, other, dtlsRecord)
	if p.dtls != nil {
		t.Fatal("DTLS server started for another address")
	}
	p.Handle(t0, client, dtlsRecord)
	if p.dtls == nil {
		t.Fatal("DTLS server not started for the bound address")
	}
	// SRTP before keys: dropped.
	before := p.Stats().Dropped
	p.Handle(t0, client, []byte{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0})
	if p.Stats().Dropped != before+1 {
		t.Fatal("SRTP before the handshake not dropped")
	}
}

func TestDTLSBeforeAnswerDropped(t *testing.T) {
	p := newTestPeer(t)
	p.Handle(t0, client, bindingRequest(t, localPwd))
	drain(p)
	p.Handle(t0, client, dtlsRecord)
	if p.dtls != nil {
		t.Fatal("DTLS server started without the answer's fingerprint")
	}
}

func TestSetRemoteChecks(t *testing.T) {
	p := newTestPeer(t)
	r := remote()
	r.Setup = "holdconn"
	if p.SetRemote(t0, r, RemoteMedia{}) == nil {
		t.Fatal("holdconn accepted")
	}
	r = remote()
	r.Fingerprints = nil
	if p.SetRemote(t0, r, RemoteMedia{}) == nil {
		t.Fatal("no fingerprint accepted")
	}
	if err := p.SetRemote(t0, remote(), RemoteMedia{NACK: true}); err != nil {
		t.Fatal(err)
	}
	if p.SetRemote(t0, remote(), RemoteMedia{NACK: true}) == nil {
		t.Fatal("second answer accepted")
	}
}

func TestConnectTimeout(t *testing.T) {
	p := newTestPeer(t)
	if d := p.Deadline(); !d.Equal(t0.Add(ConnectTimeout)) {
		t.Fatalf("deadline %v", d)
	}
	p.HandleTimeout(t0.Add(ConnectTimeout - time.Millisecond))
	if p.State() != StateNew {
		t.Fatal("failed early")
	}
	p.HandleTimeout(t0.Add(ConnectTimeout))
	if s, _ := stateOf(drain(p)); s != StateFailed || !p.Deadline().IsZero() {
		t.Fatalf("state %v", s)
	}
	// A final state ignores everything.
	p.Handle(t0.Add(ConnectTimeout), client, bindingRequest(t, localPwd))
	if evs := drain(p); len(evs) != 0 {
		t.Fatalf("events after failure: %+v", evs)
	}
}

// sender is the client side of SRTP in the media tests.
type sender struct {
	t      testing.TB
	out    *srtp.Context // client's write key
	in     *srtp.Context // server's write key: decrypts our RTCP
	seq    uint16
	ts     uint32
	ssrc   uint32
	nacked []uint16
}

// ivfFrames reads the VP8 test stream.
func ivfFrames(t testing.TB) [][]byte { return testivf.Must(t, testivf.VP8) }

// packetize splits a frame into SRTP packets with a minimal VP8 payload
// descriptor (RFC 7741 §4.2: S bit on the first packet, PID 0).
func (s *sender) packetize(frame []byte) [][]byte {
	const chunk = 1000
	var pkts [][]byte
	for off := 0; off < len(frame); off += chunk {
		end := min(off+chunk, len(frame))
		h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc, Marker: end == len(frame)}
		s.seq++
		pkt := h.MarshalTo(nil)
		desc := byte(0)
		if off == 0 {
			desc = 0x10
		}
		pkt = append(pkt, desc)
		pkt = append(pkt, frame[off:end]...)
		enc, err := s.out.EncryptRTP(nil, pkt, nil)
		if err != nil {
			s.t.Fatal(err)
		}
		pkts = append(pkts, enc)
	}
	s.ts += 3000
	return pkts
}

// rtcpOf decrypts the server's RTCP in evs and counts PLIs and RRs, and
// collects the sequence numbers NACKed.
func (s *sender) rtcpOf(evs []Event) (plis, rrs int) {
	for _, e := range evs {
		if e.Kind != Transmit || len(e.Data) < 2 || e.Data[1] < 192 || e.Data[1] > 223 {
			continue
		}
		plain, err := s.in.DecryptRTCP(nil, e.Data)
		if err != nil {
			s.t.Fatalf("our RTCP does not decrypt: %v", err)
		}
		it := rtcp.NewIterator(plain)
		for it.Next() {
			pk := it.Packet()
			switch {
			case pk.Type == rtcp.TypeRR:
				rrs++
			case pk.IsNACK():
				s.nacked = pk.AppendNACKLost(s.nacked)
			case pk.IsPLI():
				if pk.MediaSSRC() != s.ssrc {
					s.t.Fatalf("PLI for %#x", pk.MediaSSRC())
				}
				plis++
			}
		}
		if it.Err() != nil {
			s.t.Fatal(it.Err())
		}
	}
	return plis, rrs
}

type run struct {
	keyframes []Event
	plis, rrs int
}

// feed sends pkts at now, then runs due timers, collecting what came out.
func feed(t *testing.T, p *Peer, s *sender, now time.Time, pkts [][]byte, r *run) {
	t.Helper()
	collect := func() {
		evs := drain(p)
		for _, e := range evs {
			if e.Kind == Keyframe {
				r.keyframes = append(r.keyframes, e)
			}
		}
		pl, rr := s.rtcpOf(evs)
		r.plis += pl
		r.rrs += rr
	}
	for _, pk := range pkts {
		p.Handle(now, client, pk)
		collect()
	}
	for d := p.Deadline(); !d.IsZero() && !d.After(now); d = p.Deadline() {
		p.HandleTimeout(now)
		collect()
	}
}

func testStream(t *testing.T, prof srtp.Profile, shuffle bool) {
	p, s := connected(t, prof)
	frames := ivfFrames(t)[:61]
	var r run
	now := t0
	for i, f := range frames {
		pkts := s.packetize(f)
		if shuffle && len(pkts) > 1 {
			pkts[0], pkts[len(pkts)-1] = pkts[len(pkts)-1], pkts[0]
		}
		feed(t, p, s, now, pkts, &r)
		if i == 0 && r.plis != 1 {
			t.Fatalf("no PLI as SRTP came up: %d", r.plis)
		}
		now = now.Add(33 * time.Millisecond)
	}
	if len(r.keyframes) != 3 {
		t.Fatalf("%d keyframes, want 3 (frames 0, 30, 60); stats %+v", len(r.keyframes), p.Stats())
	}
	for _, k := range r.keyframes {
		if k.Width != 640 || k.Height != 480 || len(k.Data) == 0 || k.Data[0]&1 != 0 {
			t.Fatalf("keyframe %dx%d", k.Width, k.Height)
		}
	}
	if st := p.Stats(); st.Frames != 61 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
	if r.rrs < 2 {
		t.Fatalf("%d receiver reports in 2 s", r.rrs)
	}
	if r.plis != 1 {
		t.Fatalf("%d PLIs without loss", r.plis)
	}
}

func TestStreamInOrder(t *testing.T) {
	for _, prof := range []srtp.Profile{srtp.AES128CMHMACSHA1_80, srtp.AEADAES128GCM} {
		t.Run(prof.String(), func(t *testing.T) { testStream(t, prof, false) })
	}
}

func TestStreamReordered(t *testing.T) { testStream(t, srtp.AEADAES128GCM, true) }

func TestLossAsksForKeyframe(t *testing.T) {
	p, s := connected(t, srtp.AES128CMHMACSHA1_80)
	frames := ivfFrames(t)
	var r run
	now := t0
	var lostSeqs []uint16
	for i := 0; i < 10; i++ {
		pkts := s.packetize(frames[i])
		if i == 5 || i == 6 || i == 7 {
			lostSeqs = append(lostSeqs, binary.BigEndian.Uint16(pkts[0][2:4]))
			pkts = pkts[1:] // lose the head of three frames in a row
		}
		feed(t, p, s, now, pkts, &r)
		now = now.Add(33 * time.Millisecond)
	}
	// Timers run on: each lost packet is NACKed nackTries times, the gap is
	// given up and a PLI goes out once PLIMinInterval has passed since the
	// first.
	now = runUntil(t, p, s, now, t0.Add(time.Second), &r)
	if r.plis != 2 {
		t.Fatalf("%d PLIs, want the first and one (rate-limited) for the loss", r.plis)
	}
	if p.Stats().Lost != 3 {
		t.Fatalf("lost %d", p.Stats().Lost)
	}
	var want []uint16
	for _, q := range lostSeqs {
		for i := 0; i < nackTries; i++ {
			want = append(want, q)
		}
	}
	slices.Sort(s.nacked)
	if fmt.Sprint(s.nacked) != fmt.Sprint(want) {
		t.Fatalf("NACKed %v, want each of %v %d times", s.nacked, lostSeqs, nackTries)
	}
	// The next loss more than PLIMinInterval later asks again.
	now = now.Add(PLIMinInterval)
	pkts := s.packetize(frames[10])
	feed(t, p, s, now, append(pkts[1:], s.packetize(frames[11])...), &r)
	runUntil(t, p, s, now, now.Add(maxReorderWait), &r)
	if r.plis != 3 {
		t.Fatalf("%d PLIs after a second loss", r.plis)
	}
}

// runUntil runs the peer's timers from now to end in 5 ms steps, as a clock
// would, and returns end.
func runUntil(t *testing.T, p *Peer, s *sender, now, end time.Time, r *run) time.Time {
	t.Helper()
	for ; !now.After(end); now = now.Add(5 * time.Millisecond) {
		feed(t, p, s, now, nil, r)
	}
	return end
}

func TestPLIRepeatsUntilKeyframe(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := t0
	for i := 1; i < 29; i++ { // delta frames only, for ~0.9 s
		feed(t, p, s, now, s.packetize(frames[i]), &r)
		now = now.Add(33 * time.Millisecond)
	}
	for now.Before(t0.Add(4*PLIRepeat + time.Millisecond)) {
		now = now.Add(100 * time.Millisecond)
		feed(t, p, s, now, nil, &r)
	}
	if r.plis != 5 || len(r.keyframes) != 0 { // at 0, 2, 4, 6, 8 s
		t.Fatalf("%d PLIs, %d keyframes", r.plis, len(r.keyframes))
	}
	feed(t, p, s, now, s.packetize(frames[30]), &r)
	plis := r.plis
	for end := now.Add(10 * time.Second); now.Before(end); now = now.Add(500 * time.Millisecond) {
		p.Handle(now, client, bindingRequest(t, localPwd)) // keep consent
		drain(p)
		feed(t, p, s, now, nil, &r)
	}
	if len(r.keyframes) != 1 || r.plis != plis {
		t.Fatalf("PLIs went on after the keyframe: %d -> %d", plis, r.plis)
	}
}

func TestConsentExpires(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	var r run
	feed(t, p, s, t0, s.packetize(ivfFrames(t)[0]), &r)
	now := t0
	for p.State() == StateConnected && now.Before(t0.Add(2*ConsentTimeout)) {
		now = p.Deadline()
		p.HandleTimeout(now)
		for _, e := range drain(p) {
			if e.Kind == StateChange && e.State != StateClosed {
				t.Fatalf("state %v", e.State)
			}
		}
	}
	if p.State() != StateClosed || now.Sub(t0) != ConsentTimeout {
		t.Fatalf("state %v after %v", p.State(), now.Sub(t0))
	}
}

func TestGarbageNeverPanics(t *testing.T) {
	p, _ := connected(t, srtp.AEADAES128GCM)
	for _, b := range [][]byte{nil, {0}, {1, 1}, {22}, {0x80}, {0x80, 200}, bytes.Repeat([]byte{0x90}, 40), make([]byte, 2000), {64, 1, 2}} {
		p.Handle(t0, client, b)
		drain(p)
	}
	if p.State() != StateConnected {
		t.Fatalf("state %v", p.State())
	}
}

func FuzzHandleDatagram(f *testing.F) {
	f.Add([]byte{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Add(dtlsRecord)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _ := connected(t, srtp.AEADAES128GCM)
		p.Handle(t0, client, b)
		drain(p)
		p.HandleTimeout(t0.Add(time.Second))
		drain(p)
	})
}
