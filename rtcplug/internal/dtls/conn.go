package dtls

import (
	"crypto"
	"crypto/ecdh"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// HandshakeComplete: keys are ready (ExportKeyingMaterial works);
	// CipherSuite, SRTPProfile and PeerCertificate are set.
	HandshakeComplete EventKind = iota + 1
	// AlertReceived: the peer sent an alert other than close_notify; Alert
	// is its description. A fatal one is followed by Failed.
	AlertReceived
	// Closed: the peer sent close_notify. The connection is over.
	Closed
	// ApplicationData: Data holds one record's plaintext.
	ApplicationData
	// Failed: the connection died: a fatal alert sent or received, or the
	// handshake timed out. Err says why. Emitted once.
	Failed
	// Transmit: Data is a datagram to send to the peer. Poll yields every
	// Transmit before the events of the same call.
	Transmit
	// Progress: Note names a handshake step that went by (a ClientHello
	// fragment received, a flight sent, a retransmission), for debug logs;
	// only with Config.Progress, and only until the handshake completes.
	Progress
)

func (k EventKind) String() string {
	switch k {
	case HandshakeComplete:
		return "HandshakeComplete"
	case AlertReceived:
		return "AlertReceived"
	case Closed:
		return "Closed"
	case ApplicationData:
		return "ApplicationData"
	case Failed:
		return "Failed"
	case Transmit:
		return "Transmit"
	case Progress:
		return "Progress"
	}
	return "EventKind(?)"
}

// Event is something the owner of a Server or Client needs to know. Data and
// PeerCertificate are owned by the receiver.
type Event struct {
	Kind            EventKind
	CipherSuite     uint16
	SRTPProfile     srtp.Profile
	PeerCertificate []byte
	Alert           uint8
	Err             error
	Data            []byte
	Note            string
}

// Datagram returns the datagram of a Transmit event. DTLS does not know
// addresses: to is always the zero value, the owner sends to its peer.
func (ev Event) Datagram() (to netip.AddrPort, b []byte, ok bool) {
	return netip.AddrPort{}, ev.Data, ev.Kind == Transmit
}

// ErrClosed is returned once the connection was closed by either side.
var ErrClosed = errors.New("dtls: connection closed")

var (
	errHandshakeTimeout = errors.New("dtls: handshake timed out")
	errNotEstablished   = errors.New("dtls: handshake not complete")
	errTooLarge         = errors.New("dtls: application data does not fit in one record and datagram")
	errQueueFull        = errors.New("dtls: transmit queue full")
)

// state is where the handshake is (RFC 6347 §4.2.4 flights). Server:
//
//	awaitHello --ClientHello without cookie / HelloVerifyRequest--> awaitCookieHello
//	awaitCookieHello --ClientHello with cookie / flight 4--> awaitFlight5
//	awaitFlight5 --Certificate, ClientKeyExchange, CertificateVerify,
//	               ChangeCipherSpec, Finished / CCS+Finished--> established
//
// Client:
//
//	(start / ClientHello) awaitFlight4 --HelloVerifyRequest / ClientHello with cookie--> awaitFlight4
//	awaitFlight4 --ServerHello ... ServerHelloDone / flight 5--> awaitFlight6
//	awaitFlight6 --ChangeCipherSpec, Finished--> established
type state int

const (
	awaitHello state = iota
	awaitCookieHello
	awaitFlight5
	established
	closed
	failed
	awaitFlight4
	awaitFlight6
)

const (
	// maxQueuedDatagrams bounds datagrams waiting in PollTransmit.
	maxQueuedDatagrams = 64
	// maxEvents bounds events waiting in PollEvent; application data and
	// alerts beyond maxEvents-reservedEvents are dropped so state events
	// (HandshakeComplete, Closed, Failed: at most two) always fit.
	maxEvents      = 32
	reservedEvents = 4
	// maxEarlyRecords and maxEarlyRecordLen bound the epoch-1 records kept
	// when they arrive before the peer's ChangeCipherSpec (RFC 6347 §4.1
	// allows buffering them).
	maxEarlyRecords   = 4
	maxEarlyRecordLen = 1024
	// maxTranscript bounds the handshake messages kept for CertificateVerify
	// and Finished (they are hashed with a hash chosen late).
	maxTranscript = 64 << 10
	// finishedOffset is where the client's Finished sits in its flight 5:
	// after Certificate, ClientKeyExchange and CertificateVerify, all of
	// which we require.
	finishedOffset = 3
	// maxExport bounds ExportKeyingMaterial's output length.
	maxExport = 1 << 12
)

// Retransmission timer (RFC 6347 §4.2.4.1): 1 s, doubling to 60 s; after
// maxRetransmits resends the next expiry ends the handshake (~63 s).
const (
	initialRetransmit = time.Second
	maxRetransmit     = 60 * time.Second
	maxRetransmits    = 5
	// minResendGap limits resends triggered by the peer repeating its
	// flight, so one repeated flight spread over several datagrams gets our
	// flight once.
	minResendGap = 100 * time.Millisecond
)

// conn is what both roles of a DTLS 1.2 association share: the record
// layer (epochs, replay windows, protection), our flights and their
// retransmission timer, the peer's messages reassembled, the key schedule's
// results, and the queues the owner drains. Server and Client embed it and
// supply the handshake through role.
type conn struct {
	cfg  Config
	role role

	state    state
	verified bool  // the peer's address answers (server: a valid cookie; client: always)
	err      error // set once the connection is dead

	// read half: epoch 0 is plaintext; epoch 1 keys exist once the key
	// exchange is done and become current at the peer's ChangeCipherSpec.
	readEpoch  uint16
	readCipher *recordCipher
	replay     [2]replayWindow
	early      [][]byte
	plain      []byte // decrypted record scratch

	// write half
	writeEpoch  uint16
	writeSeq    [2]uint64
	writeCipher *recordCipher
	scratch     []byte

	// handshake
	reasm        reassembler
	transcript   []byte
	sendSeq      uint16
	clientRandom [randomLen]byte
	serverRandom [randomLen]byte
	suite        cipherSuite
	srtpProfile  uint16
	group        uint16
	ecdhKey      *ecdh.PrivateKey
	peerCert     []byte
	peerKey      crypto.PublicKey
	master       []byte

	// our last flight and its retransmission timer
	flight      []flightMsg
	rtxDeadline time.Time
	rtxInterval time.Duration
	rtxCount    int
	resend      bool
	lastResend  time.Time
	resends     int // flights sent again, by timer or on request (for tests and logs)

	tx     [][]byte
	events []Event
}

// role is the handshake of one side, driven by the shared record layer.
type role interface {
	// onFragment takes one handshake fragment of an accepted record.
	onFragment(now time.Time, rh recordHeader, h *handshakeHeader) error
	// onMessage takes the peer's next complete message, in message_seq
	// order.
	onMessage(now time.Time, typ uint8, epoch, seq uint16, body []byte) error
	// forgetRole drops the role's own handshake state once the connection
	// is over.
	forgetRole()
}

func newConn(cfg Config, r role) conn {
	return conn{
		cfg:     cfg,
		role:    r,
		scratch: make([]byte, 0, cfg.MTU),
	}
}

// awaitingPeerCCS reports whether the peer's ChangeCipherSpec is what the
// handshake waits for: its final flight is under way.
func (c *conn) awaitingPeerCCS() bool {
	return c.state == awaitFlight5 || c.state == awaitFlight6
}

// keyed reports whether the handshake has gone far enough that the peer
// keeps state for it (so it deserves a close_notify).
func (c *conn) keyed() bool {
	return c.state == awaitFlight4 || c.state == awaitFlight5 || c.state == awaitFlight6 || c.state == established
}

// Handle processes one datagram from the peer (from is not used: the owner
// routes only its peer's datagrams here). Bad or unauthentic records are
// dropped silently; a connection that dies reports Failed.
func (c *conn) Handle(now time.Time, _ netip.AddrPort, b []byte) {
	hs, tx, ev, resends := c.handshaking(), len(c.tx), len(c.events), c.resends
	if hs && c.cfg.Progress {
		if d := describeIncoming(b); d != "" {
			c.pushEvent(Event{Kind: Progress, Note: d})
			ev++
		}
	}
	_ = c.handleDatagram(now, b)
	c.progress(hs, tx, ev, c.resends != resends)
}

// handshaking reports whether the handshake is still under way.
func (c *conn) handshaking() bool { return c.err == nil && c.state != established }

// progress reports, with Config.Progress, the datagrams a call that began
// during the handshake queued from index tx on, as one Progress event ahead
// of the call's other events (which start at index ev).
func (c *conn) progress(hs bool, tx, ev int, retransmit bool) {
	if !c.cfg.Progress || !hs || len(c.tx) <= tx || ev > len(c.events) {
		return
	}
	note := Event{Kind: Progress, Note: describeFlight(c.tx[tx], len(c.tx)-tx, retransmit)}
	c.events = append(c.events, Event{})
	copy(c.events[ev+1:], c.events[ev:])
	c.events[ev] = note
}

// handleDatagram is Handle's work. It returns an error only when the
// connection is dead (then every later call returns it).
func (c *conn) handleDatagram(now time.Time, b []byte) error {
	if c.err != nil {
		return c.err
	}
	c.resend = false
	started := c.state
	for len(b) > 0 && c.err == nil {
		h, frag, rest, ok := parseRecord(b)
		if !ok {
			// An invalid record is discarded alone and the datagram's
			// other records still count; only one that cannot be framed
			// ends the datagram (RFC 6347 §4.1.2.7).
			if b, ok = skipRecord(b); !ok {
				break
			}
			continue
		}
		b = rest
		if err := c.handleRecord(now, h, frag); err != nil {
			return c.fail(err)
		}
	}
	// A flight this datagram started is already out: a repeat later in
	// the same datagram must not send it twice.
	if c.resend && c.err == nil && c.state == started {
		c.resendFlight(now)
	}
	if c.state == closed {
		return nil // the close is reported as an event; later calls get ErrClosed
	}
	return c.err
}

// HandleTimeout runs the retransmission timer.
func (c *conn) HandleTimeout(now time.Time) {
	if c.err != nil || c.rtxDeadline.IsZero() || now.Before(c.rtxDeadline) {
		return
	}
	hs, tx, ev := c.handshaking(), len(c.tx), len(c.events)
	defer func() { c.progress(hs, tx, ev, true) }()
	if c.rtxCount >= maxRetransmits {
		c.fail(errHandshakeTimeout)
		return
	}
	c.rtxCount++
	c.rtxInterval = min(2*c.rtxInterval, maxRetransmit)
	c.rtxDeadline = now.Add(c.rtxInterval)
	c.sendFlight()
	c.lastResend = now
	c.resends++
}

// Deadline is when HandleTimeout must next be called; zero means never.
func (c *conn) Deadline() time.Time {
	if c.err != nil {
		return time.Time{}
	}
	return c.rtxDeadline
}

// Poll returns what the connection has for its owner: every datagram to
// send (Transmit, valid until the next call) first, then the events; false
// when there is nothing.
func (c *conn) Poll() (Event, bool) {
	if d := c.pollTransmit(); d != nil {
		return Event{Kind: Transmit, Data: d}, true
	}
	return c.pollEvent()
}

// pollTransmit returns the next datagram to send, or nil. The slice is
// valid until the next call.
func (c *conn) pollTransmit() []byte {
	if len(c.tx) == 0 {
		return nil
	}
	d := c.tx[0]
	c.tx[0] = nil
	c.tx = c.tx[1:]
	if len(c.tx) == 0 {
		c.tx = c.tx[:0:0]
	}
	return d
}

// pollEvent returns the next event.
func (c *conn) pollEvent() (Event, bool) {
	if len(c.events) == 0 {
		return Event{}, false
	}
	ev := c.events[0]
	c.events[0] = Event{}
	c.events = c.events[1:]
	if len(c.events) == 0 {
		c.events = c.events[:0:0]
	}
	return ev, true
}

// ExportKeyingMaterial is the RFC 5705 exporter, e.g. label
// "EXTRACTOR-dtls_srtp" with no context for DTLS-SRTP (RFC 5764 §4.2). It
// works only once the handshake has completed.
func (c *conn) ExportKeyingMaterial(label string, context []byte, n int) ([]byte, error) {
	if c.state != established || c.master == nil {
		return nil, errNotEstablished
	}
	switch label {
	case labelClientFinished, labelServerFinished, labelMasterSecret, labelKeyExpansion,
		labelExtendedMasterSecret:
		return nil, errors.New("dtls: reserved exporter label")
	}
	if n <= 0 || n > maxExport || len(context) >= 1<<16 {
		return nil, errors.New("dtls: bad exporter length")
	}
	out := make([]byte, n)
	if context == nil {
		prf(c.suite.hash, out, c.master, label, c.clientRandom[:], c.serverRandom[:])
	} else {
		l := []byte{byte(len(context) >> 8), byte(len(context))}
		prf(c.suite.hash, out, c.master, label, c.clientRandom[:], c.serverRandom[:], l, context)
	}
	return out, nil
}

// WriteApplicationData queues b as one epoch-1 record.
func (c *conn) WriteApplicationData(b []byte) error {
	if c.err != nil {
		return c.err
	}
	if c.state != established {
		return errNotEstablished
	}
	// One record, in one datagram, within TLSPlaintext's limit (RFC 5246
	// §6.2.1): with an MTU above it the datagram alone does not bound it.
	if len(b) > maxPlaintext || recordHeaderLen+c.writeCipher.overhead()+len(b) > c.cfg.MTU {
		return errTooLarge
	}
	if len(c.tx) >= maxQueuedDatagrams {
		return errQueueFull
	}
	d, err := c.appendRecord(make([]byte, 0, c.cfg.MTU), contentApplicationData, 1, b)
	if err != nil {
		return c.fail(err)
	}
	c.tx = append(c.tx, d)
	return nil
}

// Close queues a close_notify alert (RFC 5246 §7.2.1) and ends the
// connection. It emits no event.
func (c *conn) Close() {
	if c.err != nil {
		return
	}
	hs, tx, ev := c.handshaking(), len(c.tx), len(c.events)
	defer func() { c.progress(hs, tx, ev, false) }()
	if c.keyed() {
		c.sendAlert(alertLevelWarning, alertCloseNotify)
	}
	c.state = closed
	c.err = ErrClosed
	c.forget()
}

// handleRecord processes one record: epoch and replay checks, decryption,
// then dispatch by content type.
func (c *conn) handleRecord(now time.Time, h recordHeader, frag []byte) error {
	var data []byte
	switch h.epoch {
	case 0:
		// Epoch 0 is not authenticated, so its window only drops
		// duplicates and lets records older than it through: otherwise one
		// spoofed record with a huge sequence number would shut out the
		// real peer's handshake. The handshake layer copes with old
		// records (RFC 6347 §4.2.4).
		if c.replay[0].duplicate(h.seq) {
			return nil
		}
		c.replay[0].accept(h.seq)
		data = frag
	case 1:
		if c.readEpoch == 0 {
			c.keepEarly(h, frag)
			return nil
		}
		if !c.replay[1].check(h.seq) {
			return nil
		}
		if cap(c.plain) < len(frag) {
			// Sized by the largest record seen, not by the largest a record
			// may be (16 KiB): after the handshake only alerts come.
			c.plain = make([]byte, 0, len(frag))
		}
		pt, err := c.readCipher.open(c.plain[:0], h, frag)
		if err != nil {
			return nil // unauthentic records are dropped silently (RFC 6347 §4.1.2.7)
		}
		c.replay[1].accept(h.seq)
		data = pt
	default:
		return nil
	}
	switch h.typ {
	case contentHandshake:
		return c.onHandshakeRecord(now, h, data)
	case contentChangeCipherSpec:
		return c.onChangeCipherSpec(now, h, data)
	case contentAlert:
		return c.onAlert(h, data)
	case contentApplicationData:
		c.onApplicationData(h, data)
	}
	return nil
}

// keepEarly buffers a copy of an epoch-1 record that came before the
// peer's ChangeCipherSpec (reordered), to be processed once it arrives.
func (c *conn) keepEarly(h recordHeader, frag []byte) {
	if !c.awaitingPeerCCS() || len(c.early) >= maxEarlyRecords || len(frag) > maxEarlyRecordLen {
		return
	}
	rec := appendRecordHeader(make([]byte, 0, recordHeaderLen+len(frag)), h.typ, h.epoch, h.seq, len(frag))
	rec[1], rec[2] = byte(h.version>>8), byte(h.version)
	c.early = append(c.early, append(rec, frag...))
}

// onChangeCipherSpec switches the read half to epoch 1 (RFC 5246 §7.1),
// which is possible once the key exchange gave us the keys.
func (c *conn) onChangeCipherSpec(now time.Time, h recordHeader, data []byte) error {
	if h.epoch != 0 || !c.awaitingPeerCCS() || c.readEpoch != 0 {
		return nil // duplicates, e.g. in a repeated flight 5
	}
	if len(data) != 1 || data[0] != 1 {
		return alertUnexpectedMessage
	}
	if c.readCipher == nil {
		// Reordered ahead of the key exchange: drop; the peer repeats
		// its flight.
		return nil
	}
	c.readEpoch = 1
	early := c.early
	c.early = nil
	for _, rec := range early {
		eh, frag, _, ok := parseRecord(rec)
		if !ok {
			continue
		}
		if err := c.handleRecord(now, eh, frag); err != nil {
			return err
		}
	}
	return nil
}

// onAlert handles an alert (RFC 5246 §7.2). Once the peer has switched to
// epoch 1 only authenticated alerts count.
func (c *conn) onAlert(h recordHeader, data []byte) error {
	if !c.verified || h.epoch != c.readEpoch || len(data) != 2 {
		return nil // before the cookie nothing from the address changes state
	}
	level, desc := data[0], alert(data[1])
	if desc == alertCloseNotify {
		if c.keyed() {
			c.sendAlert(alertLevelWarning, alertCloseNotify)
		}
		c.state = closed
		c.err = ErrClosed
		c.forget()
		c.pushEvent(Event{Kind: Closed})
		return nil
	}
	e := &AlertError{Description: uint8(desc), Remote: true}
	if len(c.events) < maxEvents-reservedEvents {
		// Capped like application data: a flood of warnings must not
		// crowd out the state events (Failed, Closed) that follow.
		c.pushEvent(Event{Kind: AlertReceived, Alert: uint8(desc), Err: e})
	}
	if level == alertLevelWarning && c.state == established {
		return nil
	}
	// A fatal alert, or any alert during the handshake, ends it.
	c.state = failed
	c.err = e
	c.forget()
	c.pushEvent(Event{Kind: Failed, Alert: uint8(desc), Err: e})
	return nil
}

// onApplicationData delivers epoch-1 application data after the handshake.
func (c *conn) onApplicationData(h recordHeader, data []byte) {
	if h.epoch != 1 || c.state != established || len(c.events) >= maxEvents-reservedEvents {
		return
	}
	c.pushEvent(Event{Kind: ApplicationData, Data: append([]byte(nil), data...)})
}

// fail ends the connection because of err; an alert is sent to the peer.
func (c *conn) fail(err error) error {
	if c.err != nil {
		return c.err
	}
	var a alert
	if errors.As(err, &a) {
		if c.verified {
			c.sendAlert(alertLevelFatal, a)
		}
		err = &AlertError{Description: uint8(a)}
	}
	c.state = failed
	c.err = err
	c.forget()
	c.pushEvent(Event{Kind: Failed, Err: err})
	return err
}

// forget drops handshake state and secrets of a finished connection.
func (c *conn) forget() {
	c.flight = nil
	c.transcript = nil
	c.ecdhKey = nil
	c.early = nil
	c.role.forgetRole()
	c.reasm.reset(0)
	if c.state != established {
		c.master = nil
	}
	c.rtxDeadline = time.Time{}
}

func (c *conn) pushEvent(ev Event) {
	if len(c.events) < maxEvents {
		c.events = append(c.events, ev)
	}
}

// sendAlert queues an alert in the current write epoch.
func (c *conn) sendAlert(level uint8, a alert) {
	if len(c.tx) >= maxQueuedDatagrams {
		return
	}
	d, err := c.appendRecord(make([]byte, 0, 64), contentAlert, c.writeEpoch, []byte{level, uint8(a)})
	if err == nil {
		c.tx = append(c.tx, d)
	}
}

// appendRecord appends one record of the given epoch, protecting it in
// epoch 1, and consumes a write sequence number.
func (c *conn) appendRecord(dst []byte, typ uint8, epoch uint16, payload []byte) ([]byte, error) {
	seq := c.writeSeq[epoch]
	if seq > maxSeq {
		return dst, errSeqOverflow
	}
	c.writeSeq[epoch]++
	if epoch == 0 {
		dst = appendRecordHeader(dst, typ, 0, seq, len(payload))
		return append(dst, payload...), nil
	}
	return c.writeCipher.seal(dst, typ, epoch, seq, payload), nil
}

// randomBytes fills b from Config.Rand.
func (c *conn) randomBytes(b []byte) error {
	_, err := io.ReadFull(c.cfg.Rand, b)
	return err
}

// onHandshakeRecord splits a record into handshake fragments for the role.
func (c *conn) onHandshakeRecord(now time.Time, rh recordHeader, data []byte) error {
	for len(data) > 0 {
		h, rest, ok := parseHandshake(data)
		if !ok {
			return nil // malformed: drop the rest of the record
		}
		data = rest
		if err := c.role.onFragment(now, rh, &h); err != nil {
			return err
		}
		if c.err != nil {
			return nil
		}
	}
	return nil
}

// processMessages hands the peer's complete messages to the role in
// message_seq order. Finished waits for the ChangeCipherSpec before it.
func (c *conn) processMessages(now time.Time) error {
	for c.err == nil {
		p, ok := c.reasm.peek()
		if !ok || (p.typ == typeFinished && c.readEpoch == 0) {
			return nil
		}
		typ, epoch, body, seq := p.typ, p.epoch, p.body, c.reasm.next
		c.reasm.pop()
		if err := c.role.onMessage(now, typ, epoch, seq, body); err != nil {
			return err
		}
	}
	return nil
}

// Endpoint is what an owner drives of either role: Server and Client have
// the same sans-IO shape.
type Endpoint interface {
	Handle(now time.Time, from netip.AddrPort, b []byte)
	HandleTimeout(now time.Time)
	Deadline() time.Time
	Poll() (Event, bool)
	ExportKeyingMaterial(label string, context []byte, n int) ([]byte, error)
	Close()
}

var (
	_ Endpoint = (*Server)(nil)
	_ Endpoint = (*Client)(nil)
)
