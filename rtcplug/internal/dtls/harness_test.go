package dtls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"

	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
)

// memAddr is the address of either end of the in-memory pipe.
type memAddr string

func (a memAddr) Network() string { return "udp" }
func (a memAddr) String() string  { return string(a) }

// memConn is the client's end of an in-memory datagram pipe, a
// net.PacketConn with working read deadlines (pion cancels reads by
// setting a deadline in the past). Everything blocks on channels, so under
// testing/synctest the bubble's fake clock advances when both sides wait.
type memConn struct {
	in    chan []byte
	send  func([]byte)
	local net.Addr
	peer  net.Addr

	mu        sync.Mutex
	deadline  time.Time
	changed   chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newMemConn(send func([]byte)) *memConn {
	return &memConn{
		in:      make(chan []byte, 256),
		send:    send,
		local:   memAddr("client"),
		peer:    memAddr("server"),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// deliver hands a datagram to the client; it is dropped if the client is
// not reading fast enough (as UDP would).
func (c *memConn) deliver(b []byte) {
	select {
	case c.in <- b:
	default:
	}
}

func (c *memConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		d, ch := c.deadline, c.changed
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !d.IsZero() {
			wait := time.Until(d)
			if wait <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case b := <-c.in:
			return copy(p, b), c.peer, nil
		case <-ch:
		case <-timeout:
			return 0, nil, os.ErrDeadlineExceeded
		case <-c.done:
			return 0, nil, net.ErrClosed
		}
	}
}

func (c *memConn) WriteTo(p []byte, _ net.Addr) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	c.send(append([]byte(nil), p...))
	return len(p), nil
}

func (c *memConn) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return nil
}

func (c *memConn) LocalAddr() net.Addr { return c.local }

func (c *memConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return nil
}

func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// lossy decides the fate of each datagram in one direction: dropped with
// probability drop, delayed by extra time (so later datagrams overtake it)
// with probability reorder. Decisions come from a seeded generator.
type lossy struct {
	mu      sync.Mutex
	rng     *rand.Rand
	drop    float64
	reorder float64
	dropped int
	total   int
}

func newLossy(seed uint64, stream uint64, drop, reorder float64) *lossy {
	return &lossy{rng: rand.New(rand.NewPCG(seed, stream)), drop: drop, reorder: reorder}
}

// link returns a send function for one direction: each datagram is
// dropped or handed to deliver after its delay, on the (fake) clock.
func (l *lossy) link(deliver func([]byte)) func([]byte) {
	return func(b []byte) {
		ok, delay := l.fate()
		if !ok {
			return
		}
		time.AfterFunc(delay, func() { deliver(b) })
	}
}

// fate returns whether to deliver and the delay.
func (l *lossy) fate() (bool, time.Duration) {
	if l == nil {
		return true, time.Millisecond
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	if l.rng.Float64() < l.drop {
		l.dropped++
		return false, 0
	}
	if l.rng.Float64() < l.reorder {
		return true, time.Duration(5+l.rng.IntN(40)) * time.Millisecond
	}
	return true, time.Millisecond
}

// pipeResult is what one handshake between a pion client and our server
// produced.
type pipeResult struct {
	clientErr                                  error
	serverErr                                  error
	clientEKM                                  []byte
	serverEKM                                  []byte
	clientSRTP                                 uint16
	serverRetx                                 int // flights the server sent again on its timer
	handshakeDone                              time.Time
	c2sTotal, c2sDropped, s2cTotal, s2cDropped int
	serverResends                              int
	c2s                                        [][]byte // every datagram the client sent (before loss)
	serverDgram                                int
	clientDgram                                int
	server                                     *Server
	client                                     *piondtls.Conn

	eventLog // the server's events; its lock also guards the Server while the loop runs
}

// do runs f on the server (under the loop's lock) and wakes the loop so
// that what f queued is sent.
func (r *pipeResult) do(f func(s *Server)) {
	r.mu.Lock()
	f(r.server)
	r.mu.Unlock()
	r.kick <- struct{}{}
}

type pipeOptions struct {
	clientCfg *piondtls.Config
	serverCfg Config
	c2s, s2c  *lossy
	ekmLen    int
	timeout   time.Duration
	// afterHandshake runs once the client's handshake succeeded, while
	// both sides are still up.
	afterHandshake func(t *testing.T, r *pipeResult)
}

// testIdentity is a certificate and the matching pion/tls certificate.
func testIdentity(t testing.TB) (*Certificate, tls.Certificate) {
	t.Helper()
	c, err := GenerateCertificate(nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c, tls.Certificate{Certificate: [][]byte{c.DER}, PrivateKey: c.PrivateKey}
}

func mustFingerprint(t testing.TB, c *Certificate) Fingerprint {
	t.Helper()
	f, err := ParseFingerprint("sha-256", c.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// baseClientConfig is a pion client as pion/webrtc configures one.
func baseClientConfig(cert tls.Certificate, serverFP string) *piondtls.Config {
	return basePionConfig(cert, serverFP)
}

// basePionConfig is what pion/webrtc gives pion/dtls in either role: our
// certificate, the extended master secret required, and the peer's
// certificate checked by its SDP fingerprint instead of a CA chain.
func basePionConfig(cert tls.Certificate, peerFP string) *piondtls.Config {
	return &piondtls.Config{
		Certificates:         []tls.Certificate{cert},
		ExtendedMasterSecret: piondtls.RequireExtendedMasterSecret,
		InsecureSkipVerify:   true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no peer certificate")
			}
			if (&Certificate{DER: raw[0]}).Fingerprint() != peerFP {
				return errors.New("peer fingerprint mismatch")
			}
			return nil
		},
		SRTPProtectionProfiles: []piondtls.SRTPProtectionProfile{
			piondtls.SRTP_AEAD_AES_128_GCM, piondtls.SRTP_AES128_CM_HMAC_SHA1_80,
		},
	}
}

// runPipe runs one handshake of a pion client against our server over the
// in-memory pipe. Call it inside synctest.Test so that both sides' timers
// run on the fake clock.
func runPipe(t *testing.T, o pipeOptions) *pipeResult {
	t.Helper()
	if o.timeout == 0 {
		o.timeout = 3 * time.Minute
	}
	res := &pipeResult{eventLog: eventLog{kick: make(chan struct{})}}
	srv, err := NewServer(o.serverCfg, netip.MustParseAddrPort("192.0.2.1:5000"))
	if err != nil {
		t.Fatal(err)
	}
	res.server = srv
	var recMu sync.Mutex
	var lp *loop
	toServer := o.c2s.link(func(b []byte) { lp.deliver(b) })
	cc := newMemConn(func(b []byte) {
		recMu.Lock()
		res.c2s = append(res.c2s, b)
		recMu.Unlock()
		toServer(b)
	})
	// The server's owner: one goroutine feeding datagrams and timeouts and
	// draining output, as the peer glue does.
	lp = startLoop(srv, &srv.conn, &res.mu, o.s2c.link(cc.deliver), &res.events, res.kick)
	client, err := piondtls.Client(cc, cc.peer, o.clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	res.client = client
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	res.clientErr = client.HandshakeContext(ctx)
	res.handshakeDone = time.Now()
	cancel()
	if res.clientErr == nil {
		if o.ekmLen > 0 {
			st, _ := client.ConnectionState()
			res.clientEKM, err = st.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, o.ekmLen)
			if err != nil {
				t.Errorf("client export: %v", err)
			}
		}
		if p, ok := client.SelectedSRTPProtectionProfile(); ok {
			res.clientSRTP = uint16(p)
		}
		// The server finishes when our flight 6 is out; give it the instant.
		time.Sleep(100 * time.Millisecond)
		if o.afterHandshake != nil {
			o.afterHandshake(t, res)
		}
	} else {
		// Let the server see whatever alert is on the way.
		time.Sleep(100 * time.Millisecond)
	}
	res.mu.Lock()
	if o.ekmLen > 0 {
		res.serverEKM, _ = srv.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, o.ekmLen)
	}
	res.mu.Unlock()
	_ = client.Close()
	time.Sleep(100 * time.Millisecond)
	lp.close()
	res.serverRetx, res.serverDgram, res.clientDgram, res.serverErr = lp.retx, lp.sent, lp.received, lp.err
	res.serverResends = srv.resends
	if o.c2s != nil {
		res.c2sTotal, res.c2sDropped = o.c2s.total, o.c2s.dropped
	}
	if o.s2c != nil {
		res.s2cTotal, res.s2cDropped = o.s2c.total, o.s2c.dropped
	}
	return res
}

// loop owns one of our endpoints as the peer glue does: one goroutine
// feeding it datagrams and timeouts and draining its output.
type loop struct {
	inbox chan []byte
	stop  chan struct{}
	done  chan struct{}
	// counters, read after close
	retx, sent, received int
	err                  error
	completed            time.Time // when HandshakeComplete came out
}

// startLoop runs ep (whose shared state is c) until close. mu guards ep and
// events; send takes each datagram ep transmits; a value on kick makes the
// loop send what a caller queued under mu.
func startLoop(ep endpoint, c *conn, mu *sync.Mutex, send func([]byte), events *[]Event, kick chan struct{}) *loop {
	l := &loop{inbox: make(chan []byte, 256), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for {
			mu.Lock()
			for d := ep.pollTransmit(); d != nil; d = ep.pollTransmit() {
				l.sent++
				send(append([]byte(nil), d...))
				d[0] = 0 // catch retention of a returned datagram
			}
			for ev, ok := ep.pollEvent(); ok; ev, ok = ep.pollEvent() {
				if ev.Kind == HandshakeComplete {
					l.completed = time.Now()
				}
				*events = append(*events, ev)
			}
			dl := ep.Deadline()
			mu.Unlock()
			var tc <-chan time.Time
			if !dl.IsZero() {
				timer.Reset(time.Until(dl))
				tc = timer.C
			}
			select {
			case b := <-l.inbox:
				l.received++
				mu.Lock()
				l.err = ep.handleDatagram(time.Now(), b)
				mu.Unlock()
			case <-tc:
				mu.Lock()
				before := c.rtxCount
				ep.HandleTimeout(time.Now())
				l.retx += c.rtxCount - before
				mu.Unlock()
			case <-kick:
			case <-l.stop:
				return
			}
		}
	}()
	return l
}

// deliver hands the loop a datagram; it is dropped if the loop is behind
// (as UDP would).
func (l *loop) deliver(b []byte) {
	select {
	case l.inbox <- b:
	default:
	}
}

// close stops the loop and waits for it.
func (l *loop) close() {
	close(l.stop)
	<-l.done
}

// eventLog collects the events of our endpoint in a pipe test.
type eventLog struct {
	mu     sync.Mutex // guards events, and the endpoint while its loop runs
	events []Event
	kick   chan struct{}
}

// eventsCopy returns the events so far.
func (r *eventLog) eventsCopy() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// event returns the first event of kind k.
func (r *eventLog) event(k EventKind) (Event, bool) {
	for _, ev := range r.eventsCopy() {
		if ev.Kind == k {
			return ev, true
		}
	}
	return Event{}, false
}

// ParseFingerprint is what the glue does with an SDP fingerprint: sdp
// decodes the hex, NewFingerprint picks the hash.
func ParseFingerprint(algorithm, value string) (Fingerprint, error) {
	d, err := sdp.Fingerprint{Algorithm: algorithm, Value: value}.Digest()
	if err != nil {
		return Fingerprint{}, err
	}
	return NewFingerprint(algorithm, d)
}
