package rtcplug

// The plugin's side of one peer: creating it, its handle, leaving.

import (
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/conference"
	"github.com/nutsbolts/webrtc/rtcplug/internal/media"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/record"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/udpmux"
)

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
			Buffers:          p.bufs,
		}, time.Now())
		if err != nil {
			return nil, err
		}
		h = &peerHandle{p: p, member: m, notify: notify, whip: whip, left: make(chan struct{}),
			log: p.log.With("conference", m.Conference, "peer", m.ID)}
		h.identity, h.joined, h.cert, h.state, h.since = identity, now, cert, peer.StateNew, now
		h.loop = udpmux.NewLoop(p.mux, pp, h.onEvent)
		if err := h.loop.Register(m.Ufrag); err != nil {
			return nil, err
		}
		return h, nil
	})
	if err != nil {
		if h != nil {
			h.loop.Unregister() // the registry refused it after mk
		}
		return nil, joinError(err)
	}
	if err := p.clusterAdmit(m, identity, whip, now); err != nil {
		h.loop.Unregister()
		p.reg.Leave(m)
		close(h.left) // a Kick that found it meanwhile need not wait
		return nil, err
	}
	if p.cfg.recordDir != "" {
		rec, err := newRecorder(p.cfg, m.Conference, m.ID, h.log)
		if err != nil {
			h.log.Warn("recording disabled for this peer", "err", err)
		}
		// The peer is already in the registry, where Stats reads rec.
		p.mu.Lock()
		h.rec = rec
		p.mu.Unlock()
	}
	if !p.trackIn(&p.peers) {
		h.loop.Unregister()
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
		p.pool.Leave(m.Conference, m.ID) // its keyframe waiting, if any
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
