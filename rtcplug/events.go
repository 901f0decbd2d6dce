package rtcplug

import (
	"image"
	"time"
)

// Keyframe is one keyframe of a peer.
type Keyframe struct {
	Conference, Peer string
	Identity         string    // what WithAuthorize returned for the peer
	Time             time.Time // when the frame was complete
	Width, Height    int
	// Image is the decoded picture (VP8 or H.264), owned by the callback
	// and never reused by the plugin.
	Image *image.YCbCr
	Path  string // the JPEG written, "" without WithSnapshotDir
	Codec string // CodecVP8 or CodecH264
}

// PeerState reports a change of a peer's connection state: StateNew,
// StateChecking, StateConnected, StateFailed or StateClosed.
type PeerState struct {
	Conference, Peer string
	Identity         string // what WithAuthorize returned for the peer
	State            PeerStateName
	Err              error // why, for failed (and closed when not asked for; ErrKicked after Kick)
}
