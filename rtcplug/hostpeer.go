package rtcplug

import (
	"errors"

	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
)

// startQueues starts the OnFrame / OnAudio goroutines of a new peer.
func (h *peerHandle) startQueues() {
	p := h.p
	if fn := p.cfg.onFrame; fn != nil {
		h.frames = newQueue(fn, func(f *Frame, b []byte) { f.Data = b }, &h.dropped, &p.host.droppedFrames)
	}
	if fn := p.cfg.onAudio; fn != nil {
		h.audio = newQueue(fn, func(a *AudioPacket, b []byte) { a.Data = b }, &h.dropped, &p.host.droppedAudio)
	}
}

// stopQueues runs once the peer's loop has ended: the queued calls are made,
// then the goroutines end.
func (h *peerHandle) stopQueues() {
	if h.frames != nil {
		h.frames.close()
		h.frames.wait()
	}
	if h.audio != nil {
		h.audio.close()
		h.audio.wait()
	}
}

// frame queues an OnFrame call; the peer's goroutine.
func (h *peerHandle) frame(ev peer.Event) {
	codec := eventCodec(ev)
	h.setCodec(codec)
	h.clusterFrame(ev, codec)
	if h.frames == nil {
		return
	}
	m := h.member
	h.frames.put(Frame{Conference: m.Conference, Peer: m.ID, Identity: h.identity, Codec: codec,
		Keyframe: ev.Key, RTPTime: ev.RTPTimestamp, Time: h.eventTime(ev)}, ev.Data)
}

// audioPacket queues an OnAudio call; the peer's goroutine.
func (h *peerHandle) audioPacket(ev peer.Event) {
	if h.audio == nil {
		return
	}
	m := h.member
	h.audio.put(AudioPacket{Conference: m.Conference, Peer: m.ID, Identity: h.identity,
		RTPTime: ev.RTPTimestamp, Time: h.eventTime(ev)}, ev.Data)
}

// stateChanged keeps the state for Peers and times the connection.
func (h *peerHandle) stateChanged(st peer.State) {
	now := h.p.cfg.clock()
	h.setState(st, now)
	if st == peer.StateConnected {
		h.p.host.connectTime.observe(now.Sub(h.joined))
	}
}

// identityOf is the identity of a live peer, "" once it has left.
func (p *Plugin) identityOf(conf, id string) string {
	if m, ok := p.reg.ByID(conf, id); ok {
		return m.Value.identity
	}
	return ""
}

// setReason notes what the plugin refused of the peer (its answer); a
// reason set before stays.
func (h *peerHandle) setReason(err error) { h.reason.CompareAndSwap(nil, &err) }

// badAnswer notes a refused answer as the reason the peer may end, unless
// an answer was already applied (a duplicate or late bad answer does not
// make a healthy peer's end a bad answer).
func (h *peerHandle) badAnswer() {
	if !h.answered.Load() {
		h.setReason(ErrBadAnswer)
	}
}

// answerApplied clears an earlier bad answer's reason once a good one is in.
func (h *peerHandle) answerApplied() {
	h.answered.Store(true)
	if r := h.reason.Load(); r != nil && *r == ErrBadAnswer {
		h.reason.CompareAndSwap(r, nil)
	}
}

// end closes the peer for reason: its PeerState closed carries it.
func (h *peerHandle) end(reason error) {
	h.reason.Store(&reason)
	h.loop.Close()
}

// stateErr is the Err of a PeerState: a peer closed by the plugin says why
// (ErrKicked, ErrBadOffer); one that failed after its answer was refused
// says that too (ErrBadAnswer).
func (h *peerHandle) stateErr(st peer.State, err error) error {
	r := h.reason.Load()
	switch {
	case r == nil:
		return err
	case st == peer.StateClosed && err == nil:
		return *r
	case st == peer.StateFailed && err != nil:
		return errors.Join(err, *r)
	}
	return err
}
