package rtcplug

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/conference"
	"github.com/nutsbolts/webrtc/rtcplug/internal/media"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
)

// Cluster joins several plugins (one per host instance, each with its own
// UDP port) into one: admission against cluster-wide limits, events for
// consumers anywhere, and commands for peers another node owns. The plugin
// never waits on it with media: events go through a bounded queue of the
// plugin's own (drops counted in Stats.DroppedClusterEvents), and only
// signaling (a join, a Kick, a WHIP DELETE) waits for Admit or Command.
// Package rtcplug/rtcnats implements it on NATS JetStream.
type Cluster interface {
	// Name is this node's name in the cluster.
	Name() string
	// Attach is called once by Mount, before any peer; node is how the
	// cluster reaches this plugin's own peers. An error fails Mount.
	Attach(node ClusterNode) error
	// Admit reserves a place for a new peer of this node; a refusal because
	// of a limit wraps ErrFull. Any error refuses the join.
	Admit(ctx context.Context, m ClusterMember) error
	// Leave says that an admitted peer has left. It must not block. It
	// comes after Publish was called with the peer's last state event
	// (unless that event was dropped: the cluster may report it then).
	Leave(conference, peer string)
	// Publish sends one event. The plugin calls it from one goroutine, in
	// order; an error counts the event as dropped.
	Publish(ctx context.Context, ev ClusterEvent) error
	// Frames says whether the cluster wants every video frame
	// (ClusterFrame events); asked once, by Mount.
	Frames() bool
	// Command runs cmd on the node that owns the peer: ErrNoPeer when no
	// node does.
	Command(ctx context.Context, cmd ClusterCommand) error
	// Peers lists the peers of the other nodes.
	Peers(ctx context.Context) ([]PeerInfo, error)
	// Detach is called once the plugin has stopped and every peer has left.
	Detach()
}

// ClusterNode is the plugin as its Cluster sees it.
type ClusterNode struct {
	// Command runs a command on this node's own peers (never forwarded).
	Command func(ClusterCommand) error
	// Peers lists this node's own peers.
	Peers func() []PeerInfo
}

// ClusterMember is a peer asking for admission.
type ClusterMember struct {
	Conference, Peer, Identity string
	WHIP                       bool
	Since                      time.Time
}

// ClusterOp names a remote command.
type ClusterOp string

const (
	// OpKick is Plugin.Kick of a peer on another node.
	OpKick ClusterOp = "kick"
	// OpWHIPDelete is a WHIP DELETE (RFC 9725 §4.2) of a session on another
	// node.
	OpWHIPDelete ClusterOp = "whip-delete"
)

// ClusterCommand is a command for the node that owns a peer. Conference is
// "" for OpKick (peer ids are unique). OpWHIPDelete names no peer: only the
// session URL's secret (which the owner compares in constant time), since
// the peer id is no handle on a WHIP session; the cluster asks the nodes
// with peers in Conference until the owner answers.
type ClusterCommand struct {
	Op               ClusterOp
	Conference, Peer string
	Secret           string `json:",omitempty"`
}

// ClusterEventKind says which part of a ClusterEvent is set.
type ClusterEventKind int

const (
	// ClusterState: a peer's state changed (State, Err).
	ClusterState ClusterEventKind = iota
	// ClusterKeyframe: a keyframe was decoded (Codec, Width, Height, JPEG).
	ClusterKeyframe
	// ClusterFrame: a video frame was assembled (Codec, Keyframe, RTPTime,
	// Data); only when the cluster asks for Frames.
	ClusterFrame
)

// ClusterEvent is one event of a peer of this node.
type ClusterEvent struct {
	Kind                       ClusterEventKind
	Conference, Peer, Identity string
	Time                       time.Time
	// ClusterState
	State PeerStateName
	Err   string
	// ClusterKeyframe and ClusterFrame
	Codec         string
	Width, Height int
	JPEG          []byte
	Keyframe      bool
	RTPTime       uint32
	Data          []byte // the encoded frame
}

// WithCluster makes the plugin one node of a cluster (see Cluster). Without
// it the plugin is on its own.
func WithCluster(c Cluster) Option {
	return func(cfg *config) error {
		if c == nil {
			return errors.New("rtcplug: nil cluster")
		}
		cfg.cluster = c
		return nil
	}
}

// clusterOptions are the cluster's options (embedded in config).
type clusterOptions struct {
	cluster Cluster
}

// Bounds of the queue of events waiting for Cluster.Publish: beyond either,
// new events are dropped (and counted), so that a slow or absent cluster
// never holds media or memory.
const (
	clusterQueueItems = 1024
	clusterQueueBytes = 32 << 20
	// clusterStateItems bounds the queue of state events and leaves, which
	// go before any frame or keyframe: a peer's closed event must not be
	// lost behind video ("exactly one closed per peer").
	clusterStateItems = 1024
	// clusterWait bounds what signaling waits for Admit or Command.
	clusterWait = 5 * time.Second
	// clusterDrain bounds how long Close waits for queued events.
	clusterDrain = 2 * time.Second
	// maxSnapshotRead bounds a snapshot read back for the cluster.
	maxSnapshotRead = 16 << 20
)

// clusterItem is a queued event; a keyframe's JPEG is encoded from img by
// the queue's goroutine, off the decoder workers.
type clusterItem struct {
	ev   ClusterEvent
	img  *image.YCbCr
	path string // the snapshot the pool wrote, read instead of encoding anew
	size int64
	// leave: call Cluster.Leave for ev's peer, after its last state event
	// went out (so that Leave knows whether the closed event was published).
	leave bool
}

// clusterRun is a plugin's side of its cluster.
type clusterRun struct {
	c       Cluster
	frames  bool
	quality int

	mu      sync.Mutex
	closed  bool
	q       chan clusterItem // frames and keyframes
	sq      chan clusterItem // state events and leaves: first
	bytes   atomic.Int64
	dropped atomic.Uint64
	done    chan struct{}
}

// startCluster attaches the cluster and starts its queue; nil without one.
func (p *Plugin) startCluster() error {
	c := p.cfg.cluster
	if c == nil {
		return nil
	}
	cr := &clusterRun{c: c, frames: c.Frames(), quality: p.cfg.jpegQuality,
		q: make(chan clusterItem, clusterQueueItems), sq: make(chan clusterItem, clusterStateItems), done: make(chan struct{})}
	if err := c.Attach(ClusterNode{Command: p.localCommand, Peers: p.Peers}); err != nil {
		return fmt.Errorf("rtcplug: cluster: %w", err)
	}
	p.cl = cr
	go cr.run()
	return nil
}

// run publishes the queued events in order until the queue is closed.
func (cr *clusterRun) run() {
	defer close(cr.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var drainEnd <-chan time.Time
	q, sq := cr.q, cr.sq
	for q != nil || sq != nil {
		var it clusterItem
		var ok bool
		select {
		case it, ok = <-sq: // state events first
			if !ok {
				sq = nil
				continue
			}
		default:
			select {
			case it, ok = <-sq:
				if !ok {
					sq = nil
					continue
				}
			case it, ok = <-q:
				if !ok {
					q = nil
					continue
				}
			}
		}
		if it.leave {
			// Even past the drain: Leave does not block, and it reports the
			// closed event that did not go out.
			cr.c.Leave(it.ev.Conference, it.ev.Peer)
			continue
		}
		cr.bytes.Add(-it.size)
		if drainEnd != nil {
			select {
			case <-drainEnd:
				cr.dropped.Add(1)
				continue
			default:
			}
		}
		if it.path != "" {
			// The same quality, already encoded: reading it back is far
			// cheaper than encoding again (the host may have moved it).
			if b, err := os.ReadFile(it.path); err == nil && len(b) > 0 && len(b) <= maxSnapshotRead {
				it.ev.JPEG, it.img = b, nil
			}
		}
		if it.img != nil {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, it.img, &jpeg.Options{Quality: cr.quality}); err != nil {
				cr.dropped.Add(1)
				continue
			}
			it.ev.JPEG = buf.Bytes()
		}
		pctx, pcancel := context.WithTimeout(ctx, clusterWait)
		if err := cr.c.Publish(pctx, it.ev); err != nil {
			cr.dropped.Add(1)
		}
		pcancel()
		if drainEnd == nil {
			cr.mu.Lock()
			if cr.closed {
				drainEnd = time.After(clusterDrain)
			}
			cr.mu.Unlock()
		}
	}
}

// put queues an event without blocking.
func (cr *clusterRun) put(it clusterItem) {
	it.size = int64(len(it.ev.Data) + len(it.ev.JPEG))
	if it.img != nil {
		it.size += int64(len(it.img.Y) + len(it.img.Cb) + len(it.img.Cr))
	}
	q := cr.q
	if it.ev.Kind == ClusterState {
		q = cr.sq
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.closed || len(q) == cap(q) || cr.bytes.Load()+it.size > clusterQueueBytes {
		cr.dropped.Add(1)
		return
	}
	cr.bytes.Add(it.size)
	q <- it // under mu with a free slot: never blocks
}

// leave queues Cluster.Leave behind the peer's state events; when that
// queue is full (or closed) Leave is called at once: it must happen, and
// the cluster then reports the closed event itself.
func (cr *clusterRun) leave(conf, peer string) {
	cr.mu.Lock()
	if !cr.closed && len(cr.sq) < cap(cr.sq) {
		cr.sq <- clusterItem{leave: true, ev: ClusterEvent{Kind: ClusterState, Conference: conf, Peer: peer}}
		cr.mu.Unlock()
		return
	}
	cr.mu.Unlock()
	cr.c.Leave(conf, peer)
}

// stopCluster runs once every peer has left: the queued events go out
// (for at most clusterDrain), then the cluster is detached.
func (p *Plugin) stopCluster() {
	cr := p.cl
	if cr == nil {
		return
	}
	cr.mu.Lock()
	cr.closed = true
	close(cr.q)
	close(cr.sq)
	cr.mu.Unlock()
	<-cr.done
	cr.c.Detach()
}

func (p *Plugin) clusterDropped() uint64 {
	if p.cl == nil {
		return 0
	}
	return p.cl.dropped.Load()
}

// clusterAdmit asks the cluster for a place for a new peer.
func (p *Plugin) clusterAdmit(m *conference.Member[*peerHandle], identity string, whip bool, now time.Time) error {
	if p.cl == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(p.ctx, clusterWait)
	defer cancel()
	err := p.cl.c.Admit(ctx, ClusterMember{Conference: m.Conference, Peer: m.ID, Identity: identity, WHIP: whip, Since: now})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrFull):
		// Refused like a local limit: the WebSocket "full" error, WHIP 503.
		return joinError(fmt.Errorf("%w (cluster: %v)", conference.ErrConferenceFull, err))
	}
	return fmt.Errorf("rtcplug: cluster admission: %w", err)
}

func sortPeers(ps []PeerInfo) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Conference != ps[j].Conference {
			return ps[i].Conference < ps[j].Conference
		}
		return ps[i].ID < ps[j].ID
	})
}

// clusterLeave tells the cluster that an admitted peer has left.
func (p *Plugin) clusterLeave(m *conference.Member[*peerHandle]) {
	if p.cl != nil {
		p.cl.leave(m.Conference, m.ID)
	}
}

// clusterState queues a state event; the peer's goroutine.
func (h *peerHandle) clusterState(st peer.State, err error) {
	cr := h.p.cl
	if cr == nil {
		return
	}
	ev := ClusterEvent{Kind: ClusterState, Conference: h.member.Conference, Peer: h.member.ID,
		Identity: h.identity, Time: h.p.cfg.clock(), State: stateName(st)}
	if r := h.reason.Load(); st.Done() && err == nil && r != nil {
		err = *r // ErrKicked, ErrBadOffer: why the plugin ended it
	}
	if err != nil {
		ev.Err = err.Error()
	}
	cr.put(clusterItem{ev: ev})
}

// clusterFrame queues a frame event when the cluster wants frames; the
// peer's goroutine.
func (h *peerHandle) clusterFrame(ev peer.Event, codec string) {
	cr := h.p.cl
	if cr == nil || !cr.frames {
		return
	}
	cr.put(clusterItem{ev: ClusterEvent{Kind: ClusterFrame, Conference: h.member.Conference, Peer: h.member.ID,
		Identity: h.identity, Time: h.eventTime(ev), Codec: codec, Keyframe: ev.Key, RTPTime: ev.RTPTimestamp,
		Data: append([]byte(nil), ev.Data...)}})
}

// clusterKeyframe queues a decoded keyframe; a decoder worker. The image
// is copied when OnKeyframe gets it too (it owns its image).
func (p *Plugin) clusterKeyframe(r media.Result) {
	cr := p.cl
	if cr == nil || r.Image == nil {
		return
	}
	img := r.Image
	if p.cfg.onKeyframe != nil {
		c := *img
		c.Y, c.Cb, c.Cr = append([]byte(nil), img.Y...), append([]byte(nil), img.Cb...), append([]byte(nil), img.Cr...)
		img = &c
	}
	codec, identity := "VP8", ""
	if m, ok := p.reg.ByID(r.Conference, r.Peer); ok {
		identity = m.Value.identity
		m.Value.mu.Lock()
		if m.Value.codec != "" {
			codec = m.Value.codec
		}
		m.Value.mu.Unlock()
	}
	cr.put(clusterItem{img: img, path: r.Path, ev: ClusterEvent{Kind: ClusterKeyframe, Conference: r.Conference, Peer: r.Peer,
		Identity: identity, Time: r.Time, Codec: codec, Width: r.Width, Height: r.Height}})
}

// localCommand runs a remote command on this node's own peers.
func (p *Plugin) localCommand(cmd ClusterCommand) error {
	select {
	case <-p.ctx.Done():
		return ErrClosed
	default:
	}
	switch cmd.Op {
	case OpKick:
		for _, m := range p.reg.Members() {
			if m.ID == cmd.Peer {
				return p.Kick(cmd.Peer)
			}
		}
		return ErrNoPeer
	case OpWHIPDelete:
		h, ok := p.whipSession(cmd.Conference, cmd.Secret)
		if !ok {
			return ErrNoPeer
		}
		h.leave()
		return nil
	}
	return fmt.Errorf("rtcplug: unknown cluster command %q", cmd.Op)
}

// kickElsewhere forwards a Kick for a peer this node does not have.
func (p *Plugin) kickElsewhere(id string) error {
	if p.cl == nil {
		return ErrNoPeer
	}
	ctx, cancel := context.WithTimeout(p.ctx, clusterWait)
	defer cancel()
	return p.cl.c.Command(ctx, ClusterCommand{Op: OpKick, Peer: id})
}

// whipDeleteElsewhere forwards a WHIP DELETE for a session this node does
// not have; ErrNoPeer when no node has it.
func (p *Plugin) whipDeleteElsewhere(conf, secret string) error {
	if p.cl == nil {
		return ErrNoPeer
	}
	ctx, cancel := context.WithTimeout(p.ctx, clusterWait)
	defer cancel()
	return p.cl.c.Command(ctx, ClusterCommand{Op: OpWHIPDelete, Conference: conf, Secret: secret})
}

// PeersCluster lists every peer of the cluster, sorted by conference and
// id: this node's as Peers has them, the other nodes' as the cluster knows
// them (ID, Conference, Identity, State, Node, and Since as when the peer
// joined; no counters). Node is set on every entry. Without WithCluster it
// is Peers.
func (p *Plugin) PeersCluster(ctx context.Context) ([]PeerInfo, error) {
	local := p.Peers()
	if p.cl == nil {
		return local, nil
	}
	name := p.cl.c.Name()
	for i := range local {
		local[i].Node = name
	}
	remote, err := p.cl.c.Peers(ctx)
	if err != nil {
		return local, err
	}
	seen := make(map[string]bool, len(local))
	for _, l := range local {
		seen[l.ID] = true
	}
	for _, r := range remote {
		if !seen[r.ID] {
			local = append(local, r)
		}
	}
	sortPeers(local)
	return local, nil
}

// whipDeleteRemote answers a WHIP DELETE for a session this node does not
// have: the node that owns it ends it.
func (p *Plugin) whipDeleteRemote(w http.ResponseWriter, conf, secret string) {
	switch err := p.whipDeleteElsewhere(conf, secret); {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, ErrNoPeer):
		http.Error(w, "no such session", http.StatusNotFound)
	default:
		p.log.Warn("WHIP DELETE for another node failed", "conference", conf, "err", err)
		http.Error(w, "the node with this session did not answer", http.StatusBadGateway)
	}
}
