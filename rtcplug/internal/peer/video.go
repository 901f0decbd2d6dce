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
type assembler interface {
	Push(h *rtp.Header, payload []byte) (frame []byte, key bool, err error)
	NeedKeyframe() bool
}

// setVideoCodec picks the depacketizer for the codec the answer (or WHIP
// offer) chose, with the parameter sets an H.264 sender gave out of band.
func (p *Peer) setVideoCodec(r sdp.Remote) {
	p.firOnly = r.VideoFIROnly
	switch r.VideoCodec {
	case CodecH264:
		d := h264.New(MaxFrame)
		if v, ok := sdp.FmtpParam(r.VideoFmtp, "sprop-parameter-sets"); ok {
			sets, err := h264.ParseSprop(v)
			if err == nil {
				err = d.SetParameterSets(sets)
			}
			if err != nil {
				// In-band parameter sets may still come; without any, keyframes
				// are dropped and counted by the depacketizer.
				p.logf("sprop-parameter-sets ignored: %v", err)
			} else {
				p.logf("H.264 parameter sets from sprop-parameter-sets: %d", len(sets))
			}
		}
		p.asm, p.videoCodec = d, CodecH264
	default:
		p.videoCodec = CodecVP8
	}
	how := "PLI"
	if p.firOnly {
		how = "FIR (the sender takes no PLI)"
	}
	p.logf("video codec %s, PT %d; keyframes asked for by %s", p.codecName(), r.VideoPT, how)
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
