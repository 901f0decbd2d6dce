package dtls

import (
	"crypto"
	"crypto/ecdh"
	"errors"
	"io"
	"net/netip"
	"time"
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
	}
	return "EventKind(?)"
}

// Event is something the owner of a Server needs to know. Data and
// PeerCertificate are owned by the receiver.
type Event struct {
	Kind            EventKind
	CipherSuite     uint16
	SRTPProfile     uint16
	PeerCertificate []byte
	Alert           uint8
	Err             error
	Data            []byte
}

// ErrClosed is returned once the connection was closed by either side.
var ErrClosed = errors.New("dtls: connection closed")

var (
	errHandshakeTimeout = errors.New("dtls: handshake timed out")
	errNotEstablished   = errors.New("dtls: handshake not complete")
	errTooLarge         = errors.New("dtls: application data does not fit in one record and datagram")
	errQueueFull        = errors.New("dtls: transmit queue full")
)

// state is where the handshake is (RFC 6347 §4.2.4 flights, server side):
//
//	awaitHello --ClientHello without cookie / HelloVerifyRequest--> awaitCookieHello
//	awaitCookieHello --ClientHello with cookie / flight 4--> awaitFlight5
//	awaitFlight5 --Certificate, ClientKeyExchange, CertificateVerify,
//	               ChangeCipherSpec, Finished / CCS+Finished--> established
type state int

const (
	awaitHello state = iota
	awaitCookieHello
	awaitFlight5
	established
	closed
	failed
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
	// when they arrive before the client's ChangeCipherSpec (RFC 6347 §4.1
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

// Server is the server side of one DTLS 1.2 association.
type Server struct {
	cfg  Config
	addr netip.AddrPort

	state    state
	verified bool  // a ClientHello with a valid cookie came: the address answers
	err      error // set once the connection is dead

	// read half: epoch 0 is plaintext; epoch 1 keys exist after
	// ClientKeyExchange and become current at the client's ChangeCipherSpec.
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
	hello          partial // the ClientHello being reassembled before the cookie check
	helloSeq       uint16
	helloRecordSeq uint64 // highest record number among the hello's fragments
	clientFlight   uint16 // message_seq of the first message of the client's flight 5
	reasm          reassembler
	expect         uint8 // next handshake type in the client's flight 5
	transcript     []byte
	sendSeq        uint16
	clientRandom   [randomLen]byte
	serverRandom   [randomLen]byte
	suite          cipherSuite
	srtpProfile    uint16
	group          uint16
	ecdhKey        *ecdh.PrivateKey
	peerCert       []byte
	peerKey        crypto.PublicKey
	master         []byte

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

// NewServer returns a Server for the client at clientAddr (which the caller
// has authenticated with ICE). clientAddr is bound into the cookie.
func NewServer(cfg Config, clientAddr netip.AddrPort) (*Server, error) {
	c, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:     c,
		addr:    clientAddr,
		plain:   make([]byte, 0, maxPlaintext+aeadTagLen),
		scratch: make([]byte, 0, c.MTU),
	}, nil
}

// HandleDatagram processes one datagram from the client. It returns an
// error only when the connection is dead (then every later call returns it);
// bad or unauthentic records are dropped silently.
func (s *Server) HandleDatagram(now time.Time, b []byte) error {
	if s.err != nil {
		return s.err
	}
	s.resend = false
	started := s.state
	for len(b) > 0 && s.err == nil {
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
		if err := s.handleRecord(now, h, frag); err != nil {
			return s.fail(err)
		}
	}
	// A flight this datagram started is already out: a repeat later in
	// the same datagram must not send it twice.
	if s.resend && s.err == nil && s.state == started {
		s.resendFlight(now)
	}
	if s.state == closed {
		return nil // the close is reported as an event; later calls get ErrClosed
	}
	return s.err
}

// HandleTimeout runs the retransmission timer.
func (s *Server) HandleTimeout(now time.Time) {
	if s.err != nil || s.state != awaitFlight5 || s.rtxDeadline.IsZero() || now.Before(s.rtxDeadline) {
		return
	}
	if s.rtxCount >= maxRetransmits {
		s.fail(errHandshakeTimeout)
		return
	}
	s.rtxCount++
	s.rtxInterval = min(2*s.rtxInterval, maxRetransmit)
	s.rtxDeadline = now.Add(s.rtxInterval)
	s.sendFlight()
	s.lastResend = now
	s.resends++
}

// Deadline is when HandleTimeout must next be called; zero means never.
func (s *Server) Deadline() time.Time {
	if s.err != nil || s.state != awaitFlight5 {
		return time.Time{}
	}
	return s.rtxDeadline
}

// PollTransmit returns the next datagram to send, or nil. The slice is
// valid until the next call.
func (s *Server) PollTransmit() []byte {
	if len(s.tx) == 0 {
		return nil
	}
	d := s.tx[0]
	s.tx[0] = nil
	s.tx = s.tx[1:]
	if len(s.tx) == 0 {
		s.tx = s.tx[:0:0]
	}
	return d
}

// PollEvent returns the next event.
func (s *Server) PollEvent() (Event, bool) {
	if len(s.events) == 0 {
		return Event{}, false
	}
	ev := s.events[0]
	s.events[0] = Event{}
	s.events = s.events[1:]
	if len(s.events) == 0 {
		s.events = s.events[:0:0]
	}
	return ev, true
}

// ExportKeyingMaterial is the RFC 5705 exporter, e.g. label
// "EXTRACTOR-dtls_srtp" with no context for DTLS-SRTP (RFC 5764 §4.2). It
// works only once the handshake has completed.
func (s *Server) ExportKeyingMaterial(label string, context []byte, n int) ([]byte, error) {
	if s.state != established || s.master == nil {
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
		prf(s.suite.hash, out, s.master, label, s.clientRandom[:], s.serverRandom[:])
	} else {
		l := []byte{byte(len(context) >> 8), byte(len(context))}
		prf(s.suite.hash, out, s.master, label, s.clientRandom[:], s.serverRandom[:], l, context)
	}
	return out, nil
}

// WriteApplicationData queues b as one epoch-1 record.
func (s *Server) WriteApplicationData(b []byte) error {
	if s.err != nil {
		return s.err
	}
	if s.state != established {
		return errNotEstablished
	}
	// One record, in one datagram, within TLSPlaintext's limit (RFC 5246
	// §6.2.1): with an MTU above it the datagram alone does not bound it.
	if len(b) > maxPlaintext || recordHeaderLen+s.writeCipher.overhead()+len(b) > s.cfg.MTU {
		return errTooLarge
	}
	if len(s.tx) >= maxQueuedDatagrams {
		return errQueueFull
	}
	d, err := s.appendRecord(make([]byte, 0, s.cfg.MTU), contentApplicationData, 1, b)
	if err != nil {
		return s.fail(err)
	}
	s.tx = append(s.tx, d)
	return nil
}

// Close queues a close_notify alert (RFC 5246 §7.2.1) and ends the
// connection. It emits no event.
func (s *Server) Close() {
	if s.err != nil {
		return
	}
	if s.state == awaitFlight5 || s.state == established {
		s.sendAlert(alertLevelWarning, alertCloseNotify)
	}
	s.state = closed
	s.err = ErrClosed
	s.forget()
}

// handleRecord processes one record: epoch and replay checks, decryption,
// then dispatch by content type.
func (s *Server) handleRecord(now time.Time, h recordHeader, frag []byte) error {
	var data []byte
	switch h.epoch {
	case 0:
		// Epoch 0 is not authenticated, so its window only drops
		// duplicates and lets records older than it through: otherwise one
		// spoofed record with a huge sequence number would shut out the
		// real client's handshake. The handshake layer copes with old
		// records (RFC 6347 §4.2.4).
		if s.replay[0].duplicate(h.seq) {
			return nil
		}
		s.replay[0].accept(h.seq)
		data = frag
	case 1:
		if s.readEpoch == 0 {
			s.keepEarly(h, frag)
			return nil
		}
		if !s.replay[1].check(h.seq) {
			return nil
		}
		pt, err := s.readCipher.open(s.plain[:0], h, frag)
		if err != nil {
			return nil // unauthentic records are dropped silently (RFC 6347 §4.1.2.7)
		}
		s.replay[1].accept(h.seq)
		data = pt
	default:
		return nil
	}
	switch h.typ {
	case contentHandshake:
		return s.onHandshakeRecord(now, h, data)
	case contentChangeCipherSpec:
		return s.onChangeCipherSpec(now, h, data)
	case contentAlert:
		return s.onAlert(h, data)
	case contentApplicationData:
		s.onApplicationData(h, data)
	}
	return nil
}

// keepEarly buffers a copy of an epoch-1 record that came before the
// client's ChangeCipherSpec (reordered), to be processed once it arrives.
func (s *Server) keepEarly(h recordHeader, frag []byte) {
	if s.state != awaitFlight5 || len(s.early) >= maxEarlyRecords || len(frag) > maxEarlyRecordLen {
		return
	}
	rec := appendRecordHeader(make([]byte, 0, recordHeaderLen+len(frag)), h.typ, h.epoch, h.seq, len(frag))
	rec[1], rec[2] = byte(h.version>>8), byte(h.version)
	s.early = append(s.early, append(rec, frag...))
}

// onChangeCipherSpec switches the read half to epoch 1 (RFC 5246 §7.1),
// which is possible once ClientKeyExchange gave us the keys.
func (s *Server) onChangeCipherSpec(now time.Time, h recordHeader, data []byte) error {
	if h.epoch != 0 || s.state != awaitFlight5 || s.readEpoch != 0 {
		return nil // duplicates, e.g. in a repeated flight 5
	}
	if len(data) != 1 || data[0] != 1 {
		return alertUnexpectedMessage
	}
	if s.readCipher == nil {
		// Reordered ahead of ClientKeyExchange: drop; the client repeats
		// its flight.
		return nil
	}
	s.readEpoch = 1
	early := s.early
	s.early = nil
	for _, rec := range early {
		eh, frag, _, ok := parseRecord(rec)
		if !ok {
			continue
		}
		if err := s.handleRecord(now, eh, frag); err != nil {
			return err
		}
	}
	return nil
}

// onAlert handles an alert (RFC 5246 §7.2). Once the client has switched to
// epoch 1 only authenticated alerts count.
func (s *Server) onAlert(h recordHeader, data []byte) error {
	if !s.verified || h.epoch != s.readEpoch || len(data) != 2 {
		return nil // before the cookie nothing from the address changes state
	}
	level, desc := data[0], alert(data[1])
	if desc == alertCloseNotify {
		if s.state == awaitFlight5 || s.state == established {
			s.sendAlert(alertLevelWarning, alertCloseNotify)
		}
		s.state = closed
		s.err = ErrClosed
		s.forget()
		s.pushEvent(Event{Kind: Closed})
		return nil
	}
	e := &AlertError{Description: uint8(desc), Remote: true}
	if len(s.events) < maxEvents-reservedEvents {
		// Capped like application data: a flood of warnings must not
		// crowd out the state events (Failed, Closed) that follow.
		s.pushEvent(Event{Kind: AlertReceived, Alert: uint8(desc), Err: e})
	}
	if level == alertLevelWarning && s.state == established {
		return nil
	}
	// A fatal alert, or any alert during the handshake, ends it.
	s.state = failed
	s.err = e
	s.forget()
	s.pushEvent(Event{Kind: Failed, Alert: uint8(desc), Err: e})
	return nil
}

// onApplicationData delivers epoch-1 application data after the handshake.
func (s *Server) onApplicationData(h recordHeader, data []byte) {
	if h.epoch != 1 || s.state != established || len(s.events) >= maxEvents-reservedEvents {
		return
	}
	s.pushEvent(Event{Kind: ApplicationData, Data: append([]byte(nil), data...)})
}

// fail ends the connection because of err; an alert is sent to the peer.
func (s *Server) fail(err error) error {
	if s.err != nil {
		return s.err
	}
	var a alert
	if errors.As(err, &a) {
		if s.verified {
			s.sendAlert(alertLevelFatal, a)
		}
		err = &AlertError{Description: uint8(a)}
	}
	s.state = failed
	s.err = err
	s.forget()
	s.pushEvent(Event{Kind: Failed, Err: err})
	return err
}

// forget drops handshake state and secrets of a finished connection.
func (s *Server) forget() {
	s.flight = nil
	s.transcript = nil
	s.ecdhKey = nil
	s.early = nil
	s.hello.reset()
	s.reasm.reset(0)
	if s.state != established {
		s.master = nil
	}
	s.rtxDeadline = time.Time{}
}

func (s *Server) pushEvent(ev Event) {
	if len(s.events) < maxEvents {
		s.events = append(s.events, ev)
	}
}

// sendAlert queues an alert in the current write epoch.
func (s *Server) sendAlert(level uint8, a alert) {
	if len(s.tx) >= maxQueuedDatagrams {
		return
	}
	d, err := s.appendRecord(make([]byte, 0, 64), contentAlert, s.writeEpoch, []byte{level, uint8(a)})
	if err == nil {
		s.tx = append(s.tx, d)
	}
}

// appendRecord appends one record of the given epoch, protecting it in
// epoch 1, and consumes a write sequence number.
func (s *Server) appendRecord(dst []byte, typ uint8, epoch uint16, payload []byte) ([]byte, error) {
	seq := s.writeSeq[epoch]
	if seq > maxSeq {
		return dst, errSeqOverflow
	}
	s.writeSeq[epoch]++
	if epoch == 0 {
		dst = appendRecordHeader(dst, typ, 0, seq, len(payload))
		return append(dst, payload...), nil
	}
	return s.writeCipher.seal(dst, typ, epoch, seq, payload), nil
}

// randomBytes fills b from Config.Rand.
func (s *Server) randomBytes(b []byte) error {
	_, err := io.ReadFull(s.cfg.Rand, b)
	return err
}
