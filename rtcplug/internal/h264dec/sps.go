package h264dec

// Sequence parameter set, ITU-T H.264 §7.3.2.1.1 / §7.4.2.1.1.

// Level 5.1 limits (Table A-1): MaxFS = 36864 macroblocks; a side may not
// exceed sqrt(8*MaxFS) = 543 macroblocks (§A.3.1 f/g). Pictures are bounded
// by these before anything is allocated.
const (
	maxFrameMbs = 36864
	maxSideMbs  = 543
)

type sps struct {
	valid                bool
	profileIdc           uint8
	levelIdc             uint8
	id                   uint32
	chromaFormatIdc      uint32
	log2MaxFrameNum      int
	pocType              uint32
	log2MaxPocLsb        int
	deltaPicOrderZero    bool
	widthMbs, heightMbs  int
	frameMbsOnly         bool
	cropL, cropR         int // in luma samples
	cropT, cropB         int
	scalingMatrixPresent bool
	lists                scalingLists
}

func (s *sps) width() int  { return s.widthMbs*16 - s.cropL - s.cropR }
func (s *sps) height() int { return s.heightMbs*16 - s.cropT - s.cropB }

// Default scaling lists, Table 7-3 and 7-4, in zig-zag order.
var (
	defaultScaling4Intra = [16]uint8{6, 13, 13, 20, 20, 20, 28, 28, 28, 28, 32, 32, 32, 37, 37, 42}
	defaultScaling4Inter = [16]uint8{10, 14, 14, 20, 20, 20, 24, 24, 24, 24, 27, 27, 27, 30, 30, 34}
	defaultScaling8Intra = [64]uint8{
		6, 10, 10, 13, 11, 13, 16, 16, 16, 16, 18, 18, 18, 18, 18, 23,
		23, 23, 23, 23, 23, 25, 25, 25, 25, 25, 25, 25, 27, 27, 27, 27,
		27, 27, 27, 27, 29, 29, 29, 29, 29, 29, 29, 31, 31, 31, 31, 31,
		31, 33, 33, 33, 33, 33, 36, 36, 36, 36, 38, 38, 38, 40, 40, 42}
	defaultScaling8Inter = [64]uint8{
		9, 13, 13, 15, 13, 15, 17, 17, 17, 17, 19, 19, 19, 19, 19, 21,
		21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22, 24, 24, 24, 24,
		24, 24, 24, 24, 25, 25, 25, 25, 25, 25, 25, 27, 27, 27, 27, 27,
		27, 28, 28, 28, 28, 28, 30, 30, 30, 30, 32, 32, 32, 33, 33, 35}
)

// scalingLists holds the eight lists of §7.4.2.1.1 in zig-zag (transmission)
// order: 0-2 intra 4x4 Y/Cb/Cr, 3-5 inter 4x4, 6 intra 8x8 Y, 7 inter 8x8 Y.
type scalingLists struct {
	l4 [6][16]uint8
	l8 [2][64]uint8
}

func flatScaling() (s scalingLists) {
	for i := range s.l4 {
		for j := range s.l4[i] {
			s.l4[i][j] = 16
		}
	}
	for i := range s.l8 {
		for j := range s.l8[i] {
			s.l8[i][j] = 16
		}
	}
	return
}

// scalingList parses scaling_list() (§7.3.2.1.1.1). It returns false when
// useDefaultScalingMatrixFlag is set.
func scalingList(r *bitReader, list []uint8) (useDefault bool) {
	last, next := int32(8), int32(8)
	for j := range list {
		if next != 0 {
			delta := r.se()
			if delta < -128 || delta > 127 {
				r.pos = r.size + 1
				return false
			}
			next = (last + delta + 256) % 256
			if j == 0 && next == 0 {
				return true
			}
		}
		if next != 0 {
			list[j] = uint8(next)
		} else {
			list[j] = uint8(last)
		}
		last = int32(list[j])
	}
	return false
}

// parseScalingMatrix reads the presence flags and lists of an SPS or PPS,
// applying fall-back rule A (fallback == nil: defaults) or B (fallback: the
// SPS lists), Table 7-2.
func parseScalingMatrix(r *bitReader, n int, fallback *scalingLists) (s scalingLists) {
	for i := 0; i < n; i++ {
		present := r.flag()
		if i < 6 {
			l := s.l4[i][:]
			if present && !scalingList(r, l) {
				continue
			}
			switch {
			case present: // useDefaultScalingMatrixFlag
				if i < 3 {
					copy(l, defaultScaling4Intra[:])
				} else {
					copy(l, defaultScaling4Inter[:])
				}
			case i == 0 || i == 3:
				if fallback != nil {
					copy(l, fallback.l4[i][:])
				} else if i == 0 {
					copy(l, defaultScaling4Intra[:])
				} else {
					copy(l, defaultScaling4Inter[:])
				}
			default:
				copy(l, s.l4[i-1][:])
			}
			continue
		}
		l := s.l8[i-6][:]
		if present && !scalingList(r, l) {
			continue
		}
		switch {
		case !present && fallback != nil:
			copy(l, fallback.l8[i-6][:])
		case i == 6:
			copy(l, defaultScaling8Intra[:])
		default:
			copy(l, defaultScaling8Inter[:])
		}
	}
	// Lists not transmitted (8x8 when n == 6) follow the same rules.
	for i := n; i < 8; i++ {
		if i < 6 {
			continue
		}
		if fallback != nil {
			s.l8[i-6] = fallback.l8[i-6]
		} else if i == 6 {
			s.l8[0] = defaultScaling8Intra
		} else {
			s.l8[1] = defaultScaling8Inter
		}
	}
	return s
}

// parseSPS parses seq_parameter_set_data() from an RBSP that starts after the
// NAL header byte. Only what intra decoding needs is kept; VUI is skipped as
// it is the last element and nothing after it matters.
func parseSPS(rbsp []byte, s *sps) error {
	var r bitReader
	r.init(rbsp)
	*s = sps{}
	s.profileIdc = uint8(r.u(8))
	r.skip(8) // constraint_set flags, reserved_zero_2bits
	s.levelIdc = uint8(r.u(8))
	s.id = r.ue()
	if s.id > 31 {
		return invalid("seq_parameter_set_id %d", s.id)
	}
	s.chromaFormatIdc = 1
	s.lists = flatScaling()
	switch s.profileIdc {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		s.chromaFormatIdc = r.ue()
		if s.chromaFormatIdc != 1 {
			return unsupported("chroma_format_idc %d (only 4:2:0)", s.chromaFormatIdc)
		}
		if d := r.ue(); d != 0 {
			return unsupported("bit_depth_luma %d (only 8-bit)", d+8)
		}
		if d := r.ue(); d != 0 {
			return unsupported("bit_depth_chroma %d (only 8-bit)", d+8)
		}
		if r.flag() {
			return unsupported("qpprime_y_zero_transform_bypass (lossless)")
		}
		if r.flag() {
			s.scalingMatrixPresent = true
			s.lists = parseScalingMatrix(&r, 8, nil)
		}
	}
	l := r.ue()
	if l > 12 {
		return invalid("log2_max_frame_num_minus4 %d", l)
	}
	s.log2MaxFrameNum = int(l) + 4
	s.pocType = r.ue()
	switch s.pocType {
	case 0:
		l := r.ue()
		if l > 12 {
			return invalid("log2_max_pic_order_cnt_lsb_minus4 %d", l)
		}
		s.log2MaxPocLsb = int(l) + 4
	case 1:
		s.deltaPicOrderZero = r.flag()
		r.se()
		r.se()
		n := r.ue()
		if n > 255 {
			return invalid("num_ref_frames_in_pic_order_cnt_cycle %d", n)
		}
		for i := uint32(0); i < n; i++ {
			r.se()
		}
	case 2:
	default:
		return invalid("pic_order_cnt_type %d", s.pocType)
	}
	r.ue()    // max_num_ref_frames
	r.skip(1) // gaps_in_frame_num_value_allowed_flag
	w := r.ue()
	h := r.ue()
	if w >= maxSideMbs || h >= maxSideMbs {
		return unsupported("picture of %dx%d macroblocks exceeds level 5.1", w+1, h+1)
	}
	s.widthMbs, s.heightMbs = int(w)+1, int(h)+1
	if s.widthMbs*s.heightMbs > maxFrameMbs {
		return unsupported("picture of %dx%d macroblocks exceeds level 5.1", s.widthMbs, s.heightMbs)
	}
	s.frameMbsOnly = r.flag()
	if !s.frameMbsOnly {
		return unsupported("interlaced coding (frame_mbs_only_flag 0)")
	}
	r.skip(1) // direct_8x8_inference_flag
	if r.flag() {
		// CropUnitX = CropUnitY = 2 for 4:2:0 frames (§7.4.2.1.1).
		cl, cr, ct, cb := r.ue(), r.ue(), r.ue(), r.ue()
		if cl > 8192 || cr > 8192 || ct > 8192 || cb > 8192 {
			return invalid("frame cropping")
		}
		s.cropL, s.cropR, s.cropT, s.cropB = int(cl)*2, int(cr)*2, int(ct)*2, int(cb)*2
		if s.width() <= 0 || s.height() <= 0 {
			return invalid("frame cropping leaves no picture")
		}
	}
	if r.overrun() {
		return invalid("truncated SPS")
	}
	s.valid = true
	return nil
}
