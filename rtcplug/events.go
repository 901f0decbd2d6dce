package rtcplug

import (
	"image"
	"time"
)

// Keyframe is one decoded VP8 keyframe of a peer.
type Keyframe struct {
	Conference, Peer string
	Identity         string    // what WithAuthorize returned for the peer
	Time             time.Time // when the frame was complete
	Width, Height    int
	Image            *image.YCbCr // owned by the callback; never reused by the plugin
	Path             string       // the JPEG written, "" without WithSnapshotDir
}

// PeerState reports a change of a peer's connection state: StateNew,
// StateChecking, StateConnected, StateFailed or StateClosed.
type PeerState struct {
	Conference, Peer string
	Identity         string // what WithAuthorize returned for the peer
	State            PeerStateName
	Err              error // why, for failed (and closed when not asked for; ErrKicked after Kick)
}
