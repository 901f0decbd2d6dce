package h264dec

// bitWriter builds syntax for tests: parameter sets and slices the encoders
// we compare with do not produce (I_PCM, refused features).
type bitWriter struct {
	b    []byte
	nbit int
}

func (w *bitWriter) u(n int, v uint32) {
	for i := n - 1; i >= 0; i-- {
		if w.nbit%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>uint(i)&1 == 1 {
			w.b[len(w.b)-1] |= 0x80 >> uint(w.nbit%8)
		}
		w.nbit++
	}
}

func (w *bitWriter) ue(v uint32) {
	n := 0
	for (v+1)>>uint(n+1) != 0 {
		n++
	}
	w.u(n, 0)
	w.u(n+1, v+1)
}

func (w *bitWriter) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*v - 1))
	} else {
		w.ue(uint32(-2 * v))
	}
}

func (w *bitWriter) align() {
	for w.nbit%8 != 0 {
		w.u(1, 0)
	}
}

func (w *bitWriter) trailing() {
	w.u(1, 1)
	w.align()
}

// nal wraps an RBSP into an Annex B NAL unit with emulation prevention.
func nal(header byte, rbsp []byte) []byte {
	out := []byte{0, 0, 0, 1, header}
	zeros := 0
	for _, c := range rbsp {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

type spsOpts struct {
	profile       uint32
	wMbs, hMbs    uint32
	chromaFormat  uint32
	bitDepthMinus uint32
	fieldCoding   bool
}

func buildSPS(o spsOpts) []byte {
	var w bitWriter
	if o.profile == 0 {
		o.profile = 66
	}
	w.u(8, o.profile)
	w.u(8, 0)
	w.u(8, 30)
	w.ue(0)
	if o.profile == 100 {
		w.ue(o.chromaFormat)
		w.ue(o.bitDepthMinus)
		w.ue(o.bitDepthMinus)
		w.u(1, 0)
		w.u(1, 0)
	}
	w.ue(0) // log2_max_frame_num_minus4
	w.ue(2) // pic_order_cnt_type
	w.ue(1)
	w.u(1, 0)
	w.ue(o.wMbs - 1)
	w.ue(o.hMbs - 1)
	if o.fieldCoding {
		w.u(1, 0)
		w.u(1, 0)
	} else {
		w.u(1, 1)
	}
	w.u(1, 1)
	w.u(1, 0) // frame_cropping_flag
	w.u(1, 0) // vui
	w.trailing()
	return nal(0x67, w.b)
}

func buildPPS(cabac bool, sliceGroups uint32) []byte {
	var w bitWriter
	w.ue(0)
	w.ue(0)
	if cabac {
		w.u(1, 1)
	} else {
		w.u(1, 0)
	}
	w.u(1, 0)
	w.ue(sliceGroups - 1)
	if sliceGroups > 1 {
		w.ue(0) // slice_group_map_type (interleaved)
		for i := uint32(0); i < sliceGroups; i++ {
			w.ue(0)
		}
	}
	w.ue(0)
	w.ue(0)
	w.u(1, 0)
	w.u(2, 0)
	w.se(0) // pic_init_qp_minus26
	w.se(0)
	w.se(0)
	w.u(1, 1) // deblocking_filter_control_present_flag
	w.u(1, 0)
	w.u(1, 0)
	w.trailing()
	return nal(0x68, w.b)
}

// sliceHeader writes an IDR slice header (nal_unit_type 5) for buildSPS /
// buildPPS streams.
func writeSliceHeader(w *bitWriter, sliceType uint32, qpDelta int32) {
	writeSliceHeaderAt(w, 0, sliceType, qpDelta, 0)
}

func writeSliceHeaderAt(w *bitWriter, firstMb, sliceType uint32, qpDelta int32, deblockIdc uint32) {
	w.ue(firstMb)   // first_mb_in_slice
	w.ue(sliceType) // slice_type
	w.ue(0)         // pic_parameter_set_id
	w.u(4, 0)       // frame_num
	w.ue(0)         // idr_pic_id
	w.u(1, 0)       // no_output_of_prior_pics_flag
	w.u(1, 0)       // long_term_reference_flag
	w.se(qpDelta)
	w.ue(deblockIdc) // disable_deblocking_filter_idc
	if deblockIdc != 1 {
		w.se(0)
		w.se(0)
	}
}
