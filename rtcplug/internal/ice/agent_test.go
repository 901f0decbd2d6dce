package ice

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

// Credentials from testdata/pion-answer.sdp (the ICE-lite side, which the
// capture's checks are addressed to) and testdata/chromium156-offer.sdp.
const (
	localUfrag  = "wxwEaKUYrnfdHCnY"
	localPwd    = "GMqhsyrIRToHXKgsHPecZvbokKQUzzRX"
	remoteUfrag = "847+"
	remotePwd   = "jNW4ET/a3vMhkHYVVdYHtjTz"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// captureFrame returns datagram n of testdata/chromium156-pion-handshake.txt.
func captureFrame(t testing.TB, n int) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "chromium156-pion-handshake.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == strconv.Itoa(n) {
			b, err := hex.DecodeString(f[3])
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no frame %d", n)
	return nil
}

func decode(t testing.TB, b []byte) *stun.Message {
	t.Helper()
	var m stun.Message
	if err := m.Decode(b); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return &m
}

// request builds a Chromium-like Binding request: USERNAME,
// GOOG-NETWORK-INFO, ICE-CONTROLLING, PRIORITY, [USE-CANDIDATE], MI, FINGERPRINT.
type request struct {
	username   string
	pwd        string
	useCand    bool
	controlled bool   // ICE-CONTROLLED instead of ICE-CONTROLLING
	noPriority bool   // omit PRIORITY
	noMI       bool   // omit MESSAGE-INTEGRITY
	noFP       bool   // omit FINGERPRINT
	extra      uint16 // an extra attribute type, 0 for none
	typ        uint16 // message type, 0 = Binding request
}

// txSeq numbers the transactions request.build makes.
var txSeq uint32

func (r request) build(t testing.TB) *stun.Message {
	t.Helper()
	var m stun.Message
	m.Reset()
	typ := r.typ
	if typ == 0 {
		typ = stun.TypeBindingRequest
	}
	m.SetType(typ)
	// Each request is a new transaction: a repeated ID is a retransmission.
	txSeq++
	m.SetTransactionID([12]byte{'t', 'x', 'i', 'd', 1, 2, 3, 4, byte(txSeq >> 24), byte(txSeq >> 16), byte(txSeq >> 8), byte(txSeq)})
	m.AddUsername(r.username)
	m.Add(stun.AttrGoogNetworkInfo, []byte{0, 1, 0, 50})
	if r.controlled {
		m.AddICEControlled(0x5a6d129b012a568b)
	} else {
		m.AddICEControlling(0x5a6d129b012a568b)
	}
	if !r.noPriority {
		m.AddPriority(CandidatePriority(TypePrefPeerReflexive, 0x7f1e, 1))
	}
	if r.useCand {
		m.AddUseCandidate()
	}
	if r.extra != 0 {
		m.Add(r.extra, []byte{1, 2, 3, 4})
	}
	if !r.noMI {
		m.AddIntegrity([]byte(r.pwd))
	}
	if !r.noFP {
		m.AddFingerprint()
	}
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	return decode(t, m.Raw)
}

func chromeLike() request {
	return request{username: localUfrag + ":" + remoteUfrag, pwd: localPwd}
}

func newAgent() *Agent {
	a := NewAgent(localUfrag, localPwd)
	a.SetRemoteCredentials(remoteUfrag, remotePwd)
	return a
}

// The port Chromium sent from in the capture, read back from pion's answer.
func captureSrc(t testing.TB) netip.AddrPort {
	ap, err := decode(t, captureFrame(t, 2)).XORMappedAddress()
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

func TestCaptureMatchesPion(t *testing.T) {
	src := captureSrc(t)
	for _, remoteKnown := range []bool{true, false} {
		a := NewAgent(localUfrag, localPwd)
		if remoteKnown {
			a.SetRemoteCredentials(remoteUfrag, remotePwd)
		}
		resp, res := a.HandleBinding(t0, src, decode(t, captureFrame(t, 1)), nil)
		if !res.Authenticated || res.Nominated || res.Err != nil || res.Code != 0 {
			t.Fatalf("frame 1: %+v", res)
		}
		// Our answer is byte for byte pion's answer in the capture.
		if !bytes.Equal(resp, captureFrame(t, 2)) {
			t.Fatalf("response\n%x\npion sent\n%x", resp, captureFrame(t, 2))
		}
		resp, res = a.HandleBinding(t0.Add(time.Second), src, decode(t, captureFrame(t, 5)), resp[:0])
		if !res.Authenticated || !res.Nominated {
			t.Fatalf("frame 5: %+v", res)
		}
		if !bytes.Equal(resp, captureFrame(t, 6)) {
			t.Fatalf("response\n%x\npion sent\n%x", resp, captureFrame(t, 6))
		}
	}
}

func TestCaptureWrongCredentials(t *testing.T) {
	src := captureSrc(t)
	frame := decode(t, captureFrame(t, 1))

	// The right ufrag, the wrong password: 401 without MESSAGE-INTEGRITY.
	a := NewAgent(localUfrag, remotePwd)
	resp, res := a.HandleBinding(t0, src, frame, nil)
	if res.Authenticated || res.Code != CodeUnauthorized || !errors.Is(res.Err, ErrIntegrity) {
		t.Fatalf("wrong pwd: %+v", res)
	}
	r := decode(t, resp)
	if code, _, _ := r.ErrorCode(); r.Type != stun.TypeBindingError || code != 401 || r.TransactionID != frame.TransactionID {
		t.Fatalf("401 response %x", resp)
	}
	if r.HasIntegrity() || r.CheckFingerprint() != nil {
		t.Fatal("401 must carry FINGERPRINT and no MESSAGE-INTEGRITY")
	}
	assertNoState(t, a)

	// Another agent's ufrag: silence.
	b := NewAgent("someoneElse", localPwd)
	if resp, res := b.HandleBinding(t0, src, frame, []byte("x")); string(resp) != "x" || res.Authenticated || !errors.Is(res.Err, ErrUsername) {
		t.Fatalf("unknown ufrag: %q %+v", resp, res)
	}
	assertNoState(t, b)

	// The right local ufrag, a different remote one (an old session).
	c := NewAgent(localUfrag, localPwd)
	c.SetRemoteCredentials("abcd", remotePwd)
	if resp, res := c.HandleBinding(t0, src, frame, nil); resp != nil || res.Authenticated || !errors.Is(res.Err, ErrUsername) {
		t.Fatalf("other remote ufrag: %x %+v", resp, res)
	}
	assertNoState(t, c)
}

func assertNoState(t *testing.T, a *Agent) {
	t.Helper()
	for i := range a.txs {
		if a.txs[i].n != 0 {
			t.Fatal("a request that did not authenticate left state behind")
		}
	}
}

func TestUsernameForms(t *testing.T) {
	src := netip.MustParseAddrPort("192.0.2.10:5000")
	for _, tc := range []struct {
		user        string
		remoteKnown bool
		ok          bool
	}{
		{localUfrag + ":" + remoteUfrag, true, true},
		{localUfrag + ":" + remoteUfrag, false, true},
		{localUfrag + ":anything", false, true},
		{localUfrag + ":", false, false},
		{localUfrag, false, false},
		{localUfrag + ":" + remoteUfrag + "x", true, false},
		{localUfrag + "x:" + remoteUfrag, true, false},
		{remoteUfrag + ":" + localUfrag, true, false},
		{"", false, false},
	} {
		a := NewAgent(localUfrag, localPwd)
		if tc.remoteKnown {
			a.SetRemoteCredentials(remoteUfrag, remotePwd)
		}
		req := request{username: tc.user, pwd: localPwd}.build(t)
		_, res := a.HandleBinding(t0, src, req, nil)
		if res.Authenticated != tc.ok {
			t.Errorf("%q (remote known %v): %+v", tc.user, tc.remoteKnown, res)
		}
	}
}

func TestErrorResponses(t *testing.T) {
	src := netip.MustParseAddrPort("[2001:db8::7]:61000")
	for _, tc := range []struct {
		name   string
		req    request
		code   int
		err    error
		signed bool
	}{
		{"no MI", func() request { r := chromeLike(); r.noMI = true; return r }(), 400, ErrNoCredentials, false},
		{"no USERNAME", func() request { r := chromeLike(); r.username = ""; return r }(), 0, ErrUsername, false},
		{"bad MI", func() request { r := chromeLike(); r.pwd = "nope"; return r }(), 401, ErrIntegrity, false},
		{"unknown attribute", func() request { r := chromeLike(); r.extra = 0x7001; return r }(), 420, ErrUnknownAttr, true},
		{"role conflict", func() request { r := chromeLike(); r.controlled = true; return r }(), 487, ErrRoleConflict, true},
		{"no PRIORITY", func() request { r := chromeLike(); r.noPriority = true; return r }(), 400, ErrBadRequest, true},
		{"optional unknown is fine", func() request { r := chromeLike(); r.extra = 0x8fff; return r }(), 0, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAgent()
			resp, res := a.HandleBinding(t0, src, tc.req.build(t), nil)
			if !errors.Is(res.Err, tc.err) || res.Code != tc.code || res.Authenticated != (tc.err == nil) {
				t.Fatalf("%+v", res)
			}
			if tc.req.username == "" {
				// Without USERNAME the request fails the credential check
				// first: 400 like a missing MI.
				return
			}
			r := decode(t, resp)
			if r.CheckFingerprint() != nil {
				t.Fatal("response without a valid FINGERPRINT")
			}
			if tc.signed {
				if err := r.CheckIntegrity([]byte(localPwd)); err != nil {
					t.Fatalf("response to an authenticated request: %v", err)
				}
			} else if r.HasIntegrity() {
				t.Fatal("MESSAGE-INTEGRITY on a response to an unauthenticated request")
			}
			if tc.code == 0 {
				if ap, err := r.XORMappedAddress(); err != nil || ap != src {
					t.Fatalf("mapped %v %v", ap, err)
				}
				return
			}
			code, reason, err := r.ErrorCode()
			if err != nil || code != tc.code || len(reason) == 0 || r.Type != stun.TypeBindingError {
				t.Fatalf("error code %d %q %v", code, reason, err)
			}
			if tc.code == 420 {
				if ua, _ := r.Get(stun.AttrUnknownAttributes); !bytes.Equal(ua, []byte{0x70, 0x01}) {
					t.Fatalf("UNKNOWN-ATTRIBUTES %x", ua)
				}
			}
			assertNoState(t, a)
		})
	}
}

func TestNoUsername(t *testing.T) {
	r := chromeLike()
	r.username = ""
	a := newAgent()
	// An empty USERNAME attribute is present but names nobody.
	if _, res := a.HandleBinding(t0, netip.MustParseAddrPort("192.0.2.1:1"), r.build(t), nil); res.Authenticated || !errors.Is(res.Err, ErrUsername) {
		t.Fatalf("%+v", res)
	}
	// No USERNAME attribute at all: 400.
	var m stun.Message
	m.Reset()
	m.SetType(stun.TypeBindingRequest)
	m.AddPriority(1)
	m.AddIntegrity([]byte(localPwd))
	m.AddFingerprint()
	resp, res := a.HandleBinding(t0, netip.MustParseAddrPort("192.0.2.1:1"), decode(t, m.Raw), nil)
	if res.Code != 400 || !errors.Is(res.Err, ErrNoCredentials) || len(resp) == 0 {
		t.Fatalf("%+v", res)
	}
}

func TestDropped(t *testing.T) {
	src := netip.MustParseAddrPort("192.0.2.1:1")
	a := newAgent()
	noFP := chromeLike()
	noFP.noFP = true
	badFP := chromeLike().build(t)
	badFP.Raw[len(badFP.Raw)-1] ^= 1
	ind := chromeLike()
	ind.typ = stun.TypeBindingIndication
	succ := chromeLike()
	succ.typ = stun.TypeBindingSuccess
	other := chromeLike()
	other.typ = 0x0003 // TURN Allocate
	for name, m := range map[string]*stun.Message{
		"no FINGERPRINT":  noFP.build(t),
		"bad FINGERPRINT": badFP,
		"indication":      ind.build(t),
		"success":         succ.build(t),
		"other method":    other.build(t),
	} {
		resp, res := a.HandleBinding(t0, src, m, nil)
		if resp != nil || res.Authenticated || res.Err == nil {
			t.Errorf("%s: %x %+v", name, resp, res)
		}
	}
	assertNoState(t, a)
}

// USE-CANDIDATE is reported on every check that carries it, and only
// there: a plain check does not nominate (the peer keeps the selection).
func TestNomination(t *testing.T) {
	a := newAgent()
	wifi := netip.MustParseAddrPort("192.0.2.10:5000")
	lte := netip.MustParseAddrPort("[2001:db8::10]:6000")
	check := func() *stun.Message { return chromeLike().build(t) }
	nominate := func() *stun.Message { r := chromeLike(); r.useCand = true; return r.build(t) }
	for _, c := range []struct {
		src netip.AddrPort
		m   *stun.Message
		nom bool
	}{{wifi, check(), false}, {lte, check(), false}, {wifi, nominate(), true}, {lte, nominate(), true}, {wifi, check(), false}} {
		if _, res := a.HandleBinding(t0, c.src, c.m, nil); !res.Authenticated || res.Nominated != c.nom {
			t.Fatalf("%v: %+v", c.src, res)
		}
	}
}

// A captured check replayed from other addresses, as an attacker on path
// would: each copy gets the response sent the first time and changes
// nothing: Retransmit, never Authenticated nor Nominated.
func TestReplayIsRetransmission(t *testing.T) {
	a := newAgent()
	peerAddr := netip.MustParseAddrPort("192.0.2.10:5000")
	r := chromeLike()
	r.useCand = true
	captured := r.build(t)
	first, res := a.HandleBinding(t0, peerAddr, captured, nil)
	if !res.Authenticated || !res.Nominated {
		t.Fatalf("%+v", res)
	}
	first = bytes.Clone(first)
	for i := 0; i < 100; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(40000+i))
		resp, res := a.HandleBinding(t0.Add(time.Duration(i)*time.Millisecond), src, captured, nil)
		if !res.Retransmit || res.Authenticated || res.Nominated || res.Err != nil {
			t.Fatalf("replay %d: %+v", i, res)
		}
		if !bytes.Equal(resp, first) {
			t.Fatalf("replay %d answered %x, want the cached %x", i, resp, first)
		}
	}
	// The peer's own retransmission (same source) is answered the same way.
	if resp, res := a.HandleBinding(t0, peerAddr, captured, nil); !res.Retransmit || !bytes.Equal(resp, first) {
		t.Fatalf("retransmission: %+v", res)
	}
	// Same ID, different content: not a copy, so verified as usual (and
	// refused here, as only the holder of the key could make it pass).
	forged := chromeLike()
	forged.pwd = "not-the-password"
	fm := forged.build(t)
	fm.TransactionID = captured.TransactionID
	if _, res := a.HandleBinding(t0, peerAddr, fm, nil); res.Retransmit || res.Authenticated {
		t.Fatalf("forged: %+v", res)
	}
}

// The cache is bounded: after maxTransactions newer checks an old one is
// processed again (and the caller, not the agent, decides what it may move).
func TestTransactionCacheBounded(t *testing.T) {
	a := newAgent()
	src := netip.MustParseAddrPort("192.0.2.10:5000")
	old := chromeLike().build(t)
	a.HandleBinding(t0, src, old, nil)
	for i := 0; i < maxTransactions; i++ {
		if _, res := a.HandleBinding(t0, src, chromeLike().build(t), nil); !res.Authenticated {
			t.Fatalf("%+v", res)
		}
	}
	if _, res := a.HandleBinding(t0, src, old, nil); res.Retransmit || !res.Authenticated {
		t.Fatalf("evicted transaction: %+v", res)
	}
}

func TestLocalUfrag(t *testing.T) {
	frame := decode(t, captureFrame(t, 1))
	if u, ok := LocalUfrag(frame); !ok || u != localUfrag {
		t.Fatalf("%q %v", u, ok)
	}
	if n := testing.AllocsPerRun(100, func() { LocalUfragBytes(frame) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
	routes := map[string]int{localUfrag: 1}
	if n := testing.AllocsPerRun(100, func() {
		b, _ := LocalUfragBytes(frame)
		if routes[string(b)] != 1 {
			panic("route")
		}
	}); n != 0 {
		t.Fatalf("%v allocs routing", n)
	}
	for _, u := range []string{"", ":abc", "abc"} {
		var m stun.Message
		m.Reset()
		m.SetType(stun.TypeBindingRequest)
		m.AddUsername(u)
		if got, ok := LocalUfrag(decode(t, m.Raw)); ok {
			t.Errorf("%q: %q", u, got)
		}
	}
	var none stun.Message
	none.Reset()
	if _, ok := LocalUfrag(&none); ok {
		t.Error("no USERNAME")
	}
}

func TestCandidatePriority(t *testing.T) {
	// pion-answer.sdp: "a=candidate:... 1 udp 2130706431 127.0.0.1 50000 typ host"
	if p := CandidatePriority(TypePrefHost, LocalPrefSingle, 1); p != 2130706431 {
		t.Fatalf("host %d", p)
	}
	if p := CandidatePriority(TypePrefServerReflexive, LocalPrefSingle, 1); p != 100<<24|65535<<8|255 {
		t.Fatalf("srflx %d", p)
	}
	if CandidatePriority(TypePrefHost, 0, 0) != CandidatePriority(TypePrefHost, 0, 1) {
		t.Fatal("component 0")
	}
	if CandidatePriority(TypePrefHost, 1, 2) >= CandidatePriority(TypePrefHost, 1, 1) {
		t.Fatal("component 1 must rank higher")
	}
	a := netip.MustParseAddr("192.0.2.1")
	s := netip.MustParseAddr("203.0.113.5")
	f1 := Foundation("host", a, netip.Addr{}, "udp")
	if f1 != Foundation("host", a, netip.Addr{}, "udp") || f1 == Foundation("srflx", a, s, "udp") ||
		f1 == Foundation("host", netip.MustParseAddr("192.0.2.2"), netip.Addr{}, "udp") || len(f1) > 32 {
		t.Fatalf("foundations %q", f1)
	}
}

func TestHandleBindingNoAlloc(t *testing.T) {
	a := newAgent()
	src := captureSrc(t)
	frames := []*stun.Message{decode(t, captureFrame(t, 1)), decode(t, captureFrame(t, 5))}
	bad := chromeLike()
	bad.pwd = "x"
	frames = append(frames, bad.build(t))
	dst := make([]byte, 0, 256)
	n := testing.AllocsPerRun(100, func() {
		for _, m := range frames {
			dst, _ = a.HandleBinding(t0, src, m, dst[:0])
		}
	})
	if n != 0 {
		t.Fatalf("%v allocs per round", n)
	}
}

func TestResponseAppends(t *testing.T) {
	a := newAgent()
	prefix := []byte("prefix")
	resp, res := a.HandleBinding(t0, captureSrc(t), decode(t, captureFrame(t, 1)), prefix)
	if !res.Authenticated || !bytes.HasPrefix(resp, prefix) || !bytes.Equal(resp[len(prefix):], captureFrame(t, 2)) {
		t.Fatalf("%x", resp)
	}
}

func BenchmarkHandleBinding(b *testing.B) {
	a := newAgent()
	src := captureSrc(b)
	var in stun.Message
	raw := captureFrame(b, 5)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if err := in.Decode(raw); err != nil {
			b.Fatal(err)
		}
		var res Result
		for i := range a.txs { // measure the full path, not the retransmission cache
			a.txs[i].n = 0
		}
		dst, res = a.HandleBinding(t0, src, &in, dst[:0])
		if !res.Authenticated {
			b.Fatal(res.Err)
		}
	}
}

// A retransmission or replay is answered from the cache, without
// MESSAGE-INTEGRITY's HMAC: a replay flood costs less than fresh checks.
func BenchmarkHandleBindingRetransmit(b *testing.B) {
	a := newAgent()
	src := captureSrc(b)
	var in stun.Message
	raw := captureFrame(b, 5)
	dst := make([]byte, 0, 256)
	if err := in.Decode(raw); err != nil {
		b.Fatal(err)
	}
	a.HandleBinding(t0, src, &in, nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := in.Decode(raw); err != nil {
			b.Fatal(err)
		}
		var res Result
		dst, res = a.HandleBinding(t0, src, &in, dst[:0])
		if !res.Retransmit {
			b.Fatal(res)
		}
	}
}
