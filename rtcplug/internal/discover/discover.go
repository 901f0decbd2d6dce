// Package discover learns the server-reflexive address of a UDP socket by
// asking STUN servers (RFC 8489 §6.2, Binding method): a bounded table of
// client transactions with the retransmission schedule of RFC 8489 §6.2.1,
// driven entirely by the caller.
//
// The caller sends what Start returns, passes every STUN response that
// arrives to Handle, calls HandleTimeout when Deadline passes, sends what
// PollTransmit yields, and reads failures from Failed, after which it may
// back off and Start again. The Client does no I/O and reads no clock. It is
// not safe for concurrent use.
package discover

import (
	"crypto/rand"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

const (
	// DefaultRTO is the initial retransmission timeout (RFC 8489 §6.2.1).
	DefaultRTO = 500 * time.Millisecond
	// DefaultTimeout is when a transaction gives up. RFC 8489's full
	// schedule runs 39.5 s; a server that has not answered within a few
	// seconds is better retried later by the caller.
	DefaultTimeout = 3 * time.Second
	// MaxTransmissions is Rc, the most requests sent per transaction
	// (RFC 8489 §6.2.1).
	MaxTransmissions = 7
	// MaxOutstanding bounds the transactions in flight.
	MaxOutstanding = 8
	// maxFailures bounds the failures waiting for Failed; when the caller
	// does not drain them, the oldest are dropped.
	maxFailures = MaxOutstanding
	// requestBufSize fits a Binding request with FINGERPRINT (28 bytes).
	requestBufSize = 32
)

var (
	// ErrTimeout reports a server that did not answer before the timeout.
	ErrTimeout = errors.New("discover: no response from the STUN server")
	// ErrBusy is returned by Start when MaxOutstanding transactions are
	// in flight.
	ErrBusy = errors.New("discover: too many transactions in flight")
	// ErrInvalidServer is returned by Start for an invalid server address.
	ErrInvalidServer = errors.New("discover: invalid server address")
)

// Config tunes a Client. The zero value is valid.
type Config struct {
	Rand    io.Reader     // transaction IDs; nil = crypto/rand
	RTO     time.Duration // initial retransmission timeout; 0 = DefaultRTO
	Timeout time.Duration // per transaction; 0 = DefaultTimeout
}

// Failure is a transaction that ended without an address.
type Failure struct {
	Server netip.AddrPort
	// Err is ErrTimeout, a *stun.ErrorResponse (the server refused), or a
	// stun error for a response that could not be used.
	Err error
}

type transaction struct {
	active bool
	due    bool // a retransmission waits for PollTransmit
	server netip.AddrPort
	id     [12]byte
	req    []byte
	giveUp time.Time
	next   time.Time // next retransmission, zero after the last
	rto    time.Duration
	sent   int
}

// Client is a table of Binding transactions.
type Client struct {
	cfg      Config
	txs      [MaxOutstanding]transaction
	msg      stun.Message // decodes responses
	build    stun.Message // builds requests into a transaction's buffer
	failures [maxFailures]Failure
	fhead    int // index of the oldest queued failure
	nfail    int
}

// New returns a Client.
func New(cfg Config) *Client {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.RTO <= 0 {
		cfg.RTO = DefaultRTO
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Client{cfg: cfg}
}

// sameAddr compares addresses as the peer sees them: a dual-stack socket
// reports IPv4 senders as IPv4-mapped IPv6.
func sameAddr(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap() == b.Addr().Unmap()
}

// Start begins a transaction with server and returns the first request to
// send to it. The bytes stay valid until the next call on c.
func (c *Client) Start(now time.Time, server netip.AddrPort) ([]byte, error) {
	if !server.IsValid() {
		return nil, ErrInvalidServer
	}
	tx := c.free()
	if tx == nil {
		return nil, ErrBusy
	}
	m := &c.build
	m.Raw = tx.req[:0]
	if cap(m.Raw) == 0 {
		m.Raw = make([]byte, 0, requestBufSize)
	}
	if err := m.BuildBindingRequest(c.cfg.Rand); err != nil {
		return nil, err
	}
	*tx = transaction{
		active: true,
		server: server,
		id:     m.TransactionID,
		req:    m.Raw,
		giveUp: now.Add(c.cfg.Timeout),
		next:   now.Add(c.cfg.RTO),
		rto:    c.cfg.RTO,
		sent:   1,
	}
	m.Raw = nil // the request now belongs to the transaction
	return tx.req, nil
}

func (c *Client) free() *transaction {
	for i := range c.txs {
		if !c.txs[i].active {
			return &c.txs[i]
		}
	}
	return nil
}

// Pending is the number of transactions in flight.
func (c *Client) Pending() int {
	n := 0
	for i := range c.txs {
		if c.txs[i].active {
			n++
		}
	}
	return n
}

// Handle offers a datagram received from src. When it is the success
// response to a transaction started with src, that transaction ends and the
// mapped address is returned. A response from another address or with an
// unknown transaction ID is ignored, as is one that fails FINGERPRINT (it
// may be forged or corrupt; the server may still answer). An error response
// or an unusable success response ends the transaction as a Failure.
func (c *Client) Handle(now time.Time, src netip.AddrPort, b []byte) (mapped netip.AddrPort, ok bool) {
	if !stun.IsMessage(b) {
		return netip.AddrPort{}, false
	}
	m := &c.msg
	if m.Decode(b) != nil {
		return netip.AddrPort{}, false
	}
	if cl := m.Class(); cl != stun.ClassSuccess && cl != stun.ClassError {
		return netip.AddrPort{}, false
	}
	tx := c.match(src, m.TransactionID)
	if tx == nil {
		return netip.AddrPort{}, false
	}
	ap, err := m.CheckBindingResponse(tx.id)
	if errors.Is(err, stun.ErrFingerprint) {
		return netip.AddrPort{}, false
	}
	server := tx.server
	tx.active, tx.due = false, false
	if err != nil {
		c.fail(server, err)
		return netip.AddrPort{}, false
	}
	return ap, true
}

func (c *Client) match(src netip.AddrPort, id [12]byte) *transaction {
	for i := range c.txs {
		tx := &c.txs[i]
		if tx.active && tx.id == id && sameAddr(tx.server, src) {
			return tx
		}
	}
	return nil
}

// HandleTimeout advances the retransmission timers to now: a transaction
// whose retransmission time has come queues its request again (read it with
// PollTransmit) with the timeout doubled; one past its overall timeout
// becomes a Failure.
func (c *Client) HandleTimeout(now time.Time) {
	for i := range c.txs {
		tx := &c.txs[i]
		if !tx.active {
			continue
		}
		if !now.Before(tx.giveUp) {
			tx.active, tx.due = false, false
			c.fail(tx.server, ErrTimeout)
			continue
		}
		if tx.next.IsZero() || now.Before(tx.next) {
			continue
		}
		tx.due = true
		tx.sent++
		tx.rto *= 2
		// Schedule from the planned time so a late call does not stretch
		// the schedule, but never into the past.
		tx.next = tx.next.Add(tx.rto)
		if !tx.next.After(now) {
			tx.next = now.Add(tx.rto)
		}
		if tx.sent >= MaxTransmissions {
			tx.next = time.Time{} // wait for the overall timeout
		}
	}
}

// PollTransmit returns the next retransmission and its destination, or
// ok == false when none is queued. b stays valid until the next call on c.
func (c *Client) PollTransmit() (to netip.AddrPort, b []byte, ok bool) {
	for i := range c.txs {
		tx := &c.txs[i]
		if tx.active && tx.due {
			tx.due = false
			return tx.server, tx.req, true
		}
	}
	return netip.AddrPort{}, nil, false
}

// Deadline is the earliest time HandleTimeout has work to do, zero when no
// transaction is in flight.
func (c *Client) Deadline() time.Time {
	var d time.Time
	for i := range c.txs {
		tx := &c.txs[i]
		if !tx.active {
			continue
		}
		t := tx.giveUp
		if !tx.next.IsZero() && tx.next.Before(t) {
			t = tx.next
		}
		if d.IsZero() || t.Before(d) {
			d = t
		}
	}
	return d
}

func (c *Client) fail(server netip.AddrPort, err error) {
	if c.nfail == maxFailures {
		c.fhead = (c.fhead + 1) % maxFailures
		c.nfail--
	}
	c.failures[(c.fhead+c.nfail)%maxFailures] = Failure{Server: server, Err: err}
	c.nfail++
}

// Failed returns the oldest failure not yet returned.
func (c *Client) Failed() (Failure, bool) {
	if c.nfail == 0 {
		return Failure{}, false
	}
	f := c.failures[c.fhead]
	c.failures[c.fhead] = Failure{}
	c.fhead = (c.fhead + 1) % maxFailures
	c.nfail--
	return f, true
}
