// Package peer is one WebRTC sender as the server sees it: ICE-lite checks,
// the DTLS handshake (server or client, as the answer's a=setup says; role.go),
// SRTP/SRTCP, RTP reordering and VP8 frame assembly, and the RTCP feedback
// the server sends back. It is sans-IO: the owner feeds it datagrams and the
// time, drains its events, and arms one timer at Deadline.
//
//	p.Handle(now, src, b)   // or p.HandleTimeout(now) once Deadline passed
//	for ev, ok := p.Poll(); ok; ev, ok = p.Poll() {
//	    // Transmit → socket; Bind → routing table; the rest → host
//	}
//	timer.Reset(p.Deadline().Sub(now))
//
// That is the drive shape of every core (udpmux.Core): udpmux.Driver runs it.
//
// A Peer is not safe for concurrent use: one goroutine owns it.
package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
	"github.com/nutsbolts/webrtc/rtcplug/internal/ice"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
	"github.com/nutsbolts/webrtc/rtcplug/internal/vp8"

	"github.com/nutsbolts/webrtc/rtcplug/internal/demux"
)

// Timing of the peer (RFC 7675 consent, RFC 4585 feedback, RFC 3550 reports).
const (
	// ConnectTimeout is how long a joined peer may take to pass ICE and DTLS.
	ConnectTimeout = 30 * time.Second
	// ConsentTimeout: a connected peer with no authenticated traffic for this
	// long is gone; ice owns the RFC 7675 figure.
	ConsentTimeout = ice.ConsentTimeout
	// PLIRepeat is how often a PLI is repeated until the first keyframe.
	PLIRepeat = 2 * time.Second
	// PLIMinInterval rate-limits PLIs sent after packet loss.
	PLIMinInterval = 500 * time.Millisecond
	// ReportInterval is the period of receiver reports.
	ReportInterval = time.Second
	// ReorderWait is how long a packet waits for the gap before it to fill.
	ReorderWait = 100 * time.Millisecond
)

// Bounds on what the network can grow.
const (
	// ReorderSlots is the reorder window in packets.
	ReorderSlots = 64
	// MaxDatagram is the largest datagram handled; larger ones are dropped.
	MaxDatagram = 1500
	// MaxFrame bounds one assembled video frame; rtp owns the figure that
	// every depacketizer applies.
	MaxFrame = rtp.MaxFrame
	// maxEvents bounds the events one call may queue (a DTLS flight is a
	// handful of datagrams; the rest are single events).
	maxEvents = 256
	// maxBound bounds the addresses ICE may authenticate for one peer.
	maxBound = 8
)

// srtpLabel is the exporter label of RFC 5764 §4.2.
const srtpLabel = "EXTRACTOR-dtls_srtp"

// State is the connection state reported to the client.
type State int

// States, in the order a healthy peer passes them.
const (
	StateNew State = iota
	StateChecking
	StateConnected
	StateFailed
	StateClosed
)

func (s State) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateChecking:
		return "checking"
	case StateConnected:
		return "connected"
	case StateFailed:
		return "failed"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}

// Done reports whether the state is final.
func (s State) Done() bool { return s == StateFailed || s == StateClosed }

// EventKind says what an Event carries.
type EventKind int

// Event kinds.
const (
	None        EventKind = iota
	Transmit              // send Data to Addr
	Bind                  // Addr passed an ICE check: route it to this peer
	StateChange           // State is the new state; Err says why for failed
	Keyframe              // Data is a complete keyframe (Codec says which), owned by the receiver
	Log                   // Msg narrates a protocol step (debug level)
	Frame                 // Data is a complete frame, VP8 or H.264 Annex B (Config.Record only)
	Audio                 // Data is an Opus packet (Config.Record only)
	Unbind                // Addr is no longer this peer's: stop routing it here
	Active                // Addr carries this peer's authenticated SRTP: no other peer may take it
)

// Event is one output of the peer. Transmit, Frame and Audio data are valid
// until the next Handle call; Keyframe data belongs to the receiver.
type Event struct {
	Kind          EventKind
	Addr          netip.AddrPort
	Data          []byte
	State         State
	Err           error
	Width, Height int
	Key           bool // Frame: a keyframe
	RTPTimestamp  uint32
	// Time (Frame, Keyframe, Audio) is the capture time on the peer's one
	// timeline: from the RTCP sender reports once one came, else the arrival
	// of the source's first packet plus its RTP clock (timeline.go).
	Time  time.Time
	Msg   string
	Codec string // Keyframe, Frame: CodecVP8 or CodecH264
}

// Config describes a new peer.
type Config struct {
	LocalUfrag, LocalPwd string
	Certificate          *dtls.Certificate
	// Rand feeds DTLS and our SSRC; nil means crypto/rand inside dtls, and a
	// fixed SSRC here.
	Rand io.Reader
	// CNAME is sent in SDES with every report.
	CNAME string
	// Record emits every frame and Opus packet as events, for recording.
	Record bool
	// KeyframeInterval, when positive, asks for a keyframe (PLI) at most
	// this often even without loss, for senders that send keyframes only on
	// request (see snapshot.go).
	KeyframeInterval time.Duration
	// Buffers, shared by the host's peers, lends reorder and frame buffers;
	// nil means buffers of this peer's own.
	Buffers *Buffers
}

// Stats counts what the peer saw.
type Stats struct {
	VideoPackets, AudioPackets uint64
	VideoBytes, AudioBytes     uint64
	Frames, Keyframes          uint64
	Dropped                    uint64 // unauthenticated, undecryptable or malformed datagrams
	Lost                       uint64 // video packets skipped by the reorder buffer
	PLIs, NACKs, Reports       uint64
	FIRs                       uint64 // of the PLIs, those sent as FIR (a FIR-only sender)
	Probation                  uint64 // media packets of a new SSRC not (yet) followed (RFC 3550 §A.1)

	// Not counters: the state when Stats was taken (see snapshot.go).
	Jitter      time.Duration // video interarrival jitter (RFC 3550 §6.4.1)
	Bitrate     int           // media bits per second over the last few seconds
	SRTPProfile srtp.Profile  // 0 before the handshake
	CipherSuite uint16        // the DTLS cipher suite, 0 before the handshake
	Remote      netip.AddrPort
}

// Peer is one sender's state.
type Peer struct {
	cfg     Config
	created time.Time
	state   State
	ice     *ice.Agent
	msg     stun.Message

	remoteSet  bool
	nack       bool
	remote     sdp.Remote
	expected   []dtls.Fingerprint
	videoSSRCs []uint32

	// bound is the one list of the peer's ICE-authenticated addresses (ice
	// keeps none; udpmux's table follows it through Bind and Unbind).
	bound     []netip.AddrPort
	nominated netip.AddrPort // latest USE-CANDIDATE check (RFC 8445 §8.1.1)
	dest      netip.AddrPort // where we send DTLS and RTCP
	dtls      dtls.Endpoint
	role      dtlsRole
	active    netip.AddrPort // the address of the latest authenticated SRTP/SRTCP
	srtpUp    bool
	profile   srtp.Profile
	srtpIn    *srtp.Context
	srtpOut   *srtp.Context
	lastAuth  time.Time

	ssrc    uint32 // ours, for RTCP
	video   recvStats
	audio   recvStats
	reorder reorder
	asm     assembler // vp8 or h264, from the answer (video.go)

	videoCodec    string // "" until the answer: VP8
	videoFormats  []videoFormat
	switchedVideo bool
	firOnly       bool      // ask for keyframes with FIR, not PLI
	firSeq        uint8     // FIR command sequence number (RFC 5104 §4.3.1.2)
	tl            timeline  // audio/video clock and audio reorder (Config.Record)
	nk            nackState // missing video packets being NACKed (nack.go)

	probe         []byte    // the video packet a new SSRC's probation began with (probation.go)
	restartLogAt  time.Time // the last "restarted" log line
	restartsQuiet int       // restarts since then, not logged

	gotKeyframe bool
	pliDue      time.Time
	lastPLI     time.Time
	rrDue       time.Time

	bufs   *Buffers // Config.Buffers
	events []Event
	next   int
	arena  []byte
	plain  []byte
	// rtcpPlain and rtcpOut are scratch space for outgoing RTCP.
	rtcpPlain, rtcpOut []byte

	stats Stats
	info  info // see snapshot.go
}

// New creates a peer in state new at time now.
func New(cfg Config, now time.Time) (*Peer, error) {
	if cfg.LocalUfrag == "" || cfg.LocalPwd == "" || cfg.Certificate == nil {
		return nil, errors.New("peer: ICE credentials and certificate required")
	}
	p := &Peer{
		cfg:     cfg,
		created: now,
		ice:     ice.NewAgent(cfg.LocalUfrag, cfg.LocalPwd),
		plain:   make([]byte, 0, MaxDatagram+64),
		arena:   make([]byte, 0, 4*MaxDatagram),
		events:  make([]Event, 0, 16),
		ssrc:    0x5eed0001,
	}
	if cfg.Rand != nil {
		var b [4]byte
		if _, err := io.ReadFull(cfg.Rand, b[:]); err == nil {
			p.ssrc = binary.BigEndian.Uint32(b[:])
		}
	}
	if p.cfg.CNAME == "" {
		p.cfg.CNAME = "rtcplug"
	}
	p.bufs = cfg.Buffers
	if p.bufs == nil {
		p.bufs = NewBuffers()
	}
	p.asm.vp8 = vp8.NewPooledAssembler(MaxFrame, &p.bufs.frames)
	return p, nil
}

// State is the current connection state.
func (p *Peer) State() State { return p.state }

// Stats returns the counters and the current reception state.
func (p *Peer) Stats() Stats { return p.snapshot() }

// Profile is the negotiated SRTP profile, 0 before the handshake.
func (p *Peer) Profile() srtp.Profile { return p.profile }

// RemoteMedia is what the server uses from the answer's video section beyond
// sdp.Remote.
type RemoteMedia struct {
	// VideoSSRCs are its a=ssrc ids, if any (PLIs may go out before the
	// first packet arrives).
	VideoSSRCs []uint32
	// NACK is set when the client accepts generic NACKs for VP8
	// (a=rtcp-fb:<pt> nack, RFC 4585 §4.2).
	NACK bool
}

// SetRemote applies the client's answer: its ICE credentials, the
// fingerprints its DTLS certificate must match and the payload types.
func (p *Peer) SetRemote(now time.Time, r sdp.Remote, media RemoteMedia) error {
	p.begin()
	if p.remoteSet {
		return errors.New("peer: answer already applied")
	}
	if p.state.Done() {
		return errors.New("peer: closed")
	}
	client, err := roleFor(r.Setup)
	if err != nil {
		return err
	}
	if len(r.Fingerprints) == 0 {
		return errors.New("peer: answer has no fingerprint")
	}
	var fps []dtls.Fingerprint
	for _, f := range r.Fingerprints {
		d, err := f.Digest()
		if err != nil {
			continue
		}
		fp, err := dtls.NewFingerprint(f.Algorithm, d)
		if err != nil {
			continue // an unsupported hash next to a supported one is fine
		}
		fps = append(fps, fp)
	}
	if len(fps) == 0 {
		return errors.New("peer: no usable fingerprint in the answer")
	}
	p.expected = fps
	p.remote = r
	p.remoteSet = true
	p.role.client = client
	ssrcs := media.VideoSSRCs
	if len(ssrcs) > 4 {
		ssrcs = ssrcs[:4]
	}
	p.videoSSRCs = append([]uint32(nil), ssrcs...)
	p.nack = media.NACK
	p.setVideoCodec(r)
	p.ice.SetRemoteCredentials(r.ICEUfrag, r.ICEPwd)
	p.logf("answer applied: %s PT %d, audio PT %d, %d fingerprint(s), we are the DTLS %s", p.codecName(), r.VideoPT, r.AudioPT, len(fps), p.role)
	p.onRemoteSet(now)
	return nil
}

// Close ends the peer: close_notify to the client if DTLS is up, then state
// closed.
func (p *Peer) Close(now time.Time) {
	p.begin()
	p.close(now, nil)
}

func (p *Peer) close(now time.Time, why error) {
	if p.state.Done() {
		return
	}
	if p.dtls != nil {
		p.dtls.Close()
		p.drainDTLS(now)
	}
	p.setState(StateClosed, why)
}

// begin starts a new call: events and transmit bytes of the previous call are
// released.
func (p *Peer) begin() {
	for i := range p.events {
		if d := p.events[i].Data; len(d) > 0 && p.events[i].Kind == Transmit {
			d[0] = 0 // catch a caller that kept bytes past their life (quic.go does the same)
		}
		p.events[i] = Event{}
	}
	p.events = p.events[:0]
	p.next = 0
	p.arena = p.arena[:0]
}

// Poll returns the next event; false when drained.
func (p *Peer) Poll() (Event, bool) {
	if p.next >= len(p.events) {
		return Event{}, false
	}
	ev := p.events[p.next]
	p.next++
	return ev, true
}

// Datagram returns the datagram to send for a Transmit event.
func (ev Event) Datagram() (netip.AddrPort, []byte, bool) {
	return ev.Addr, ev.Data, ev.Kind == Transmit
}

func (p *Peer) emit(ev Event) {
	if len(p.events) >= maxEvents {
		p.stats.Dropped++
		return
	}
	p.events = append(p.events, ev)
}

func (p *Peer) transmit(to netip.AddrPort, b []byte) {
	if !to.IsValid() || len(b) == 0 {
		return
	}
	p.emit(Event{Kind: Transmit, Addr: to, Data: p.keep(b)})
}

// keep copies b into the arena, valid until the next Handle call.
func (p *Peer) keep(b []byte) []byte {
	start := len(p.arena)
	p.arena = append(p.arena, b...)
	return p.arena[start:len(p.arena):len(p.arena)]
}

func (p *Peer) logf(format string, args ...any) {
	p.emit(Event{Kind: Log, Msg: fmt.Sprintf(format, args...)})
}

func (p *Peer) setState(s State, err error) {
	if p.state == s || p.state.Done() {
		return
	}
	p.state = s
	p.emit(Event{Kind: StateChange, State: s, Err: err})
}

func (p *Peer) fail(err error) {
	p.setState(StateFailed, err)
}

// Deadline is when HandleTimeout must next be called; zero means never.
func (p *Peer) Deadline() time.Time {
	if p.state.Done() {
		return time.Time{}
	}
	var d time.Time
	add := func(t time.Time) {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	if p.state != StateConnected {
		add(p.created.Add(ConnectTimeout))
	} else {
		add(p.lastAuth.Add(ConsentTimeout))
	}
	if p.dtls != nil {
		add(p.dtls.Deadline())
	}
	add(p.roleDeadline())
	if p.srtpUp {
		if p.pliSSRC() != 0 {
			add(p.pliDue)
		}
		add(p.rrDue)
		add(p.reorder.deadline())
		add(p.audioDeadline())
		add(p.nackDeadline())
	}
	return d
}

// HandleTimeout runs the timers that are due at now.
func (p *Peer) HandleTimeout(now time.Time) {
	p.begin()
	p.info.now = now
	if p.state.Done() {
		return
	}
	if p.state != StateConnected && !now.Before(p.created.Add(ConnectTimeout)) {
		p.fail(errors.New("peer: not connected in time"))
		return
	}
	if p.state == StateConnected && !now.Before(p.lastAuth.Add(ConsentTimeout)) {
		p.logf("no authenticated traffic for %s: consent expired", ConsentTimeout)
		p.close(now, errors.New("peer: consent expired"))
		return
	}
	p.roleTimeout(now)
	if p.dtls != nil {
		if d := p.dtls.Deadline(); !d.IsZero() && !now.Before(d) {
			p.dtls.HandleTimeout(now)
			p.drainDTLS(now)
		}
	}
	if p.srtpUp {
		if d := p.nackDeadline(); !d.IsZero() && !now.Before(d) {
			p.nackTimeout(now)
		}
		if d := p.reorder.deadline(); !d.IsZero() && !now.Before(d) {
			p.reorderTimeout(now)
		}
		p.audioTimeout(now)
	}
	p.runFeedback(now)
}

// HandleSTUN is Handle for a STUN message the caller has decoded
// already (the read loop decodes a Binding request to find its peer by
// USERNAME); m.Raw is the datagram. The peer does not keep m.
func (p *Peer) HandleSTUN(now time.Time, src netip.AddrPort, m *stun.Message) {
	p.begin()
	p.info.now = now
	if p.state.Done() || len(m.Raw) == 0 || len(m.Raw) > MaxDatagram {
		p.stats.Dropped++
		return
	}
	p.handleBinding(now, src, m)
	p.runFeedback(now)
}

// Handle processes one datagram from src. The peer may modify b.
func (p *Peer) Handle(now time.Time, src netip.AddrPort, b []byte) {
	p.begin()
	p.info.now = now
	if p.state.Done() || len(b) == 0 || len(b) > MaxDatagram {
		p.stats.Dropped++
		return
	}
	switch demux.Classify(b) {
	case demux.KindSTUN:
		p.handleSTUN(now, src, b)
	case demux.KindDTLS:
		p.handleDTLS(now, src, b)
	case demux.KindRTP:
		p.handleSRTP(now, src, b)
	default:
		p.stats.Dropped++
	}
	p.runFeedback(now)
}

func (p *Peer) isBound(a netip.AddrPort) bool {
	for _, x := range p.bound {
		if x == a {
			return true
		}
	}
	return false
}

// handleSTUN answers a Binding request. A check that verifies lets its
// source send DTLS and SRTP to this peer (it is bound), and nothing more once
// DTLS has begun: MESSAGE-INTEGRITY does not stop a replay from another
// address, so a check never moves where we send, never evicts the address
// carrying authenticated media and never refreshes consent. Those rest on
// authenticated SRTP/SRTCP (authenticated in receive.go).
func (p *Peer) handleSTUN(now time.Time, src netip.AddrPort, b []byte) {
	if err := p.msg.Decode(b); err != nil {
		p.stats.Dropped++
		return
	}
	p.handleBinding(now, src, &p.msg)
}

// handleBinding is handleSTUN for a decoded message.
func (p *Peer) handleBinding(now time.Time, src netip.AddrPort, m *stun.Message) {
	if m.Type != stun.TypeBindingRequest {
		p.stats.Dropped++
		return
	}
	resp, res := p.ice.HandleBinding(now, src, m, p.plain[:0])
	if len(resp) > 0 {
		p.transmit(src, resp)
	}
	if res.Retransmit {
		// A retransmission, or a replay from anywhere: answered as before,
		// nothing else (RFC 8489 §6.3.4).
		return
	}
	if !res.Authenticated {
		p.stats.Dropped++
		return
	}
	if res.Nominated {
		p.nominated = src
	}
	if !p.isBound(src) {
		p.logf("ICE check from %s: USERNAME, MESSAGE-INTEGRITY and FINGERPRINT verified, answered", src)
		p.bind(src)
	} else {
		// Re-assert the route: another peer's replayed check may have taken
		// the address over in the routing table.
		p.emit(Event{Kind: Bind, Addr: src})
	}
	if !p.destLocked() {
		// Before DTLS nothing is sent to dest yet; it tells a DTLS client
		// where to start. The first check sets it, a nomination moves it.
		if !p.dest.IsValid() {
			p.dest = src
		}
		if res.Nominated && p.dest != src {
			p.logf("ICE nominated %s", src)
			p.dest = src
		}
	}
	if p.state == StateNew {
		p.setState(StateChecking, nil)
	}
	p.onChecked(now, src, res.Nominated)
}

// destLocked reports whether the destination may now move only on
// authenticated traffic: once DTLS has begun it is the address DTLS runs
// on, then the address of the latest authenticated SRTP/SRTCP.
func (p *Peer) destLocked() bool { return p.dtls != nil || p.srtpUp }

// bind adds src to the addresses that may send DTLS and SRTP. When the list
// is full the oldest address goes, never the destination nor the address of
// the latest authenticated media: those carry (or are about to carry) the
// session.
func (p *Peer) bind(src netip.AddrPort) {
	if len(p.bound) >= maxBound {
		for i, a := range p.bound {
			if a == p.dest || a == p.active {
				continue
			}
			p.bound = append(p.bound[:i], p.bound[i+1:]...)
			p.emit(Event{Kind: Unbind, Addr: a})
			break
		}
	}
	p.bound = append(p.bound, src)
	p.emit(Event{Kind: Bind, Addr: src})
}

func (p *Peer) handleDTLS(now time.Time, src netip.AddrPort, b []byte) {
	if !p.isBound(src) || !p.remoteSet {
		// RFC 8842 §4 / our security model: DTLS only from an address ICE has bound.
		p.stats.Dropped++
		return
	}
	if p.dtls == nil && !p.startServer(src) {
		p.stats.Dropped++
		return
	}
	p.dtls.Handle(now, src, b)
	p.drainDTLS(now)
}

func (p *Peer) dtlsDead(err error) {
	if p.state == StateConnected {
		p.setState(StateClosed, fmt.Errorf("peer: dtls: %w", err))
		return
	}
	p.fail(fmt.Errorf("peer: dtls: %w", err))
}

// drainDTLS moves the DTLS connection's datagrams and events out.
func (p *Peer) drainDTLS(now time.Time) {
	for ev, ok := p.dtls.Poll(); ok; ev, ok = p.dtls.Poll() {
		switch ev.Kind {
		case dtls.Transmit:
			p.transmit(p.dest, ev.Data)
		case dtls.Progress:
			p.logf("%s", ev.Note)
		case dtls.HandshakeComplete:
			p.logf("DTLS handshake complete: cipher suite %#04x, SRTP profile %#04x, the peer's certificate matches the answer", ev.CipherSuite, ev.SRTPProfile)
			p.info.cipher = ev.CipherSuite
			if err := p.startSRTP(now, ev.SRTPProfile); err != nil {
				p.fail(err)
				return
			}
		case dtls.AlertReceived:
			// dtls reports close_notify as Closed, never as an alert.
			p.logf("DTLS alert %d received", ev.Alert)
		case dtls.Closed:
			p.setState(StateClosed, ev.Err)
		case dtls.Failed:
			p.dtlsDead(ev.Err)
		}
	}
}

// startSRTP derives the SRTP keys from the DTLS exporter (RFC 5764 §4.2): we
// decrypt with the peer's write key and encrypt our RTCP with ours (srtpKeys).
func (p *Peer) startSRTP(now time.Time, prof srtp.Profile) error {
	km, err := p.dtls.ExportKeyingMaterial(srtpLabel, nil, srtp.KeyingMaterialLen(prof))
	if err != nil {
		return fmt.Errorf("peer: exporter: %w", err)
	}
	ck, cs, sk, ss, err := srtp.SplitKeyingMaterial(prof, km)
	if err != nil {
		return fmt.Errorf("peer: srtp keys: %w", err)
	}
	inKey, inSalt, outKey, outSalt := p.srtpKeys(ck, cs, sk, ss)
	if p.srtpIn, err = srtp.NewContext(prof, inKey, inSalt); err != nil {
		return fmt.Errorf("peer: srtp: %w", err)
	}
	if p.srtpOut, err = srtp.NewContext(prof, outKey, outSalt); err != nil {
		return fmt.Errorf("peer: srtp: %w", err)
	}
	p.profile = prof
	p.srtpUp = true
	p.lastAuth = now
	p.pliDue = now
	p.rrDue = now.Add(ReportInterval)
	p.logf("SRTP keys exported (%s)", prof)
	p.setState(StateConnected, nil)
	return nil
}
