// Package h264dec decodes intra-coded H.264 pictures (IDR and I slices,
// ITU-T H.264 | ISO/IEC 14496-10) into 8-bit 4:2:0 images, bit-exact with
// the standard's decoding process (and so with ffmpeg). It is sans-IO:
// bytes in, an image out; no goroutines, no I/O, no cgo.
//
// Use one Decoder per stream. Decode takes one access unit in Annex B form
// (start codes); SPS and PPS may be inside it or given before, in an earlier
// access unit or out of band with SetParameterSets (RFC 6184
// sprop-parameter-sets). The image Decode returns belongs to the Decoder
// until the next call: copy it to keep it. After the first picture of a
// size, Decode allocates nothing. PeekSize reads only the SPS, to judge a
// frame's size before decoding it.
//
// Pictures are bounded by the level 5.1 limits (36864 macroblocks, at most
// 543 on a side) before anything is allocated. Hostile input yields an
// error wrapping ErrInvalid, never a panic or an unbounded loop.
//
// Covered: Baseline/Main/High intra tools: CAVLC and CABAC, Intra 4x4, 8x8
// and 16x16 prediction, I_PCM, flat and custom scaling matrices, 4x4 and
// 8x8 transforms, the deblocking filter (disable_deblocking_filter_idc
// 0/1/2, offsets), several slices per picture, frame cropping. Pictures with
// P, B, SP or SI slices are refused with an error wrapping ErrNotIntra,
// which wraps ErrUnsupported; so are, with ErrUnsupported: interlace (field
// pictures, MBAFF, PAFF), chroma formats other than 4:2:0, bit depths above
// 8, lossless transform bypass, slice groups (FMO), arbitrary slice order
// (ASO), data partitioning.
package h264dec

import (
	"errors"
	"image"
)

// Macroblock types as this decoder distinguishes them.
const (
	mbI4 = iota
	mbI8
	mbI16
	mbPCM
)

// mbInfo is what later macroblocks and the deblocking filter need to know
// about a decoded macroblock.
type mbInfo struct {
	slice      int32 // slice number + 1; 0 = not decoded
	typ        uint8
	t8         bool
	qp         int8 // QPY
	qpDb       int8 // QP for deblocking: 0 for I_PCM (§8.7.2.2)
	qpc        [2]int8
	cbp        uint8
	chromaMode uint8
	cbfDC      uint8 // CABAC coded_block_flag of luma, Cb, Cr DC (bits 0..2)
	deblockIdc uint8
	alphaOff   int8
	betaOff    int8
	modes      [16]int8  // Intra4x4PredMode by raster 4x4 position
	nz         [24]uint8 // coefficient counts: luma raster 4x4, then Cb, Cr 2x2
}

// Decoder decodes IDR and I pictures. It keeps the last parameter sets and
// reuses its buffers between calls: after the first picture of a size,
// Decode does not allocate. A Decoder is not safe for concurrent use.
type Decoder struct {
	spss [32]sps
	ppss [256]pps

	sps   sps // active
	pps   *pps
	ls    levelScale
	lsFor *pps

	rbsp []byte
	br   bitReader
	mbs  []mbInfo

	y, cb, cr        []byte
	yStride, cStride int
	img              image.YCbCr

	sliceNum int32
	decoded  int
	hdr      sliceHeader
	cur      mbState
	cabac    cabacState
}

// mbState is the scratch state of the macroblock being decoded.
type mbState struct {
	typ        int
	i16mode    int
	chromaMode int
	cbp        int
	t8         bool
	qp         int
	modes      [16]int8 // by raster 4x4 position (Intra4x4) or 8x8 index
	luma       [16][16]int32
	luma8      [4][64]int32
	lumaDC     [16]int32
	chromaDC   [2][4]int32
	chromaAC   [2][4][16]int32
	hasLuma    uint32 // bit per raster 4x4 block (or 8x8 block) with coefficients
	hasChroma  uint8  // bit per chroma AC block (Cb 0..3, Cr 4..7)
	pcm        [384]byte
}

func (s *mbState) reset() {
	s.luma = [16][16]int32{}
	if s.t8 {
		s.luma8 = [4][64]int32{}
	}
	s.lumaDC = [16]int32{}
	s.chromaDC = [2][4]int32{}
	s.chromaAC = [2][4][16]int32{}
	s.hasLuma, s.hasChroma = 0, 0
}

func (d *Decoder) lookupSPS(id uint32) *sps {
	if id < 32 && d.spss[id].valid {
		return &d.spss[id]
	}
	return nil
}

func (d *Decoder) lookup(id uint32) (*pps, *sps) {
	if id > 255 || !d.ppss[id].valid {
		return nil, nil
	}
	p := &d.ppss[id]
	return p, d.lookupSPS(p.spsID)
}

// SetParameterSets stores SPS and PPS NAL units given out of band (e.g. the
// sprop-parameter-sets of RFC 6184), without start codes. Other NAL types
// are ignored.
func (d *Decoder) SetParameterSets(nals ...[]byte) error {
	for _, n := range nals {
		if err := d.paramSet(n); err != nil {
			return err
		}
	}
	return nil
}

func (d *Decoder) paramSet(nal []byte) error {
	if len(nal) < 2 {
		return invalid("NAL unit too short")
	}
	switch nal[0] & 0x1f {
	case 7:
		d.rbsp = unescape(d.rbsp, nal[1:])
		var s sps
		if err := parseSPS(d.rbsp, &s); err != nil {
			return err
		}
		d.spss[s.id] = s
		// A PPS takes its scaling lists from its SPS (Table 7-2): resolve
		// again those that refer to this one, or waited for it.
		for i := range d.ppss {
			if p := &d.ppss[i]; len(p.raw) > 0 && p.spsID == s.id {
				d.resolvePPS(p) //nolint:errcheck // kept invalid on error
			}
		}
	case 8:
		d.rbsp = unescape(d.rbsp, nal[1:])
		var r bitReader
		r.init(d.rbsp)
		id := r.ue()
		if id > 255 || r.overrun() {
			return invalid("pic_parameter_set_id")
		}
		p := &d.ppss[id]
		p.raw = append(p.raw[:0], d.rbsp...)
		if err := d.resolvePPS(p); err != nil && !errors.Is(err, errUnknownSPS) {
			p.raw = p.raw[:0]
			return err
		}
	}
	return nil
}

// resolvePPS parses the stored PPS against the SPS it refers to. Until that
// SPS is known, the PPS stays invalid.
func (d *Decoder) resolvePPS(p *pps) error {
	raw := p.raw
	err := parsePPS(raw, p, d.lookupSPS)
	p.raw = raw
	d.lsFor = nil
	return err
}

// PeekSize returns the cropped picture size announced by the first SPS found
// in au (Annex B) or, failing that, among params (NAL units without start
// codes). It parses only the SPS.
func PeekSize(au []byte, params ...[]byte) (w, h int, err error) {
	return peekSize(false, au, params)
}

// PeekCodedSize is PeekSize before cropping: the size in whole macroblocks
// that a decode of the picture works through (§7.4.2.1.1: frame cropping can
// make a picture of 4096x2304 coded samples claim 2x2).
func PeekCodedSize(au []byte, params ...[]byte) (w, h int, err error) {
	return peekSize(true, au, params)
}

func peekSize(coded bool, au []byte, params [][]byte) (w, h int, err error) {
	var buf [64]byte
	try := func(nal []byte) (bool, error) {
		if len(nal) < 2 || nal[0]&0x1f != 7 {
			return false, nil
		}
		var s sps
		if err := parseSPS(unescape(buf[:0], nal[1:]), &s); err != nil {
			return true, err
		}
		w, h = s.width(), s.height()
		if coded {
			w, h = s.widthMbs*16, s.heightMbs*16
		}
		return true, nil
	}
	for i := 0; ; {
		nal, next, ok := nextNAL(au, i)
		if !ok {
			break
		}
		i = next
		if done, err := try(nal); done {
			return w, h, err
		}
	}
	for _, p := range params {
		if done, err := try(p); done {
			return w, h, err
		}
	}
	return 0, 0, invalid("no sequence parameter set")
}

// Decode decodes the primary coded picture of one access unit in Annex B
// format. SPS and PPS may precede it in au or have been given before (in an
// earlier au or through SetParameterSets). The returned image is owned by
// the Decoder and valid until the next call of Decode; copy it to keep it.
func (d *Decoder) Decode(au []byte) (*image.YCbCr, error) {
	started := false
loop:
	for i := 0; ; {
		nal, next, ok := nextNAL(au, i)
		if !ok {
			break
		}
		i = next
		if len(nal) < 1 {
			continue
		}
		if nal[0]&0x80 != 0 {
			return nil, invalid("forbidden_zero_bit set")
		}
		switch t := nal[0] & 0x1f; t {
		case 7, 8:
			if err := d.paramSet(nal); err != nil {
				return nil, err
			}
		case 1, 5:
			if err := d.slice(nal, &started); err != nil {
				if err == errNextPicture {
					break loop
				}
				return nil, err
			}
		case 2, 3, 4:
			return nil, unsupported("data partitioning (NAL type %d)", t)
		}
	}
	if !started {
		return nil, invalid("no slice in access unit")
	}
	if d.decoded != len(d.mbs) {
		return nil, invalid("picture incomplete: %d of %d macroblocks", d.decoded, len(d.mbs))
	}
	d.deblockPicture()
	return &d.img, nil
}

// startPicture activates s and sizes the buffers: the size is bounded by the
// level limits enforced in parseSPS.
func (d *Decoder) startPicture(s *sps) {
	d.sps = *s
	n := s.widthMbs * s.heightMbs
	if cap(d.mbs) < n {
		d.mbs = make([]mbInfo, n)
	}
	d.mbs = d.mbs[:n]
	for i := range d.mbs {
		d.mbs[i].slice = 0
	}
	d.yStride, d.cStride = s.widthMbs*16, s.widthMbs*8
	ny, nc := d.yStride*s.heightMbs*16, d.cStride*s.heightMbs*8
	if cap(d.y) < ny {
		d.y = make([]byte, ny)
	}
	if cap(d.cb) < nc {
		d.cb = make([]byte, nc)
		d.cr = make([]byte, nc)
	}
	d.y, d.cb, d.cr = d.y[:ny], d.cb[:nc], d.cr[:nc]
	yo := s.cropT*d.yStride + s.cropL
	co := s.cropT/2*d.cStride + s.cropL/2
	d.img = image.YCbCr{
		Y:              d.y[yo:],
		Cb:             d.cb[co:],
		Cr:             d.cr[co:],
		YStride:        d.yStride,
		CStride:        d.cStride,
		SubsampleRatio: image.YCbCrSubsampleRatio420,
		Rect:           image.Rect(0, 0, s.width(), s.height()),
	}
	d.sliceNum = 0
	d.decoded = 0
}

func (d *Decoder) slice(nal []byte, started *bool) error {
	d.rbsp = unescape(d.rbsp, nal[1:])
	r := &d.br
	r.init(d.rbsp)
	nalType, refIdc := nal[0]&0x1f, nal[0]>>5&3
	p, s, err := parseSliceHeader(r, nalType, refIdc, &d.hdr, d.lookup)
	if err != nil {
		return err
	}
	if d.hdr.redundantPicCnt > 0 {
		return nil // primary pictures only
	}
	if !*started {
		*started = true
		d.startPicture(s)
	} else if d.decoded == len(d.mbs) {
		// A complete picture is followed by the next one: decode only the
		// first primary picture of the access unit.
		return errNextPicture
	} else if s.id != d.sps.id || s.widthMbs != d.sps.widthMbs || s.heightMbs != d.sps.heightMbs {
		return invalid("slices of one picture use different SPS")
	}
	if d.mbs[d.hdr.firstMb].slice != 0 {
		return unsupported("arbitrary slice order or a second picture in the access unit")
	}
	if d.lsFor != p {
		d.ls.init(&p.lists)
		d.lsFor = p
	}
	d.pps = p
	d.sliceNum++
	if p.cabac {
		return d.sliceDataCABAC(r)
	}
	return d.sliceDataCAVLC(r)
}

// errUnknownSPS marks a PPS that arrived before its SPS.
var errUnknownSPS = invalid("PPS refers to an unknown SPS")

// errNextPicture stops Decode at the first slice of a second picture.
var errNextPicture = errors.New("h264dec: next picture")

// chromaQPTable is Table 8-15 for qPI >= 30.
var chromaQPTable = [22]int8{29, 30, 31, 32, 32, 33, 34, 34, 35, 35, 36, 36, 37, 37, 37, 38, 38, 38, 39, 39, 39, 39}

func chromaQP(qp, off int) int {
	q := qp + off
	if q < 0 {
		q = 0
	}
	if q > 51 {
		q = 51
	}
	if q < 30 {
		return q
	}
	return int(chromaQPTable[q-30])
}
