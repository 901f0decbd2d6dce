package rtcplug

// Event dispatch: what a peer reports, on its own goroutine, turned into
// registry updates, host callbacks and the signaling client's messages.

import (
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/media"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
)

func (p *Plugin) onDecoded(r media.Result) {
	p.host.keyframeLatency.observe(p.cfg.clock().Sub(r.Time))
	p.clusterKeyframe(r)
	if p.cfg.onKeyframe == nil {
		return
	}
	p.cfg.onKeyframe(Keyframe{Conference: r.Conference, Peer: r.Peer, Identity: p.identityOf(r.Conference, r.Peer), Time: r.Time,
		Width: r.Width, Height: r.Height, Image: r.Image, Path: r.Path, Codec: r.Codec})
}

// requestKeyframe has a peer whose keyframe the decoder pool dropped asked
// for a fresh one (media.Config.RequestKeyframe, already spaced per peer). It
// runs on a decoder worker, which must not wait for the peer's loop.
func (p *Plugin) requestKeyframe(conf, id string) {
	m, ok := p.reg.ByID(conf, id)
	if !ok || m.Value == nil || !p.track() {
		return
	}
	go func() {
		defer p.wg.Done()
		_ = m.Value.loop.Do(p.ctx, func(now time.Time, pp *peer.Peer) error {
			pp.RequestKeyframe(now)
			return nil
		})
	}()
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
		// The loop has routed it already (udpmux.Table).
		h.log.Debug("address bound to peer", "addr", ev.Addr.String())
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
			h.log.Debug("keyframe not queued (counted in Stats: refused, rate or disk limited, or dropped)")
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
