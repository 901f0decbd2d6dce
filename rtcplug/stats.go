package rtcplug

import (
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
)

// moreStats fills the Stats fields of the host-facing API.
func (p *Plugin) moreStats(s *Stats, total peer.Stats, recDropped uint64) {
	s.VideoBytes, s.AudioBytes, s.InvalidPackets = total.VideoBytes, total.AudioBytes, total.Dropped
	s.DroppedPeerStates = p.droppedStates.Load()
	s.DroppedFrames, s.DroppedAudio = p.host.droppedFrames.Load(), p.host.droppedAudio.Load()
	s.DroppedRecording = recDropped
	s.DroppedClusterEvents = p.clusterDropped()
	s.ConnectTime, s.KeyframeLatency = p.host.connectTime.snapshot(), p.host.keyframeLatency.snapshot()
}

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
	// Keyframes decoded, JPEGs written, keyframes not decoded for lack of
	// decoding budget (past it each peer keeps only its newest keyframe
	// waiting, and the peers take turns: the others are dropped), and decode
	// or write failures.
	Keyframes, Snapshots, DroppedKeyframes, FailedKeyframes uint64
	// Media bytes received (after SRTP), video and audio.
	VideoBytes, AudioBytes uint64
	// InvalidPackets: datagrams a peer dropped as unauthenticated,
	// undecryptable, malformed, late or duplicate, or as media of a new
	// SSRC not yet confirmed (RFC 3550 §A.1 probation).
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
		RefusedKeyframes: ps.Refused, RateLimitedKeyframes: ps.RateLimited, DiskLimitedKeyframes: ps.DiskLimited,
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
	dst.Dropped += s.Dropped + s.Probation // InvalidPackets counts both
	dst.Lost += s.Lost
	dst.FIRs += s.FIRs
	dst.PLIs += s.PLIs
	dst.NACKs += s.NACKs
	dst.Reports += s.Reports
}

// Conferences lists the conferences that have peers, sorted.
func (p *Plugin) Conferences() []string { return p.reg.Conferences() }
