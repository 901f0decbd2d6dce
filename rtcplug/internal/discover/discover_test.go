package discover

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var (
	server  = netip.MustParseAddrPort("192.0.2.53:3478")
	server6 = netip.MustParseAddrPort("[2001:db8::53]:3478")
	mapped  = netip.MustParseAddrPort("203.0.113.7:61234")
)

// seqReader yields 1, 2, 3, ... so transaction IDs are predictable.
type seqReader struct{ n byte }

func (s *seqReader) Read(b []byte) (int, error) {
	for i := range b {
		s.n++
		b[i] = s.n
	}
	return len(b), nil
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

// client wraps a Client with the per-kind view the tests read: what Poll
// yields is taken in order, and outputs of other kinds met on the way wait
// in stash.
type client struct {
	*Client
	stash []Output
}

func testClient(cfg Config) *client { return &client{Client: New(cfg)} }

func (c *client) take(kind OutputKind) (Output, bool) {
	for i, o := range c.stash {
		if o.Kind == kind {
			c.stash = append(c.stash[:i], c.stash[i+1:]...)
			return o, true
		}
	}
	for o, ok := c.Poll(); ok; o, ok = c.Poll() {
		if o.Kind == kind {
			return o, true
		}
		c.stash = append(c.stash, o)
	}
	return Output{}, false
}

// Start starts a transaction and returns its first request.
func (c *client) Start(now time.Time, server netip.AddrPort) ([]byte, error) {
	if err := c.Client.Start(now, server); err != nil {
		return nil, err
	}
	o, ok := c.take(Transmit)
	if !ok {
		return nil, errors.New("no request queued")
	}
	return o.Data, nil
}

// Handle offers b and returns the address it yielded, if any.
func (c *client) Handle(now time.Time, src netip.AddrPort, b []byte) (netip.AddrPort, bool) {
	c.Client.Handle(now, src, b)
	o, ok := c.take(Mapped)
	return o.Mapped, ok
}

func (c *client) PollTransmit() (netip.AddrPort, []byte, bool) {
	o, ok := c.take(Transmit)
	return o.To, o.Data, ok
}

func (c *client) Failed() (Failure, bool) {
	o, ok := c.take(Failed)
	return o.Failure, ok
}

// respond builds the server's answer to req.
func respond(t testing.TB, req []byte, f func(m *stun.Message)) []byte {
	t.Helper()
	var in stun.Message
	if err := in.Decode(req); err != nil {
		t.Fatal(err)
	}
	if in.Type != stun.TypeBindingRequest || in.CheckFingerprint() != nil {
		t.Fatalf("request %x", req)
	}
	var m stun.Message
	m.Reset()
	m.SetType(stun.TypeBindingSuccess)
	m.SetTransactionID(in.TransactionID)
	if f != nil {
		f(&m)
	} else {
		m.AddXORMappedAddress(mapped)
		m.AddSoftware("test server")
		m.AddFingerprint()
	}
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

func TestSuccess(t *testing.T) {
	c := testClient(Config{Rand: &seqReader{}})
	req, err := c.Start(t0, server)
	if err != nil {
		t.Fatal(err)
	}
	if c.Pending() != 1 || !c.Deadline().Equal(t0.Add(DefaultRTO)) {
		t.Fatalf("pending %d deadline %v", c.Pending(), c.Deadline())
	}
	resp := respond(t, req, nil)
	got, ok := c.Handle(t0.Add(20*time.Millisecond), server, resp)
	if !ok || got != mapped {
		t.Fatalf("mapped %v %v", got, ok)
	}
	if c.Pending() != 0 || !c.Deadline().IsZero() {
		t.Fatal("transaction still pending")
	}
	// A duplicate of the response (the request was retransmitted) is ignored.
	if _, ok := c.Handle(t0, server, resp); ok {
		t.Fatal("duplicate accepted")
	}
	if _, ok := c.Failed(); ok {
		t.Fatal("failure reported")
	}
}

func TestIPv4MappedSource(t *testing.T) {
	c := testClient(Config{Rand: &seqReader{}})
	req, _ := c.Start(t0, server)
	src := netip.AddrPortFrom(netip.AddrFrom16(server.Addr().As16()), server.Port())
	if got, ok := c.Handle(t0, src, respond(t, req, nil)); !ok || got != mapped {
		t.Fatalf("%v %v", got, ok)
	}
}

func TestMappedAddressFallback(t *testing.T) {
	c := testClient(Config{Rand: &seqReader{}})
	req, _ := c.Start(t0, server6)
	resp := respond(t, req, func(m *stun.Message) { m.AddMappedAddress(mapped) })
	if got, ok := c.Handle(t0, server6, resp); !ok || got != mapped {
		t.Fatalf("%v %v", got, ok)
	}
}

func TestRetransmitAndTimeout(t *testing.T) {
	c := testClient(Config{Rand: &seqReader{}})
	req, _ := c.Start(t0, server)
	first := append([]byte(nil), req...)

	// Nothing before the first RTO.
	c.HandleTimeout(t0.Add(499 * time.Millisecond))
	if _, _, ok := c.PollTransmit(); ok {
		t.Fatal("early retransmission")
	}
	var sent []time.Duration
	now := t0
	for i := 0; i < 20; i++ {
		d := c.Deadline()
		if d.IsZero() {
			break
		}
		now = d
		c.HandleTimeout(now)
		for {
			to, b, ok := c.PollTransmit()
			if !ok {
				break
			}
			if to != server || !bytes.Equal(b, first) {
				t.Fatalf("retransmission %x to %v", b, to)
			}
			sent = append(sent, now.Sub(t0))
		}
	}
	// RFC 8489 §6.2.1 with RTO 500 ms: resend at 0.5 s and 1.5 s (3.5 s
	// is past the 3 s timeout).
	want := []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond}
	if len(sent) != len(want) || sent[0] != want[0] || sent[1] != want[1] {
		t.Fatalf("retransmissions at %v, want %v", sent, want)
	}
	if now.Sub(t0) != DefaultTimeout {
		t.Fatalf("gave up at %v", now.Sub(t0))
	}
	f, ok := c.Failed()
	if !ok || f.Server != server || !errors.Is(f.Err, ErrTimeout) {
		t.Fatalf("failure %+v %v", f, ok)
	}
	if _, ok := c.Failed(); ok {
		t.Fatal("reported twice")
	}
	if c.Pending() != 0 || !c.Deadline().IsZero() {
		t.Fatal("still pending")
	}
	// A late response after the failure is ignored.
	if _, ok := c.Handle(now, server, respond(t, first, nil)); ok {
		t.Fatal("late response accepted")
	}
}

func TestLongScheduleCapsTransmissions(t *testing.T) {
	// With a long timeout the full RFC schedule applies: Rc = 7 requests
	// at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, then silence until the end.
	c := testClient(Config{Rand: &seqReader{}, Timeout: 39500 * time.Millisecond})
	c.Start(t0, server)
	n := 1
	var last time.Time
	for d := c.Deadline(); !d.IsZero(); d = c.Deadline() {
		c.HandleTimeout(d)
		for _, _, ok := c.PollTransmit(); ok; _, _, ok = c.PollTransmit() {
			n++
			last = d
		}
		if n > MaxTransmissions {
			t.Fatalf("%d transmissions", n)
		}
	}
	if n != MaxTransmissions || last.Sub(t0) != 31500*time.Millisecond {
		t.Fatalf("%d transmissions, last at %v", n, last.Sub(t0))
	}
	if f, ok := c.Failed(); !ok || !errors.Is(f.Err, ErrTimeout) {
		t.Fatal("no timeout")
	}
}

func TestLateTimeoutCall(t *testing.T) {
	c := testClient(Config{Rand: &seqReader{}})
	c.Start(t0, server)
	// Called late (at 1.4 s): one retransmission now, the next one a
	// doubled RTO later than planned, never in the past.
	now := t0.Add(1400 * time.Millisecond)
	c.HandleTimeout(now)
	if _, _, ok := c.PollTransmit(); !ok {
		t.Fatal("no retransmission")
	}
	if _, _, ok := c.PollTransmit(); ok {
		t.Fatal("two retransmissions queued for one timeout")
	}
	if d := c.Deadline(); !d.After(now) {
		t.Fatalf("deadline %v not after now", d.Sub(t0))
	}
}

func TestIgnored(t *testing.T) {
	c := testClient(Config{Rand: &seqReader{}})
	req, _ := c.Start(t0, server)
	good := respond(t, req, nil)

	wrongID := append([]byte(nil), good...)
	wrongID[19] ^= 1
	badFP := append([]byte(nil), good...)
	badFP[len(badFP)-1] ^= 1
	request := append([]byte(nil), req...)
	for name, tc := range map[string]struct {
		src netip.AddrPort
		b   []byte
	}{
		"other server":    {netip.MustParseAddrPort("192.0.2.54:3478"), good},
		"other port":      {netip.MustParseAddrPort("192.0.2.53:3479"), good},
		"wrong ID":        {server, wrongID},
		"bad FINGERPRINT": {server, badFP},
		"our request":     {server, request},
		"not STUN":        {server, []byte{0x80, 0, 0, 1}},
		"garbage":         {server, append(append([]byte(nil), good[:20]...), 1, 2, 3)},
	} {
		if _, ok := c.Handle(t0, tc.src, tc.b); ok {
			t.Errorf("%s accepted", name)
		}
		if c.Pending() != 1 {
			t.Fatalf("%s ended the transaction", name)
		}
	}
	if _, ok := c.Failed(); ok {
		t.Fatal("ignored datagrams caused a failure")
	}
	if got, ok := c.Handle(t0, server, good); !ok || got != mapped {
		t.Fatal("the real response after the noise")
	}
}

func TestErrorResponseFails(t *testing.T) {
	c := testClient(Config{Rand: &seqReader{}})
	req, _ := c.Start(t0, server)
	resp := respond(t, req, func(m *stun.Message) {
		m.SetType(stun.TypeBindingError)
		m.AddErrorCode(403, "Forbidden")
		m.AddFingerprint()
	})
	if _, ok := c.Handle(t0, server, resp); ok {
		t.Fatal("error response accepted")
	}
	f, ok := c.Failed()
	var er *stun.ErrorResponse
	if !ok || !errors.As(f.Err, &er) || er.Code != 403 || c.Pending() != 0 {
		t.Fatalf("failure %+v", f)
	}

	// A success response without an address is unusable: failure too.
	req, _ = c.Start(t0, server)
	resp = respond(t, req, func(m *stun.Message) { m.AddSoftware("x") })
	if _, ok := c.Handle(t0, server, resp); ok {
		t.Fatal("accepted without an address")
	}
	if f, ok := c.Failed(); !ok || !errors.Is(f.Err, stun.ErrNoMappedAddress) {
		t.Fatalf("failure %+v", f)
	}
}

func TestBounds(t *testing.T) {
	c := testClient(Config{Rand: &seqReader{}})
	reqs := map[[12]byte]bool{}
	for i := 0; i < MaxOutstanding; i++ {
		req, err := c.Start(t0, server)
		if err != nil {
			t.Fatal(err)
		}
		var m stun.Message
		m.Decode(req)
		if reqs[m.TransactionID] {
			t.Fatal("transaction ID reused")
		}
		reqs[m.TransactionID] = true
	}
	if _, err := c.Start(t0, server); !errors.Is(err, ErrBusy) {
		t.Fatalf("start past the bound: %v", err)
	}
	if _, err := c.Start(t0, netip.AddrPort{}); !errors.Is(err, ErrInvalidServer) {
		t.Fatalf("invalid server: %v", err)
	}
	if _, err := testClient(Config{Rand: failReader{}}).Start(t0, server); !errors.Is(err, stun.ErrRandom) {
		t.Fatalf("rand failure: %v", err)
	}
	// All time out; the failure queue holds them; slots free up.
	c.HandleTimeout(t0.Add(time.Hour))
	n := 0
	for _, ok := c.Failed(); ok; _, ok = c.Failed() {
		n++
	}
	if n != MaxOutstanding || c.Pending() != 0 {
		t.Fatalf("%d failures, %d pending", n, c.Pending())
	}
	// Undrained failures stay bounded: the oldest are dropped.
	for round := 0; round < 3; round++ {
		for i := 0; i < MaxOutstanding; i++ {
			if _, err := c.Start(t0, server); err != nil {
				t.Fatal(err)
			}
		}
		c.HandleTimeout(t0.Add(time.Hour))
	}
	n = 0
	for _, ok := c.Failed(); ok; _, ok = c.Failed() {
		n++
	}
	if n != maxResults {
		t.Fatalf("%d failures queued", n)
	}
}

func TestNoAllocSteadyState(t *testing.T) {
	c := testClient(Config{Rand: &seqReader{}})
	req, _ := c.Start(t0, server)
	resp := respond(t, req, nil)
	c.Handle(t0, server, resp)
	// Decoding a response and retransmitting reuse buffers.
	allocs := testing.AllocsPerRun(100, func() {
		req, _ := c.Start(t0, server)
		c.HandleTimeout(t0.Add(DefaultRTO))
		c.PollTransmit()
		c.Handle(t0, netip.MustParseAddrPort("192.0.2.99:1"), req)
		c.HandleTimeout(t0.Add(time.Hour))
		c.Failed()
	})
	if allocs != 0 {
		t.Fatalf("%v allocs", allocs)
	}
}
