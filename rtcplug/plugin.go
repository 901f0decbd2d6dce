// Package rtcplug receives live WebRTC video (and audio) from browsers and
// other senders inside any go-chi/chi application, with one call:
//
//	p, err := rtcplug.Mount(r,
//	    rtcplug.WithContext(ctx),
//	    rtcplug.WithSnapshotDir("output"),
//	    rtcplug.OnKeyframe(func(k rtcplug.Keyframe) { ... }),
//	)
//
// Browsers signal over a WebSocket (default path /ws) and send media to one
// UDP port (default 15000) shared by every peer. Each VP8 keyframe is decoded
// off the packet path and written as a JPEG and/or handed to OnKeyframe.
// Everything below this package (STUN, ICE-lite, DTLS 1.2, SRTP, RTP/RTCP,
// SDP, VP8) is implemented in rtcplug/internal on the standard library.
package rtcplug

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nutsbolts/webrtc/rtcplug/internal/conference"
	"github.com/nutsbolts/webrtc/rtcplug/internal/ice"
	"github.com/nutsbolts/webrtc/rtcplug/internal/media"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/record"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/udpmux"
)

// Plugin is a mounted receiver. Its methods are safe for concurrent use.
type Plugin struct {
	cfg    *config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	host   hostState   // peers.go
	cl     *clusterRun // cluster.go; nil without WithCluster
	mux    *udpmux.Mux
	reg    *conference.Registry[*peerHandle]
	pool   *media.Pool

	hostAddrs []netip.Addr
	srflx     atomic.Pointer[netip.AddrPort]

	mu       sync.Mutex
	closing  bool
	departed peer.Stats     // counters of peers that have left
	wg       sync.WaitGroup // every goroutine but the peers'
	peers    sync.WaitGroup // peer goroutines: they end before the socket closes
	done     chan struct{}
	sockets  atomic.Int64 // signaling sockets accepted so far (their Welcome id)
	open     atomic.Int64 // signaling sockets open now

	// states carries OnPeerState calls to their own goroutine, so that a slow
	// host callback never stalls a peer's packets, timers or shutdown.
	states        chan PeerState
	statesDone    chan struct{}
	droppedStates atomic.Uint64

	refusalLines refusalLines // rate limit of the refusal log lines (refusals.go)
	refusals     refusalLog   // rate-limited Info lines for limit refusals
	wsBySource   sourceCounts // open signaling sockets per source
}

// maxQueuedStates bounds the OnPeerState calls waiting for a slow callback;
// beyond it state changes are dropped (and counted).
const maxQueuedStates = 1024

// Mount validates the options, binds the UDP port, registers the signaling
// route and the WHIP routes on r (an error, not a panic, if a path is taken)
// and starts the plugin. It stops when the WithContext context ends or Close
// is called.
func Mount(r chi.Router, opts ...Option) (*Plugin, error) {
	if r == nil {
		return nil, errors.New("rtcplug: nil router")
	}
	cfg := defaults()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := cfg.ctx.Err(); err != nil {
		return nil, fmt.Errorf("rtcplug: context already done: %w", err)
	}
	if r.Match(chi.NewRouteContext(), "GET", cfg.signalingPath) {
		return nil, fmt.Errorf("rtcplug: route GET %s is already taken", cfg.signalingPath)
	}
	if cfg.whipPath != "" && (r.Match(chi.NewRouteContext(), "POST", cfg.whipPath+"/conference") ||
		r.Match(chi.NewRouteContext(), "POST", cfg.whipPath)) {
		return nil, fmt.Errorf("rtcplug: route POST %s/{conference} is already taken", cfg.whipPath)
	}
	p := &Plugin{cfg: cfg, log: cfg.log, done: make(chan struct{})}
	p.host.init()
	if _, err := p.host.certs.generate(cfg.rand, cfg.clock()); err != nil {
		return nil, fmt.Errorf("rtcplug: certificate: %w", err)
	}
	mux, err := udpmux.Listen(cfg.udpPort, cfg.log)
	if err != nil {
		return nil, fmt.Errorf("rtcplug: bind UDP port %d: %w", cfg.udpPort, err)
	}
	p.mux = mux
	p.ctx, p.cancel = context.WithCancel(cfg.ctx)
	p.reg = conference.New[*peerHandle](conference.Limits{
		MaxConferences:        cfg.maxConferences,
		MaxPeersPerConference: cfg.maxPerConf,
		MaxPeers:              cfg.maxPeers,
		MaxPending:            cfg.maxPending,
		MaxPendingPerSource:   cfg.maxPendingPerSource,
	}, cfg.rand)
	p.hostAddrs = hostAddrs(mux.LocalAddr().Addr().Is6(), cfg.candidateAddrs)

	p.pool = media.NewPool(p.ctx, media.Config{
		Dir:      cfg.snapshotDir,
		Quality:  cfg.jpegQuality,
		Workers:  cfg.decodeWorkers,
		OnResult: p.onDecoded,
		Logger:   p.log,

		Rate: cfg.snapshotRate, RatePer: cfg.snapshotPer, DiskLimit: cfg.snapshotDisk,
		DecodeShare: media.DefaultDecodeShare,
	})

	if err := p.startCluster(); err != nil {
		p.cancel()
		p.pool.Close()
		_ = mux.Close()
		return nil, err
	}
	sub := chi.NewRouter()
	sub.Get("/", p.serveWS)
	err = mountSafely(r, cfg.signalingPath, sub)
	if err == nil && cfg.whipPath != "" {
		err = mountSafely(r, cfg.whipPath, p.whipRouter())
	}
	if err != nil {
		p.cancel()
		p.stopCluster()
		p.pool.Close()
		_ = mux.Close()
		return nil, err
	}

	p.log.Info("rtcplug mounted", "signaling", cfg.signalingPath, "udp", mux.LocalAddr().String(),
		"candidates", len(p.hostAddrs)+len(cfg.publicIPs))
	p.logWHIPPolicy()
	if cfg.onPeerState != nil {
		p.states, p.statesDone = make(chan PeerState, maxQueuedStates), make(chan struct{})
		go func() {
			defer close(p.statesDone)
			for st := range p.states {
				cfg.onPeerState(st)
			}
		}()
	}
	p.track()
	go func() {
		defer p.wg.Done()
		// The socket outlives the context until the peers have said
		// goodbye (close_notify); shutdown closes it.
		if err := mux.Run(context.Background(), router{p.reg}); err != nil {
			p.stopWith(fmt.Errorf("rtcplug: UDP socket: %w", err))
		}
	}()
	if cfg.stunServer != "" && p.track() {
		go func() {
			defer p.wg.Done()
			p.discover(cfg.stunServer)
		}()
	}
	go p.shutdown()
	return p, nil
}

// mountSafely turns a chi panic (a conflicting route) into an error.
func mountSafely(r chi.Router, path string, h *chi.Mux) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("rtcplug: cannot mount at %s: %v", path, v)
		}
	}()
	r.Mount(path, h)
	return nil
}

// track registers a goroutine about to start; false once shutting down.
func (p *Plugin) track() bool { return p.trackIn(&p.wg) }

func (p *Plugin) trackIn(wg *sync.WaitGroup) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	wg.Add(1)
	return true
}

// shutdown waits for the context, then for every goroutine, then closes Done.
func (p *Plugin) shutdown() {
	<-p.ctx.Done()
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.reg.Close()
	// Peers see the context too: each sends close_notify and ends.
	p.peers.Wait()
	_ = p.mux.Close()
	p.wg.Wait()
	if p.states != nil {
		// Every peer has ended: no more states. The last ones are delivered.
		close(p.states)
		<-p.statesDone
	}
	p.stopCluster()
	p.pool.Close()
	p.log.Info("rtcplug stopped")
	why := error(ErrClosed)
	if p.cfg.ctx.Err() != nil {
		why = context.Cause(p.cfg.ctx)
	}
	p.stopWith(why) // the first reason stays
	close(p.done)
}

// Close stops the plugin and waits until every goroutine, socket and
// WebSocket has ended, and for an OnKeyframe or OnPeerState callback that is
// running to return, and for OnFrame / OnAudio to get what was queued (a
// callback never holds up the sockets or the peers).
// It is safe to call more than once and concurrently with the end of the
// WithContext context, but not from a callback (it would wait for itself);
// cancel the WithContext context there instead.
func (p *Plugin) Close() error {
	p.cancel()
	<-p.done
	return nil
}

// Done is closed once the plugin has fully stopped.
func (p *Plugin) Done() <-chan struct{} { return p.done }

// UDPAddr is the bound UDP address (wildcard address, actual port).
func (p *Plugin) UDPAddr() netip.AddrPort { return p.mux.LocalAddr() }

// Stats is a snapshot of the plugin's counters. Packet counters cover every
// peer since Mount; live peers' counters lag by at most a quarter second.
type Stats struct {
	Conferences, Peers, Pending int
	// Datagrams received on the UDP port, and those dropped because a peer's
	// queue was full or no peer matched.
	Datagrams, DroppedDatagrams, UnroutedDatagrams uint64
	// Authenticated, decrypted media packets, video frames (VP8 or H.264) assembled and video
	// packets given up as lost.
	VideoPackets, AudioPackets, VideoFrames, LostPackets uint64
	// RTCP sent: picture loss indications, NACKs and compound reports.
	PLIs, NACKs, Reports uint64
	// Keyframes decoded, JPEGs written, keyframes dropped because the decoder
	// pool was busy, and decode or write failures.
	Keyframes, Snapshots, DroppedKeyframes, FailedKeyframes uint64
	// Media bytes received (after SRTP), video and audio.
	VideoBytes, AudioBytes uint64
	// InvalidPackets: datagrams a peer dropped as unauthenticated,
	// undecryptable, malformed, late or duplicate.
	InvalidPackets uint64
	// Calls dropped because a callback fell behind (OnPeerState, OnFrame,
	// OnAudio), and frames or audio packets the recorder dropped because the
	// disk fell behind.
	DroppedPeerStates, DroppedFrames, DroppedAudio, DroppedRecording uint64
	// DroppedClusterEvents: events for the WithCluster cluster dropped
	// because it fell behind or failed to take them.
	DroppedClusterEvents uint64
	// ConnectTime is the time from join to connected (ICE and DTLS done);
	// KeyframeLatency from a keyframe's last packet to its decoded image
	// (and JPEG written, with WithSnapshotDir).
	ConnectTime, KeyframeLatency Histogram
	// UndecodedKeyframes are complete keyframes of a codec without a decoder
	// yet (H.264): handed to OnKeyframe without an image.
	UndecodedKeyframes uint64
	// Keyframes refused before decoding: far too small for the size they
	// claim (or a size out of range), over the peer's WithSnapshotRate, or
	// past WithSnapshotDiskLimit; and the bytes of JPEGs written.
	RefusedKeyframes, RateLimitedKeyframes, DiskLimitedKeyframes, SnapshotBytes uint64
}

// Stats returns current counters.
func (p *Plugin) Stats() Stats {
	rs, ms, ps := p.reg.Stats(), p.mux.Stats(), p.pool.Stats()
	p.mu.Lock()
	total := p.departed
	recDropped := p.host.departedRecording
	for _, m := range p.reg.Members() {
		addStats(&total, m.Value.loop.Stats())
		if m.Value.rec != nil {
			recDropped += m.Value.rec.Dropped()
		}
	}
	p.mu.Unlock()
	s := Stats{
		Conferences: rs.Conferences, Peers: rs.Peers, Pending: rs.Pending,
		Datagrams: ms.Received, DroppedDatagrams: ms.Dropped, UnroutedDatagrams: ms.Unrouted + ms.Oversized,
		VideoPackets: total.VideoPackets, AudioPackets: total.AudioPackets, VideoFrames: total.Frames,
		LostPackets: total.Lost, PLIs: total.PLIs, NACKs: total.NACKs, Reports: total.Reports,
		Keyframes: ps.Decoded, Snapshots: ps.Written, DroppedKeyframes: ps.Dropped, FailedKeyframes: ps.Failed,
		UndecodedKeyframes: ps.NoDecoder,
		RefusedKeyframes:   ps.Refused, RateLimitedKeyframes: ps.RateLimited, DiskLimitedKeyframes: ps.DiskLimited,
		SnapshotBytes: ps.BytesWritten,
	}
	p.moreStats(&s, total, recDropped)
	return s
}

func addStats(dst *peer.Stats, s peer.Stats) {
	dst.VideoPackets += s.VideoPackets
	dst.AudioPackets += s.AudioPackets
	dst.VideoBytes += s.VideoBytes
	dst.AudioBytes += s.AudioBytes
	dst.Frames += s.Frames
	dst.Keyframes += s.Keyframes
	dst.Dropped += s.Dropped
	dst.Lost += s.Lost
	dst.PLIs += s.PLIs
	dst.NACKs += s.NACKs
	dst.Reports += s.Reports
}

// Conferences lists the conferences that have peers, sorted.
func (p *Plugin) Conferences() []string { return p.reg.Conferences() }

func (p *Plugin) onDecoded(r media.Result) {
	p.host.keyframeLatency.observe(p.cfg.clock().Sub(r.Time))
	p.clusterKeyframe(r)
	if p.cfg.onKeyframe == nil {
		return
	}
	p.cfg.onKeyframe(Keyframe{Conference: r.Conference, Peer: r.Peer, Identity: p.identityOf(r.Conference, r.Peer), Time: r.Time,
		Width: r.Width, Height: r.Height, Image: r.Image, Path: r.Path, Codec: r.Codec})
}

// router adapts the registry to the mux.
type router struct {
	reg *conference.Registry[*peerHandle]
}

func (r router) ByAddr(a netip.AddrPort) (udpmux.Endpoint, bool) {
	m, ok := r.reg.ByAddr(a)
	if !ok {
		return nil, false
	}
	return m.Value.loop, true
}

func (r router) ByUfrag(u []byte) (udpmux.Endpoint, bool) {
	m, ok := r.reg.ByUfragBytes(u)
	if !ok {
		return nil, false
	}
	return m.Value.loop, true
}

// peerHandle is the plugin's side of one peer.
type peerHandle struct {
	p      *Plugin
	member *conference.Member[*peerHandle]
	loop   *udpmux.Loop
	log    *slog.Logger
	notify func(id string, st peer.State) // the signaling socket's; must not block
	seq    int                            // keyframes submitted; the loop goroutine only
	rec    *record.Recorder               // nil without WithRecordDir
	whip   bool                           // created over WHIP: DELETE may end it
	left   chan struct{}                  // closed once the peer is out of the registry
	// whipSecret is the secret of the WHIP session URL, set once the answer
	// is ready; nil for WebSocket peers.
	whipSecret atomic.Pointer[string]
	limit      media.Limiter // WithSnapshotRate; the loop goroutine only
	hostPeer                 // peers.go
}

// leaveWait bounds how long leave waits for a peer to wind down (one turn of
// its loop: close_notify out, out of the registry).
const leaveWait = 2 * time.Second

// leave ends the peer and waits until its place is free, so that a join
// right after it is not refused by a limit.
func (h *peerHandle) leave() {
	h.loop.Close()
	t := time.NewTimer(leaveWait)
	defer t.Stop()
	select {
	case <-h.left:
	case <-t.C:
	}
}

// join creates a peer in conference and returns it with the SDP offer.
func (p *Plugin) join(conf, identity, source string, notify func(string, peer.State)) (*peerHandle, string, error) {
	h, err := p.newPeer(conf, identity, source, notify, false)
	if err != nil {
		return nil, "", err
	}
	offer := sdp.BuildOffer(sdp.OfferParams{
		SessionID:   sessionID(),
		ICEUfrag:    h.member.Ufrag,
		ICEPwd:      h.member.Pwd,
		Fingerprint: h.fingerprint(),
		Candidates:  p.candidates(),
		Audio:       p.cfg.audio,
		VideoCodecs: p.cfg.codecs(),
	})
	h.log.Info("peer joined")
	return h, offer, nil
}

// fingerprint is that of the peer's own certificate (RFC 8122 §5).
func (h *peerHandle) fingerprint() sdp.Fingerprint {
	return sdp.Fingerprint{Algorithm: "sha-256", Value: h.cert.Fingerprint()}
}

// sessionID is a random o= session id (RFC 8866 §5.2).
func sessionID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1
}

// newPeer registers a peer in conference and starts its goroutine. source
// (sourceOf) is where the request came from, for the per-source pending
// limit.
func (p *Plugin) newPeer(conf, identity, source string, notify func(string, peer.State), whip bool) (*peerHandle, error) {
	var h *peerHandle
	now := p.cfg.clock()
	cert := p.host.certs.get(p.cfg.rand, now, p.log)
	m, err := p.reg.JoinFrom(conf, source, func(m *conference.Member[*peerHandle]) (*peerHandle, error) {
		pp, err := peer.New(peer.Config{
			LocalUfrag:       m.Ufrag,
			LocalPwd:         m.Pwd,
			Certificate:      cert,
			Rand:             p.cfg.rand,
			CNAME:            "rtcplug-" + m.ID,
			Record:           p.cfg.recordDir != "" || p.cfg.onFrame != nil || p.cfg.onAudio != nil || (p.cl != nil && p.cl.frames),
			KeyframeInterval: p.cfg.snapshotInterval,
		}, time.Now())
		if err != nil {
			return nil, err
		}
		h = &peerHandle{p: p, member: m, notify: notify, whip: whip, left: make(chan struct{}),
			log: p.log.With("conference", m.Conference, "peer", m.ID)}
		h.identity, h.joined, h.cert, h.state, h.since = identity, now, cert, peer.StateNew, now
		h.loop = udpmux.NewLoop(p.mux, pp, h.onEvent)
		return h, nil
	})
	if err != nil {
		return nil, joinError(err)
	}
	if err := p.clusterAdmit(m, identity, whip, now); err != nil {
		p.reg.Leave(m)
		return nil, err
	}
	if p.cfg.recordDir != "" {
		if h.rec, err = newRecorder(p.cfg, m.Conference, m.ID, h.log); err != nil {
			h.log.Warn("recording disabled for this peer", "err", err)
		}
	}
	if !p.trackIn(&p.peers) {
		p.reg.Leave(m)
		p.clusterLeave(m)
		close(h.left)
		if h.rec != nil {
			h.rec.Close()
		}
		return nil, ErrClosed
	}
	// A peer starts in state new; the peer itself only reports changes. The
	// states channel stays open until every tracked peer has ended.
	h.peerState(peer.StateNew, nil)
	h.startQueues()
	go func() {
		defer p.peers.Done()
		h.loop.Run(p.ctx)
		if h.rec != nil {
			h.rec.Close()
		}
		p.mu.Lock()
		addStats(&p.departed, h.loop.Stats())
		if h.rec != nil {
			p.host.departedRecording += h.rec.Dropped()
		}
		p.reg.Leave(m)
		p.mu.Unlock()
		p.clusterLeave(m)
		close(h.left)
		h.log.Info("peer left")
		h.stopQueues() // the host's callbacks get what is queued
	}()
	return h, nil
}

// peerState queues an OnPeerState call without blocking.
func (h *peerHandle) peerState(st peer.State, err error) {
	h.clusterState(st, err)
	if h.p.states == nil {
		return
	}
	m := h.member
	err = h.stateErr(st, err)
	select {
	case h.p.states <- PeerState{Conference: m.Conference, Peer: m.ID, Identity: h.identity, State: stateName(st), Err: err}:
	default:
		h.p.droppedStates.Add(1)
		h.log.Debug("OnPeerState callback too slow: state change dropped", "state", st.String())
	}
}

// onEvent runs on the peer's goroutine.
func (h *peerHandle) onEvent(ev peer.Event) {
	m := h.member
	switch ev.Kind {
	case peer.Bind:
		h.p.reg.Bind(m, ev.Addr)
		h.log.Debug("address bound to peer", "addr", ev.Addr.String())
	case peer.Unbind:
		h.p.reg.Unbind(m, ev.Addr)
	case peer.Active:
		h.p.reg.Activate(m, ev.Addr)
	case peer.StateChange:
		h.stateChanged(ev.State)
		if ev.State == peer.StateConnected || ev.State.Done() {
			h.p.reg.Connected(m)
		}
		if ev.Err != nil {
			h.log.Info("peer state", "state", ev.State.String(), "err", ev.Err)
		} else {
			h.log.Info("peer state", "state", ev.State.String())
		}
		if h.notify != nil {
			h.notify(m.ID, ev.State)
		}
		h.peerState(ev.State, ev.Err)
	case peer.Keyframe:
		h.setCodec(eventCodec(ev))
		if h.p.cfg.snapshotDir == "" && h.p.cfg.onKeyframe == nil && h.p.cl == nil {
			return
		}
		h.seq++
		if !h.p.pool.Submit(media.Job{Conference: m.Conference, Peer: m.ID, Seq: h.seq, Time: time.Now(), Frame: ev.Data, Limit: &h.limit, Codec: ev.Codec}) {
			h.seq--
			h.log.Debug("keyframe dropped: decoder busy")
		}
	case peer.Log:
		h.log.Debug(ev.Msg)
	case peer.Frame:
		if h.rec != nil {
			h.rec.Video(ev.Codec, ev.Time, ev.Key, ev.Data)
		}
		h.frame(ev)
	case peer.Audio:
		if h.rec != nil {
			h.rec.Audio(ev.Time, ev.Data)
		}
		h.audioPacket(ev)
	}
}

// candidates lists what the offer advertises, all on the one UDP port.
func (p *Plugin) candidates() []sdp.Candidate {
	port := p.mux.Port()
	var out []sdp.Candidate
	pref := ice.LocalPrefSingle
	add := func(a netip.Addr, typ string, typePref uint8, related netip.AddrPort) {
		out = append(out, sdp.Candidate{
			Foundation: ice.Foundation(typ, a, netip.Addr{}, "udp"),
			Component:  1, Protocol: "udp", Type: typ,
			Addr:     netip.AddrPortFrom(a, port),
			Priority: ice.CandidatePriority(typePref, pref, 1),
			Related:  related,
		})
		if pref > 0 {
			pref--
		}
	}
	for _, a := range p.cfg.publicIPs {
		add(a, sdp.CandidateHost, ice.TypePrefHost, netip.AddrPort{})
	}
	for _, a := range p.hostAddrs {
		add(a, sdp.CandidateHost, ice.TypePrefHost, netip.AddrPort{})
	}
	if s := p.srflx.Load(); s != nil {
		// RFC 8445 §5.1.1.3: there is one srflx candidate, from the one
		// socket (bound to the wildcard, so its base is unspecified); the
		// type alone sets its foundation apart from the host ones.
		out = append(out, sdp.Candidate{
			Foundation: ice.Foundation(sdp.CandidateSrflx, netip.Addr{}, netip.Addr{}, "udp"),
			Component:  1, Protocol: "udp", Type: sdp.CandidateSrflx, Addr: *s,
			Priority: ice.CandidatePriority(ice.TypePrefServerReflexive, ice.LocalPrefSingle, 1),
			Related:  netip.AddrPortFrom(netip.IPv4Unspecified(), port),
		})
	}
	return out
}

// hostAddrs lists the addresses of every up interface: non-loopback first,
// IPv6 only when the socket is dual-stack; link-local addresses are left out
// (an IPv6 one needs a zone no SDP can carry).
func hostAddrs(v6 bool, keep func(netip.Addr) bool) []netip.Addr {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr().Unmap()
			if ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() || (ip.Is6() && !v6) {
				continue
			}
			if keep != nil && !keep(ip) {
				continue
			}
			out = append(out, ip)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return !out[i].IsLoopback() && out[j].IsLoopback()
	})
	return out
}
