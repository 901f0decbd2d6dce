package record

import (
	"errors"
	"fmt"
)

// An SPS reader for what a recording needs: the picture size, and a check
// that every count in the SPS is within the range ITU-T H.264 allows before
// mp4ff parses it too (its parser sizes an array by
// num_ref_frames_in_pic_order_cnt_cycle as read, so a hostile SPS could make
// it allocate gigabytes).

var errSPS = errors.New("malformed SPS")

// bitReader reads an RBSP: the NAL unit payload with emulation prevention
// bytes (00 00 03) removed (ITU-T H.264 §7.4.1).
type bitReader struct {
	b     []byte
	pos   int // next byte
	zeros int // zero bytes just read
	cur   byte
	nbits int // bits left in cur
	err   error
}

func (r *bitReader) bit() uint32 {
	if r.nbits == 0 {
		for {
			if r.pos >= len(r.b) {
				r.err = errSPS
				return 0
			}
			c := r.b[r.pos]
			r.pos++
			if r.zeros >= 2 && c == 3 {
				r.zeros = 0
				continue // emulation prevention byte
			}
			if c == 0 {
				r.zeros++
			} else {
				r.zeros = 0
			}
			r.cur, r.nbits = c, 8
			break
		}
	}
	r.nbits--
	return uint32(r.cur>>r.nbits) & 1
}

func (r *bitReader) bits(n int) uint32 {
	var v uint32
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

// ue reads an unsigned Exp-Golomb code (§9.1); values beyond 32 bits are
// errors.
func (r *bitReader) ue() uint32 {
	n := 0
	for r.bit() == 0 {
		if r.err != nil {
			return 0
		}
		if n++; n > 31 {
			r.err = errSPS
			return 0
		}
	}
	return (1<<n - 1) + r.bits(n)
}

// se reads a signed Exp-Golomb code (§9.1.1).
func (r *bitReader) se() int32 {
	k := r.ue()
	if k&1 == 1 {
		return int32((k + 1) / 2)
	}
	return -int32(k / 2)
}

// spsSize parses an SPS NAL unit (header byte included) up to the frame
// cropping (§7.3.2.1.1) and returns the cropped picture size (§7.4.2.1.1).
func spsSize(nal []byte) (width, height int, err error) {
	if len(nal) < 4 || nal[0]&0x1f != naluSPS {
		return 0, 0, errSPS
	}
	r := &bitReader{b: nal[1:]}
	profile := r.bits(8)
	r.bits(16) // constraint flags, level_idc
	if r.ue() > 31 {
		return 0, 0, fmt.Errorf("%w: seq_parameter_set_id", errSPS)
	}
	chroma := uint32(1)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		if chroma = r.ue(); chroma > 3 {
			return 0, 0, fmt.Errorf("%w: chroma_format_idc %d", errSPS, chroma)
		}
		lists := 8
		if chroma == 3 {
			lists = 12 // by chroma_format_idc, not ChromaArrayType
			if r.bit() == 1 {
				chroma = 0 // separate_colour_plane_flag: ChromaArrayType 0
			}
		}
		if r.ue() > 6 || r.ue() > 6 {
			return 0, 0, fmt.Errorf("%w: bit depth", errSPS)
		}
		r.bit() // qpprime_y_zero_transform_bypass_flag
		if r.bit() == 1 {
			for i := range lists {
				if r.bit() == 0 {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				// scaling_list() (§7.3.2.1.1.1): delta_scale until next is 0.
				last, next := int32(8), int32(8)
				for range size {
					if next != 0 {
						d := r.se()
						if d < -128 || d > 127 {
							return 0, 0, fmt.Errorf("%w: delta_scale", errSPS)
						}
						next = (last + d + 256) % 256
					}
					if next != 0 {
						last = next
					}
				}
			}
		}
	}
	if r.ue() > 12 {
		return 0, 0, fmt.Errorf("%w: log2_max_frame_num_minus4", errSPS)
	}
	switch r.ue() { // pic_order_cnt_type
	case 0:
		if r.ue() > 12 {
			return 0, 0, fmt.Errorf("%w: log2_max_pic_order_cnt_lsb_minus4", errSPS)
		}
	case 1:
		r.bit()
		r.se()
		r.se()
		n := r.ue()
		if n > 255 {
			return 0, 0, fmt.Errorf("%w: num_ref_frames_in_pic_order_cnt_cycle %d", errSPS, n)
		}
		for range n {
			r.se()
		}
	case 2:
	default:
		return 0, 0, fmt.Errorf("%w: pic_order_cnt_type", errSPS)
	}
	r.ue()  // max_num_ref_frames
	r.bit() // gaps_in_frame_num_value_allowed_flag
	wMbs, hMapUnits := r.ue()+1, r.ue()+1
	frameMbsOnly := r.bit()
	if frameMbsOnly == 0 {
		r.bit() // mb_adaptive_frame_field_flag
	}
	r.bit() // direct_8x8_inference_flag
	const maxMbs = 8192 / 16
	if r.err != nil || wMbs > maxMbs || hMapUnits > maxMbs {
		return 0, 0, fmt.Errorf("%w: picture size", errSPS)
	}
	w := int(wMbs) * 16
	h := int(hMapUnits) * 16 * int(2-frameMbsOnly)
	if r.bit() == 1 { // frame_cropping_flag; crop units of Table 6-1
		cx, cy := 1, int(2-frameMbsOnly)
		if chroma == 1 || chroma == 2 {
			cx = 2
		}
		if chroma == 1 {
			cy *= 2
		}
		left, right, top, bottom := r.ue(), r.ue(), r.ue(), r.ue()
		if left > maxMbs*16 || right > maxMbs*16 || top > maxMbs*16 || bottom > maxMbs*16 {
			return 0, 0, fmt.Errorf("%w: cropping", errSPS)
		}
		w -= int(left+right) * cx
		h -= int(top+bottom) * cy
	}
	if r.err != nil {
		return 0, 0, r.err
	}
	if w <= 0 || h <= 0 {
		return 0, 0, fmt.Errorf("%w: picture size %dx%d", errSPS, w, h)
	}
	return w, h, nil
}
