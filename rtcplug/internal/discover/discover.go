// Package discover learns the server-reflexive address of a UDP socket by
// asking STUN servers (RFC 8489 §6.2, Binding method): a bounded table of
// client transactions with the retransmission schedule of RFC 8489 §6.2.1,
// driven entirely by the caller.
//
// It has the drive shape of every core: the caller Starts a transaction,
// passes every datagram that may be a response to Handle, calls
// HandleTimeout when Deadline passes, and after each call takes what Poll
// yields: requests to send, mapped addresses found and failures (after which
// it may back off and Start again). The Client does no I/O and reads no
// clock. It is not safe for concurrent use.
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
	// maxResults bounds the addresses and failures waiting for Poll; when
	// the caller does not drain them, the oldest are dropped.
	maxResults = MaxOutstanding
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

// OutputKind says what an Output is.
type OutputKind uint8

// Output kinds.
const (
	// Transmit: send Data to To (a request or its retransmission).
	Transmit OutputKind = iota + 1
	// Mapped: the server To answered; Mapped is our address as it saw it.
	Mapped
	// Failed: a transaction ended without an address (Failure).
	Failed
)

// Output is one thing Poll yields.
type Output struct {
	Kind    OutputKind
	To      netip.AddrPort // Transmit: destination; Mapped: the server
	Data    []byte         // Transmit: valid until the next call on the Client
	Mapped  netip.AddrPort // Mapped
	Failure Failure        // Failed
}

// Datagram returns the datagram to send for a Transmit output.
func (o Output) Datagram() (netip.AddrPort, []byte, bool) {
	return o.To, o.Data, o.Kind == Transmit
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
	due    bool // a transmission waits for Poll
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
	cfg     Config
	txs     [MaxOutstanding]transaction
	msg     stun.Message       // decodes responses
	build   stun.Message       // builds requests into a transaction's buffer
	results [maxResults]Output // Mapped and Failed, oldest at rhead
	rhead   int
	nres    int
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

// Start begins a transaction with server; its first request is the next
// Transmit that Poll yields.
func (c *Client) Start(now time.Time, server netip.AddrPort) error {
	if !server.IsValid() {
		return ErrInvalidServer
	}
	tx := c.free()
	if tx == nil {
		return ErrBusy
	}
	m := &c.build
	m.Raw = tx.req[:0]
	if cap(m.Raw) == 0 {
		m.Raw = make([]byte, 0, requestBufSize)
	}
	if err := m.BuildBindingRequest(c.cfg.Rand); err != nil {
		return err
	}
	*tx = transaction{
		active: true,
		due:    true,
		server: server,
		id:     m.TransactionID,
		req:    m.Raw,
		giveUp: now.Add(c.cfg.Timeout),
		next:   now.Add(c.cfg.RTO),
		rto:    c.cfg.RTO,
		sent:   1,
	}
	m.Raw = nil // the request now belongs to the transaction
	return nil
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
// response to a transaction started with src, that transaction ends and Poll
// yields the mapped address. A response from another address or with an
// unknown transaction ID is ignored, as is one that fails FINGERPRINT (it
// may be forged or corrupt; the server may still answer). An error response
// or an unusable success response ends the transaction as a Failure.
func (c *Client) Handle(now time.Time, src netip.AddrPort, b []byte) {
	if !stun.IsMessage(b) {
		return
	}
	m := &c.msg
	if m.Decode(b) != nil {
		return
	}
	if cl := m.Class(); cl != stun.ClassSuccess && cl != stun.ClassError {
		return
	}
	tx := c.match(src, m.TransactionID)
	if tx == nil {
		return
	}
	ap, err := m.CheckBindingResponse(tx.id)
	if errors.Is(err, stun.ErrFingerprint) {
		return
	}
	server := tx.server
	tx.active, tx.due = false, false
	if err != nil {
		c.fail(server, err)
		return
	}
	c.push(Output{Kind: Mapped, To: server, Mapped: ap})
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
// whose retransmission time has come queues its request again (a Transmit
// for Poll) with the timeout doubled; one past its overall timeout
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

// Poll returns the next output: requests to send first, then addresses
// found and failures, oldest first; ok is false when there is none.
func (c *Client) Poll() (Output, bool) {
	for i := range c.txs {
		tx := &c.txs[i]
		if tx.active && tx.due {
			tx.due = false
			return Output{Kind: Transmit, To: tx.server, Data: tx.req}, true
		}
	}
	if c.nres == 0 {
		return Output{}, false
	}
	o := c.results[c.rhead]
	c.results[c.rhead] = Output{}
	c.rhead = (c.rhead + 1) % maxResults
	c.nres--
	return o, true
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
	c.push(Output{Kind: Failed, To: server, Failure: Failure{Server: server, Err: err}})
}

// push queues a result; when the queue is full the oldest goes.
func (c *Client) push(o Output) {
	if c.nres == maxResults {
		c.rhead = (c.rhead + 1) % maxResults
		c.nres--
	}
	c.results[(c.rhead+c.nres)%maxResults] = o
	c.nres++
}
