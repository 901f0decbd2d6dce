package media

import (
	"errors"
	"fmt"
	"image"

	"github.com/nutsbolts/webrtc/rtcplug/internal/h264dec"
)

// H264MBPerByte is the most macroblocks one byte of an H.264 keyframe may
// carry: the H.264 form of MBPerByte. An intra picture spends at least a
// few context-coded bins on every macroblock (mb_type, the chroma
// prediction mode, mb_qp_delta, the luma DC coded_block_flag: ITU-T H.264
// §7.3.5), and a CABAC bin costs at least ~0.027 bits (the most probable
// symbol at state 62, §9.3.3.2.1), so no conforming IDR goes much below
// ~36 macroblocks a byte. Measured with ffmpeg -c:v libx264 on a flat black
// picture (color=black, one frame, slice NAL only):
//
//	             CABAC (-coder 1)          CAVLC (-coder 0)
//	1280x720     209 B,  17 MB/byte        2730 B, 1.3 MB/byte
//	1920x1080    424 B,  19 MB/byte        6160 B, 1.3 MB/byte
//	3840x2160   1556 B,  21 MB/byte       24370 B, 1.3 MB/byte
//
// (plus 33 bytes of SPS and PPS, and 686 of x264's version SEI, which a
// sender may drop). One byte per 64 macroblocks admits them with a margin
// of three and keeps a 4096x2304 claim (36864 macroblocks) from costing a
// full decode for less than 576 bytes.
const H264MBPerByte = 64

// MinH264KeyframeBytes is the smallest H.264 keyframe admitted for a w x h
// picture.
func MinH264KeyframeBytes(w, h int) int {
	mbs := ((w + 15) / 16) * ((h + 15) / 16)
	return mbs / H264MBPerByte
}

// CheckH264Keyframe reads the SPS in front of an H.264 keyframe (Annex B;
// the depacketizer puts the parameter sets in front of every IDR access
// unit) and refuses it without decoding when it has none, claims a size
// outside 1..MaxPixels (ErrTooLarge) or is far too short for that size
// (ErrTooSmall).
func CheckH264Keyframe(frame []byte) (w, h int, err error) {
	w, h, err = h264dec.PeekSize(frame)
	if err != nil {
		return 0, 0, err
	}
	if w <= 0 || h <= 0 || w*h > MaxPixels {
		return w, h, fmt.Errorf("%w: %dx%d", ErrTooLarge, w, h)
	}
	// The byte budget goes by the coded size: cropping may make a picture
	// of the largest coded size claim a tiny one, and the decoder works
	// through every coded macroblock.
	cw, ch, err := h264dec.PeekCodedSize(frame)
	if err != nil {
		return 0, 0, err
	}
	if cw*ch > MaxPixels+16*16*(cw/16+ch/16) {
		return w, h, fmt.Errorf("%w: %dx%d coded", ErrTooLarge, cw, ch)
	}
	if n := MinH264KeyframeBytes(cw, ch); len(frame) < n {
		return w, h, fmt.Errorf("%w: %d bytes for %dx%d coded (at least %d)", ErrTooSmall, len(frame), cw, ch, n)
	}
	return w, h, nil
}

// checkFrame applies the admission check of the job's codec.
func checkFrame(codec string, frame []byte) error {
	var err error
	switch codec {
	case "", "VP8":
		_, _, err = CheckKeyframe(frame)
	case "H264":
		_, _, err = CheckH264Keyframe(frame)
	default:
		err = fmt.Errorf("media: no decoder for codec %q", codec)
	}
	return err
}

var errH264Panic = errors.New("h264dec: decoder failed")

// decodeH264With decodes one H.264 keyframe with a kept decoder; the
// picture is the decoder's and valid until its next Decode.
func decodeH264With(d *h264dec.Decoder, frame []byte) (img *image.YCbCr, err error) {
	// h264dec is built never to panic on any input; should it still, that
	// must cost one keyframe, not the host.
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%w: %v", errH264Panic, r)
		}
	}()
	// Submit has checked the frame (CheckH264Keyframe); h264dec bounds the
	// picture by the level limits itself. Not checking again keeps the
	// worker's path free of allocations (PeekSize allocates one SPS).
	return d.Decode(frame)
}
