package rtcplug

import "github.com/nutsbolts/webrtc/rtcplug/internal/peer"

// moreStats fills the Stats fields of the host-facing API.
func (p *Plugin) moreStats(s *Stats, total peer.Stats, recDropped uint64) {
	s.VideoBytes, s.AudioBytes, s.InvalidPackets = total.VideoBytes, total.AudioBytes, total.Dropped
	s.DroppedPeerStates = p.droppedStates.Load()
	s.DroppedFrames, s.DroppedAudio = p.host.droppedFrames.Load(), p.host.droppedAudio.Load()
	s.DroppedRecording = recDropped
	s.DroppedClusterEvents = p.clusterDropped()
	s.ConnectTime, s.KeyframeLatency = p.host.connectTime.snapshot(), p.host.keyframeLatency.snapshot()
}
