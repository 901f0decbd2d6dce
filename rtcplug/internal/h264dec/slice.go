package h264dec

// Slice header, ITU-T H.264 §7.3.3 / §7.4.3.

import "fmt"

type sliceHeader struct {
	firstMb         int
	sliceType       uint32
	ppsID           uint32
	frameNum        uint32
	idrPicID        uint32
	redundantPicCnt uint32
	qp              int
	disableDeblock  uint32
	alphaOffset     int // FilterOffsetA
	betaOffset      int // FilterOffsetB
}

// parseSliceHeader reads the slice header from r, positioned after the NAL
// header byte. nalType and nalRefIdc come from that byte; lookup resolves the
// PPS and its SPS.
func parseSliceHeader(r *bitReader, nalType, nalRefIdc uint8, h *sliceHeader, lookup func(id uint32) (*pps, *sps)) (*pps, *sps, error) {
	*h = sliceHeader{}
	first := r.ue()
	h.sliceType = r.ue()
	if h.sliceType > 9 {
		return nil, nil, invalid("slice_type %d", h.sliceType)
	}
	switch h.sliceType % 5 {
	case 2: // I
	case 0, 1:
		return nil, nil, fmt.Errorf("%w: P/B slice (slice_type %d)", ErrNotIntra, h.sliceType)
	default:
		return nil, nil, fmt.Errorf("%w: SP/SI slice (slice_type %d)", ErrNotIntra, h.sliceType)
	}
	h.ppsID = r.ue()
	if h.ppsID > 255 {
		return nil, nil, invalid("pic_parameter_set_id %d", h.ppsID)
	}
	p, s := lookup(h.ppsID)
	if p == nil || s == nil {
		return nil, nil, invalid("slice refers to unknown PPS %d or its SPS", h.ppsID)
	}
	if int(first) >= s.widthMbs*s.heightMbs {
		return nil, nil, invalid("first_mb_in_slice %d", first)
	}
	h.firstMb = int(first)
	h.frameNum = r.u(s.log2MaxFrameNum)
	// frame_mbs_only_flag is 1 (checked in the SPS): no field_pic_flag.
	if nalType == 5 {
		h.idrPicID = r.ue()
	}
	if s.pocType == 0 {
		r.u(s.log2MaxPocLsb)
		if p.bottomFieldPicPoc {
			r.se()
		}
	}
	if s.pocType == 1 && !s.deltaPicOrderZero {
		r.se()
		if p.bottomFieldPicPoc {
			r.se()
		}
	}
	if p.redundantPicCnt {
		h.redundantPicCnt = r.ue()
	}
	// I slices carry no direct_spatial_mv_pred, num_ref_idx_override,
	// ref_pic_list_modification or pred_weight_table.
	if nalRefIdc != 0 {
		if nalType == 5 {
			r.skip(2) // no_output_of_prior_pics_flag, long_term_reference_flag
		} else if r.flag() { // adaptive_ref_pic_marking_mode_flag
			for i := 0; ; i++ {
				if i > 66 || r.overrun() {
					return nil, nil, invalid("dec_ref_pic_marking too long")
				}
				op := r.ue()
				if op == 0 {
					break
				}
				switch op {
				case 1, 2, 6:
					r.ue()
				case 3:
					r.ue()
					r.ue()
				case 4:
					r.ue()
				case 5:
				default:
					return nil, nil, invalid("memory_management_control_operation %d", op)
				}
			}
		}
	}
	// cabac_init_idc is absent for I slices.
	dqp := r.se()
	qp := p.picInitQP + int(dqp)
	if qp < 0 || qp > 51 {
		return nil, nil, invalid("slice QP %d", qp)
	}
	h.qp = qp
	if p.deblockingControl {
		h.disableDeblock = r.ue()
		if h.disableDeblock > 2 {
			return nil, nil, invalid("disable_deblocking_filter_idc %d", h.disableDeblock)
		}
		if h.disableDeblock != 1 {
			a, b := r.se(), r.se()
			if a < -6 || a > 6 || b < -6 || b > 6 {
				return nil, nil, invalid("slice_alpha/beta_offset_div2")
			}
			h.alphaOffset, h.betaOffset = int(a)*2, int(b)*2
		}
	}
	if r.overrun() {
		return nil, nil, invalid("truncated slice header")
	}
	return p, s, nil
}
