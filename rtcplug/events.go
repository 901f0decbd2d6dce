package rtcplug

import (
	"image"
	"time"
)

// Keyframe is one decoded VP8 keyframe of a peer.
type Keyframe struct {
	Conference, Peer string
	Time             time.Time // when the frame was complete
	Width, Height    int
	Image            *image.YCbCr // owned by the callback; never reused by the plugin
	Path             string       // the JPEG written, "" without WithSnapshotDir
}

// PeerState reports a change of a peer's connection state: "new",
// "checking", "connected", "failed" or "closed".
type PeerState struct {
	Conference, Peer string
	State            string
	Err              error // why, for failed (and closed when not asked for)
}
