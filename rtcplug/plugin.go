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
// UDP port (default 15000) shared by every peer. Each VP8 or H.264 keyframe
// is decoded off the packet path and written as a JPEG and/or handed to
// OnKeyframe. Everything below this package (STUN, ICE-lite, DTLS 1.2, SRTP,
// RTP/RTCP, SDP, VP8 and H.264 depacketizing, the H.264 intra decoder) is
// implemented in rtcplug/internal on the standard library.
package rtcplug

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/go-chi/chi/v5"

	"github.com/nutsbolts/webrtc/rtcplug/internal/conference"
	"github.com/nutsbolts/webrtc/rtcplug/internal/media"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
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
	bufs   *peer.Buffers // the peers' shared reorder and frame buffers
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

	refusals   refusalLog   // rate-limited Info lines for limit refusals
	wsBySource sourceCounts // open signaling sockets per source
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
	p := &Plugin{cfg: cfg, log: cfg.log, done: make(chan struct{}), bufs: peer.NewBuffers()}
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

		RequestKeyframe: p.requestKeyframe,

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
		if err := mux.Run(context.Background(), mux.Routes()); err != nil {
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
