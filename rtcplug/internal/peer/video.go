package peer

import (
	"github.com/nutsbolts/webrtc/rtcplug/internal/h264"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtcp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/vp8"
)

// Video codec names carried in Event.Codec.
const (
	CodecVP8  = sdp.CodecVP8
	CodecH264 = sdp.CodecH264
)

// assembler rebuilds frames of the negotiated video codec from in-order RTP
// packets: vp8.Assembler (RFC 7741) or h264.Depacketizer (RFC 6184). Both
// return a frame in a buffer they reuse, and wait for a keyframe after loss.
// A concrete switch rather than an interface: through an interface call the
// compiler cannot see that the header stays on the stack, and each packet
// would allocate one.
type assembler struct {
	vp8     *vp8.Assembler
	h264    *h264.Depacketizer // nil until H.264 is negotiated
	useH264 bool
}

// Push adds one in-order RTP packet of the current codec.
func (a *assembler) Push(h *rtp.Header, payload []byte) (frame []byte, key bool, err error) {
	if a.useH264 {
		return a.h264.Push(h, payload)
	}
	return a.vp8.Push(h, payload)
}

// Release lets the VP8 assembler share its frame buffer until its next
// frame (vp8.Assembler.Release): the frame Push returned is no longer valid.
func (a *assembler) Release() {
	if !a.useH264 {
		a.vp8.Release()
	}
}

// NeedKeyframe reports whether the current codec's assembler waits for a
// keyframe.
func (a *assembler) NeedKeyframe() bool {
	if a.useH264 {
		return a.h264.NeedKeyframe()
	}
	return a.vp8.NeedKeyframe()
}

// videoFormat is one video payload type the answer allows, with what its
// depacketizer needs.
type videoFormat struct {
	pt    uint8
	codec string
	sets  [][]byte // H.264 parameter sets from sprop-parameter-sets
}

// setVideoCodec takes the video payload types of the answer (or of our WHIP
// answer): the first is expected, and the sender may switch to any other
// (RFC 3264 §5.1), which selectVideo follows.
func (p *Peer) setVideoCodec(r sdp.Remote) {
	p.firOnly = r.VideoFIROnly
	formats := r.VideoFormats
	if len(formats) == 0 || formats[0].PT != r.VideoPT {
		formats = append([]sdp.VideoFormat{{PT: r.VideoPT, Codec: r.VideoCodec, Fmtp: r.VideoFmtp}}, formats...)
	}
	p.videoFormats = p.videoFormats[:0]
	for _, f := range formats[:min(len(formats), sdp.MaxVideoFormats)] {
		vf := videoFormat{pt: f.PT, codec: f.Codec}
		if vf.codec != CodecH264 {
			vf.codec = CodecVP8
		} else if v, ok := sdp.FmtpParam(f.Fmtp, "sprop-parameter-sets"); ok {
			sets, err := h264.ParseSprop(v)
			if err != nil {
				// In-band parameter sets may still come; without any, keyframes
				// are dropped and counted by the depacketizer.
				p.logf("PT %d: sprop-parameter-sets ignored: %v", f.PT, err)
			}
			vf.sets = sets
		}
		p.videoFormats = append(p.videoFormats, vf)
	}
	p.useFormat(&p.videoFormats[0])
	how := "PLI"
	if p.firOnly {
		how = "FIR (the sender takes no PLI)"
	}
	p.logf("video codec %s, PT %d (%d payload types allowed); keyframes asked for by %s",
		p.codecName(), r.VideoPT, len(p.videoFormats), how)
}

// useFormat makes f the video format being received. Each codec keeps one
// depacketizer, so a sender switching back and forth allocates nothing.
func (p *Peer) useFormat(f *videoFormat) {
	a := &p.asm
	switch f.codec {
	case CodecH264:
		if a.h264 == nil {
			a.h264 = h264.New(MaxFrame)
		}
		if len(f.sets) > 0 {
			if err := a.h264.SetParameterSets(f.sets); err != nil {
				p.logf("PT %d: sprop-parameter-sets ignored: %v", f.pt, err)
			}
		}
		a.useH264 = true
	default:
		a.useH264 = false
	}
	p.videoCodec = f.codec
}

// selectVideo follows a sender that uses another of the video payload types
// the answer allowed: from then on that one is expected.
func (p *Peer) selectVideo(pt uint8) {
	if pt == p.remote.VideoPT || pt == p.remote.AudioPT || len(p.videoFormats) < 2 {
		return
	}
	for i := range p.videoFormats {
		if f := &p.videoFormats[i]; f.pt == pt {
			p.remote.VideoPT = pt
			p.useFormat(f)
			if !p.switchedVideo {
				p.switchedVideo = true
				p.logf("video arrives as PT %d: %s", pt, f.codec)
			}
			return
		}
	}
}

// codecName is the video codec of the peer's frames.
func (p *Peer) codecName() string {
	if p.videoCodec == "" {
		return CodecVP8
	}
	return p.videoCodec
}

// keyframeSize is the picture size a keyframe announces, where the codec
// package reads it (VP8's frame header; H.264 needs an SPS parser, which
// the decoder has: 0, 0 here).
func (p *Peer) keyframeSize(frame []byte) (int, int) {
	if p.codecName() != CodecVP8 {
		return 0, 0
	}
	w, h, _ := vp8.KeyframeSize(frame)
	return w, h
}

// appendKeyframeRequest appends a PLI (RFC 4585 §6.3.1) or, to a sender
// that negotiated only "ccm fir", a FIR (RFC 5104 §4.3.1) with a new
// command sequence number: each request is a new one, since the repeat
// comes only when no keyframe followed the last.
func (p *Peer) appendKeyframeRequest(buf []byte) []byte {
	if !p.firOnly {
		return rtcp.AppendPLI(buf, p.ssrc, p.pliSSRC())
	}
	p.firSeq++
	p.stats.FIRs++
	return rtcp.AppendFIR(buf, p.ssrc, p.pliSSRC(), p.firSeq)
}
