package rtcplug

// RequestKeyframe makes the decoder pool's request for a fresh keyframe of a
// peer, as after one of its keyframes was dropped.
func (p *Plugin) RequestKeyframe(conf, id string) { p.requestKeyframe(conf, id) }
