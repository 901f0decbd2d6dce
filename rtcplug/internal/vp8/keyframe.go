package vp8

// Frame header layout (RFC 6386 §9.1): a 3-byte little-endian frame tag
//
//	bit 0      P: frame type, 0 = key frame
//	bits 1-3   version
//	bit 4      show_frame
//	bits 5-23  first_part_size
//
// and, for key frames only, the start code 9d 01 2a and two little-endian
// 16-bit fields, each a 14-bit dimension under a 2-bit scale.
const (
	frameTagLen    = 3
	keyHeaderLen   = 10 // tag, start code, width, height
	dimensionMask  = 0x3fff
	startCode0     = 0x9d
	startCode1     = 0x01
	startCode2     = 0x2a
	firstPartShift = 5
)

// isKeyTag reports whether the frame tag claims a key frame (P bit clear).
func isKeyTag(frame []byte) bool { return len(frame) > 0 && frame[0]&1 == 0 }

// KeyframeSize returns the dimensions of a key frame. ok is false unless the
// frame is a key frame with an intact header: the P bit clear, the start
// code present, both dimensions non-zero and the first partition inside the
// frame. The scale bits are not applied (they ask for upscaling on display).
func KeyframeSize(frame []byte) (width, height int, ok bool) {
	if len(frame) < keyHeaderLen || !isKeyTag(frame) {
		return 0, 0, false
	}
	if frame[3] != startCode0 || frame[4] != startCode1 || frame[5] != startCode2 {
		return 0, 0, false
	}
	tag := uint32(frame[0]) | uint32(frame[1])<<8 | uint32(frame[2])<<16
	if int(tag>>firstPartShift) > len(frame)-keyHeaderLen {
		return 0, 0, false
	}
	width = int(uint16(frame[6])|uint16(frame[7])<<8) & dimensionMask
	height = int(uint16(frame[8])|uint16(frame[9])<<8) & dimensionMask
	if width == 0 || height == 0 {
		return 0, 0, false
	}
	return width, height, true
}

// IsKeyframe reports whether frame is a key frame with an intact header (see
// KeyframeSize).
func IsKeyframe(frame []byte) bool {
	_, _, ok := KeyframeSize(frame)
	return ok
}
