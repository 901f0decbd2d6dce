package rtcplug

import (
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
)

// PeerStateName is a peer's connection state as the signaling protocol
// names it.
type PeerStateName string

// Peer states, in the order a healthy peer passes them; failed and closed
// are final.
const (
	StateNew       PeerStateName = "new"
	StateChecking  PeerStateName = "checking"
	StateConnected PeerStateName = "connected"
	StateFailed    PeerStateName = "failed"
	StateClosed    PeerStateName = "closed"
)

func stateName(s peer.State) PeerStateName { return PeerStateName(s.String()) }

// PeerInfo is a snapshot of one live peer (see Plugin.Peers). Counters lag
// the packets by at most a quarter second.
type PeerInfo struct {
	ID, Conference string
	// Identity is what the WithAuthorize function returned for the request
	// that created the peer ("" without WithAuthorize).
	Identity string
	// Remote is where the peer's media comes from (invalid before its first
	// ICE check).
	Remote netip.AddrPort
	State  PeerStateName
	Since  time.Time // when State was entered
	// VideoCodec is "" until the first video frame. SRTPProfile and
	// DTLSCipher are the RFC / IANA names, "" before the handshake.
	VideoCodec, SRTPProfile, DTLSCipher string
	// Media packets and bytes (video and audio, after SRTP), video packets
	// given up as lost, video frames and keyframes assembled.
	Packets, Bytes, Lost, Frames, Keyframes uint64
	// Jitter is the video's RFC 3550 interarrival jitter (§6.4.1).
	Jitter time.Duration
	// Bitrate is media bits per second over the last few seconds.
	Bitrate int
	// DroppedCallbacks counts OnFrame and OnAudio calls dropped because the
	// callback fell behind.
	DroppedCallbacks uint64
	// Node is the cluster node that has the peer (PeersCluster only).
	Node string
}

// hostPeer is what the host-facing API keeps per peer (embedded in
// peerHandle).
type hostPeer struct {
	identity string
	joined   time.Time
	cert     *dtls.Certificate // this peer's: renewal never changes it

	mu    sync.Mutex
	state peer.State
	since time.Time
	codec string

	// reason is why the plugin ended the peer (ErrKicked, ErrBadOffer) or
	// what went wrong before it failed (ErrBadAnswer); see stateErr.
	reason atomic.Pointer[error]
	// answered: an answer was applied; a later bad one is no reason to end.
	answered atomic.Bool
	dropped  atomic.Uint64 // OnFrame/OnAudio calls dropped
	frames   *queue[Frame]
	audio    *queue[AudioPacket]
}

func (h *hostPeer) setState(st peer.State, now time.Time) {
	h.mu.Lock()
	h.state, h.since = st, now
	h.mu.Unlock()
}

func (h *hostPeer) setCodec(c string) {
	h.mu.Lock()
	h.codec = c
	h.mu.Unlock()
}

// Peers returns a snapshot of every live peer, sorted by conference and id.
func (p *Plugin) Peers() []PeerInfo {
	ms := p.reg.Members()
	out := make([]PeerInfo, 0, len(ms))
	for _, m := range ms {
		h := m.Value
		st := h.loop.Stats()
		h.mu.Lock()
		state, since, codec := h.state, h.since, h.codec
		h.mu.Unlock()
		info := PeerInfo{
			ID: m.ID, Conference: m.Conference, Identity: h.identity,
			Remote: st.Remote, State: stateName(state), Since: since, VideoCodec: codec,
			DTLSCipher: peer.CipherSuiteName(st.CipherSuite),
			Packets:    st.VideoPackets + st.AudioPackets, Bytes: st.VideoBytes + st.AudioBytes,
			Lost: st.Lost, Frames: st.Frames, Keyframes: st.Keyframes,
			Jitter: st.Jitter, Bitrate: st.Bitrate, DroppedCallbacks: h.dropped.Load(),
		}
		if st.SRTPProfile != 0 {
			info.SRTPProfile = st.SRTPProfile.String()
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Conference != out[j].Conference {
			return out[i].Conference < out[j].Conference
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Kick ends the peer with this id (as in PeerInfo.ID, PeerState.Peer): it
// gets a DTLS close_notify, its WebSocket client a PeerState closed (Err
// ErrKicked in OnPeerState), and a WHIP session ends. Kick returns once the
// peer is gone from Peers (or after two seconds), ErrNoPeer for an unknown
// id and ErrClosed once the plugin has stopped.
func (p *Plugin) Kick(id string) error {
	select {
	case <-p.ctx.Done():
		return ErrClosed
	default:
	}
	for _, m := range p.reg.Members() {
		if m.ID != id {
			continue
		}
		h := m.Value
		h.log.Info("peer kicked by the host")
		h.reason.Store(&ErrKicked)
		h.leave()
		return nil
	}
	return p.kickElsewhere(id) // ErrNoPeer without WithCluster
}

// Histogram is a cumulative distribution of durations, as Prometheus
// histograms have it: Counts[i] observations were at most Bounds[i].
type Histogram struct {
	Bounds []time.Duration
	Counts []uint64
	Count  uint64        // every observation, also those above the last bound
	Sum    time.Duration // of every observation
}

// histogram is a fixed-bucket, lock-protected Histogram.
type histogram struct {
	mu     sync.Mutex
	bounds []time.Duration
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    time.Duration
}

func newHistogram(bounds ...time.Duration) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *histogram) observe(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count++
	h.sum += d
	for i, b := range h.bounds {
		if d <= b {
			h.counts[i]++
			return
		}
	}
}

func (h *histogram) snapshot() Histogram {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := Histogram{Bounds: append([]time.Duration(nil), h.bounds...), Counts: make([]uint64, len(h.counts)),
		Count: h.count, Sum: h.sum}
	var c uint64
	for i, n := range h.counts {
		c += n
		out.Counts[i] = c
	}
	return out
}

// hostState is the plugin-wide part of the host-facing API (embedded in
// Plugin).
type hostState struct {
	errMu sync.Mutex
	err   error // why the plugin stopped

	certs certStore

	droppedFrames, droppedAudio atomic.Uint64
	departedRecording           uint64 // recorder drops of peers that left; under Plugin.mu

	connectTime     *histogram // join → connected
	keyframeLatency *histogram // keyframe complete → image decoded (and written)
}

func (s *hostState) init() {
	s.connectTime = newHistogram(
		50*time.Millisecond, 100*time.Millisecond, 250*time.Millisecond, 500*time.Millisecond,
		time.Second, 2500*time.Millisecond, 5*time.Second, 10*time.Second, 30*time.Second)
	s.keyframeLatency = newHistogram(
		5*time.Millisecond, 10*time.Millisecond, 25*time.Millisecond, 50*time.Millisecond,
		100*time.Millisecond, 250*time.Millisecond, 500*time.Millisecond, time.Second, 2500*time.Millisecond)
}
