package h264dec

// Picture parameter set, ITU-T H.264 §7.3.2.2 / §7.4.2.2.

type pps struct {
	valid             bool
	id                uint32
	spsID             uint32
	cabac             bool
	bottomFieldPicPoc bool
	picInitQP         int
	chromaQPOffset    [2]int
	deblockingControl bool
	constrainedIntra  bool
	redundantPicCnt   bool
	transform8x8      bool
	scalingPresent    bool
	lists             scalingLists
	raw               []byte // the RBSP, kept to resolve it again when its SPS changes
}

// parsePPS parses pic_parameter_set_rbsp(). The SPS it refers to is needed
// for scaling list fall-back (Table 7-2); errUnknownSPS when it is not
// known yet (the caller resolves the PPS again when it arrives).
func parsePPS(rbsp []byte, p *pps, spsOf func(id uint32) *sps) error {
	var r bitReader
	r.init(rbsp)
	*p = pps{}
	p.id = r.ue()
	if p.id > 255 {
		return invalid("pic_parameter_set_id %d", p.id)
	}
	p.spsID = r.ue()
	if p.spsID > 31 {
		return invalid("seq_parameter_set_id %d", p.spsID)
	}
	p.cabac = r.flag()
	p.bottomFieldPicPoc = r.flag()
	if n := r.ue(); n != 0 {
		return unsupported("slice groups (FMO), num_slice_groups %d", n+1)
	}
	if r.ue() > 31 || r.ue() > 31 {
		return invalid("num_ref_idx_default_active")
	}
	r.skip(1) // weighted_pred_flag
	r.skip(2) // weighted_bipred_idc
	qp := r.se()
	if qp < -26 || qp > 25 {
		return invalid("pic_init_qp_minus26 %d", qp)
	}
	p.picInitQP = int(26 + qp)
	r.se() // pic_init_qs_minus26
	off := r.se()
	if off < -12 || off > 12 {
		return invalid("chroma_qp_index_offset %d", off)
	}
	p.chromaQPOffset = [2]int{int(off), int(off)}
	p.deblockingControl = r.flag()
	p.constrainedIntra = r.flag()
	p.redundantPicCnt = r.flag()
	if r.overrun() {
		return invalid("truncated PPS")
	}
	s := spsOf(p.spsID)
	if s == nil {
		return errUnknownSPS
	}
	p.lists = s.lists
	if r.moreRBSPData() {
		p.transform8x8 = r.flag()
		if r.flag() {
			p.scalingPresent = true
			n := 6
			if p.transform8x8 {
				n = 8
			}
			var fb *scalingLists
			if s.scalingMatrixPresent {
				fb = &s.lists
			}
			p.lists = parseScalingMatrix(&r, n, fb)
		}
		off := r.se()
		if off < -12 || off > 12 {
			return invalid("second_chroma_qp_index_offset %d", off)
		}
		p.chromaQPOffset[1] = int(off)
		if r.overrun() {
			return invalid("truncated PPS")
		}
	}
	p.valid = true
	return nil
}
