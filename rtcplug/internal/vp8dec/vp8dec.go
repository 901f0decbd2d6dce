// Package vp8dec decodes VP8 key frames (RFC 6386) into 4:2:0 pictures.
//
// Only intra frames are decoded: the package exists to turn key frames into
// snapshots, so interframes are refused with ErrNotKeyframe. The output is
// bit-exact with libvpx, the reference decoder, also on damaged frames where
// other decoders part from it: the first partition's bool decoder runs on
// past the partition's size, a token partition read past its end stops
// coefficient reading, segment quantizer and filter levels are clamped before
// the frame deltas are added. (ffmpeg and x/image/vp8 differ from libvpx in
// some of these; see the tests.) A Decoder owns and reuses its picture
// buffers, so decoding a stream of same-sized key frames does not allocate.
package vp8dec

import (
	"errors"
	"image"
)

// DefaultMaxPixels bounds width*height when Decoder.MaxPixels is zero.
const DefaultMaxPixels = 4096 * 2304

var (
	// ErrNotKeyframe is returned for interframes, which need a reference
	// picture this decoder does not keep.
	ErrNotKeyframe = errors.New("vp8dec: not a key frame")
	// ErrTooLarge is returned when a key frame claims more pixels than
	// MaxPixels allows; nothing is allocated for it.
	ErrTooLarge = errors.New("vp8dec: picture too large")
	errShort    = errors.New("vp8dec: frame truncated")
	errStart    = errors.New("vp8dec: bad start code")
	errSize     = errors.New("vp8dec: zero width or height")
	errPart     = errors.New("vp8dec: partition sizes exceed the frame")
)

// Intra modes of RFC 6386 section 11.2 (luma 16x16 and chroma) ...
const (
	modeDC = iota
	modeV
	modeH
	modeTM
	modeB
)

// ... and the ten 4x4 subblock modes, numbered as in the RFC.
const (
	bDC = iota
	bTM
	bVE
	bHE
	bLD
	bRD
	bVR
	bVL
	bHD
	bHU
)

// Plane borders: one row above the picture (127, RFC 6386 section 12.2),
// one column left of it (129), and room right of the last macroblock for the
// above-right pixels of 4x4 prediction.
const (
	borderLeft  = 4
	borderRight = 16
)

// dequant holds the six dequantization factors of one segment (RFC 6386
// section 14.1).
type dequant struct {
	y1dc, y1ac, y2dc, y2ac, uvdc, uvac int32
}

// mbFilterInfo is what the loop filter needs of a decoded macroblock.
type mbFilterInfo struct {
	level uint8 // loop filter level, 0 = none
	inner bool  // filter inner edges: B_PRED or has coefficients
}

// Decoder decodes VP8 key frames. The zero value is ready to use. It is not
// safe for concurrent use.
type Decoder struct {
	// MaxPixels bounds width*height of a key frame; zero means
	// DefaultMaxPixels. It is checked before anything is allocated.
	MaxPixels int

	mbw, mbh     int
	yStride      int
	cStride      int
	yOrig, cOrig int // index of pixel (0, 0) in the planes
	ybuf, ubuf   []byte
	vbuf         []byte
	img          image.YCbCr

	// Frame header state (RFC 6386 section 9).
	fp            boolDecoder
	firstSize     int // bytes in the first partition
	parts         [8]boolDecoder
	nparts        int
	segEnabled    bool
	segUpdateMap  bool
	segUpdateData bool
	baseQ         int
	segAbs        bool
	segQuant      [4]int
	segLF         [4]int
	segProbs      [3]uint8
	simple        bool
	filterLevel   int
	sharpness     int
	lfDeltas      bool
	refDelta      [4]int
	modeDelta     [4]int
	skipEnabled   bool
	skipProb      uint8
	coeffProbs    [4][8][3][11]uint8
	bandProbs     [4][16]*[3][11]uint8 // coeffProbs by coefficient position
	dq            [4]dequant
	lfLevel       [4][2]uint8 // by segment, [B_PRED, other modes]

	// Per-row contexts.
	aboveNz    []uint8 // 9 per macroblock: 4 Y, 2 U, 2 V, 1 Y2
	aboveBmode []uint8 // 4 per macroblock
	lfInfo     []mbFilterInfo

	coeffs [25 * 16]int16

	// wild is set when the last frame had coefficients so large that the
	// 16-bit arithmetic of the reference decoders overflows; tests compare
	// such pictures with nothing.
	wild bool

	// noAsm makes the loop filter use its Go form where a vector form
	// exists; tests set it to compare the two.
	noAsm bool
}

// KeyframeSize returns the picture size a key frame claims, reading only its
// first ten bytes (RFC 6386 section 9.1), so that a caller can refuse a
// frame before decoding it.
func KeyframeSize(frame []byte) (width, height int, err error) {
	if len(frame) < 3 {
		return 0, 0, errShort
	}
	if frame[0]&1 != 0 {
		return 0, 0, ErrNotKeyframe
	}
	if len(frame) < 10 {
		return 0, 0, errShort
	}
	if frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0, 0, errStart
	}
	// The top two bits of each dimension are scaling, a display hint.
	w := int(frame[6]) | int(frame[7]&0x3f)<<8
	h := int(frame[8]) | int(frame[9]&0x3f)<<8
	if w == 0 || h == 0 {
		return 0, 0, errSize
	}
	return w, h, nil
}

// Decode decodes one complete VP8 frame (as carried in an IVF frame or
// reassembled from RTP). The returned picture and its buffers belong to the
// Decoder and stay valid until the next call.
func (d *Decoder) Decode(frame []byte) (*image.YCbCr, error) {
	w, h, err := KeyframeSize(frame)
	if err != nil {
		return nil, err
	}
	tag := uint32(frame[0]) | uint32(frame[1])<<8 | uint32(frame[2])<<16
	firstSize := int(tag >> 5)
	maxPix := d.MaxPixels
	if maxPix <= 0 {
		maxPix = DefaultMaxPixels
	}
	if w*h > maxPix {
		return nil, ErrTooLarge
	}
	data := frame[10:]
	if firstSize > len(data) {
		return nil, errShort
	}
	// The first partition's decoder may run on into the bytes after it, as
	// the reference decoder's does (libvpx starts it on the whole frame);
	// the size only locates the token partitions.
	d.fp.init(data)
	d.firstSize = firstSize
	d.parseHeader()
	if err := d.initPartitions(data[firstSize:]); err != nil {
		return nil, err
	}
	d.setup(w, h)
	d.decodeFrame()
	d.wild = false
	for i := 0; i < d.nparts; i++ {
		d.wild = d.wild || d.parts[i].wild
	}
	return &d.img, nil
}

// parseHeader reads the key frame header of RFC 6386 sections 9.2 to 9.11
// from the first partition.
func (d *Decoder) parseHeader() {
	br := &d.fp
	br.readFlag() // color space: only the one defined value is in use
	br.readFlag() // clamping type: clamping is always done

	// Section 9.3; a key frame resets the segment data to zero deltas.
	d.segEnabled = br.readFlag()
	d.segUpdateMap = false
	d.segUpdateData = false
	d.segAbs = false
	d.segQuant = [4]int{}
	d.segLF = [4]int{}
	if d.segEnabled {
		d.segUpdateMap = br.readFlag()
		d.segUpdateData = br.readFlag()
		if d.segUpdateData {
			d.segAbs = br.readFlag()
			for i := range d.segQuant {
				d.segQuant[i] = br.readOptionalSigned(7)
			}
			for i := range d.segLF {
				d.segLF[i] = br.readOptionalSigned(6)
			}
		}
		if d.segUpdateMap {
			for i := range d.segProbs {
				d.segProbs[i] = 255
				if br.readFlag() {
					d.segProbs[i] = uint8(br.readLiteral(8))
				}
			}
		}
	}

	// Section 9.4; a key frame resets the deltas to zero.
	d.simple = br.readFlag()
	d.filterLevel = br.readLiteral(6)
	d.sharpness = br.readLiteral(3)
	d.refDelta = [4]int{}
	d.modeDelta = [4]int{}
	d.lfDeltas = br.readFlag()
	if d.lfDeltas && br.readFlag() {
		for i := range d.refDelta {
			if br.readFlag() {
				d.refDelta[i] = br.readSigned(6)
			}
		}
		for i := range d.modeDelta {
			if br.readFlag() {
				d.modeDelta[i] = br.readSigned(6)
			}
		}
	}

	// Section 9.5: the partition count; the sizes follow the first
	// partition and are read by initPartitions.
	d.nparts = 1 << uint(br.readLiteral(2))

	// Section 9.6.
	yac := br.readLiteral(7)
	d.baseQ = yac
	ydc := br.readOptionalSigned(4)
	y2dc := br.readOptionalSigned(4)
	y2ac := br.readOptionalSigned(4)
	uvdc := br.readOptionalSigned(4)
	uvac := br.readOptionalSigned(4)
	for s := range d.dq {
		q := yac
		if d.segEnabled {
			if d.segAbs {
				q = d.segQuant[s]
			} else {
				q += d.segQuant[s]
			}
		}
		d.dq[s] = makeDequant(clamp127(q), ydc, y2dc, y2ac, uvdc, uvac)
	}

	// Section 9.11: refresh_entropy_probs matters only to interframes.
	br.readFlag()

	// Section 13.4: a key frame starts from the default probabilities.
	d.coeffProbs = defaultCoeffProbs
	for i := range d.coeffProbs {
		for j := range d.coeffProbs[i] {
			for k := range d.coeffProbs[i][j] {
				for t := range d.coeffProbs[i][j][k] {
					if br.readBool(coeffUpdateProbs[((i*8+j)*3+k)*11+t]) {
						d.coeffProbs[i][j][k][t] = uint8(br.readLiteral(8))
					}
				}
			}
		}
	}
	for t := range d.bandProbs {
		for i := range d.bandProbs[t] {
			d.bandProbs[t][i] = &d.coeffProbs[t][coeffBands[i]]
		}
	}

	d.skipEnabled = br.readFlag()
	d.skipProb = 0
	if d.skipEnabled {
		d.skipProb = uint8(br.readLiteral(8))
	}

	d.setupFilterLevels()
}

// setupFilterLevels derives the loop filter level of each segment and mode
// (RFC 6386 sections 9.3, 9.4 and 15.1): the frame level, replaced or moved
// by the segment's value, then moved by the intra-frame reference delta and,
// for B_PRED, by the first mode delta, clamped to [0, 63].
func (d *Decoder) setupFilterLevels() {
	for s := range d.lfLevel {
		lvl := d.filterLevel
		if d.segEnabled {
			if d.segAbs {
				lvl = d.segLF[s]
			} else {
				lvl += d.segLF[s]
			}
			lvl = clamp63(lvl)
		}
		if !d.lfDeltas {
			d.lfLevel[s] = [2]uint8{uint8(lvl), uint8(lvl)}
			continue
		}
		lvl += d.refDelta[0]
		d.lfLevel[s][0] = uint8(clamp63(lvl + d.modeDelta[0]))
		d.lfLevel[s][1] = uint8(clamp63(lvl))
	}
}

func clamp127(v int) int {
	if v < 0 {
		return 0
	}
	if v > 127 {
		return 127
	}
	return v
}

func clamp63(v int) int {
	if v < 0 {
		return 0
	}
	if v > 63 {
		return 63
	}
	return v
}

// makeDequant applies the index deltas of RFC 6386 section 9.6 and the
// factor rules of section 14.1 (the Y2 and chroma adjustments).
func makeDequant(q, ydc, y2dc, y2ac, uvdc, uvac int) dequant {
	var r dequant
	r.y1dc = dcQLookup[clamp127(q+ydc)]
	r.y1ac = acQLookup[q]
	r.y2dc = dcQLookup[clamp127(q+y2dc)] * 2
	r.y2ac = acQLookup[clamp127(q+y2ac)] * 155 / 100
	if r.y2ac < 8 {
		r.y2ac = 8
	}
	r.uvdc = dcQLookup[clamp127(q+uvdc)]
	if r.uvdc > 132 {
		r.uvdc = 132
	}
	r.uvac = acQLookup[clamp127(q+uvac)]
	return r
}

// initPartitions splits the token partitions (RFC 6386 section 9.5): three
// little-endian size bytes for each but the last, which takes the rest. An
// empty partition is refused, as the reference decoder refuses it.
func (d *Decoder) initPartitions(b []byte) error {
	n := d.nparts
	hdr := 3 * (n - 1)
	if len(b) < hdr {
		return errPart
	}
	sizes, rest := b[:hdr], b[hdr:]
	for i := 0; i < n-1; i++ {
		sz := int(sizes[3*i]) | int(sizes[3*i+1])<<8 | int(sizes[3*i+2])<<16
		if sz == 0 || sz > len(rest) {
			return errPart
		}
		d.parts[i].init(rest[:sz])
		rest = rest[sz:]
	}
	if len(rest) == 0 {
		return errPart
	}
	d.parts[n-1].init(rest)
	return nil
}

// setup sizes the planes for a w x h picture, allocating only when they
// outgrow what the decoder has (so frames alternating between two sizes
// leave no garbage), and paints the prediction borders.
func (d *Decoder) setup(w, h int) {
	mbw, mbh := (w+15)>>4, (h+15)>>4
	if mbw != d.mbw || mbh != d.mbh || d.ybuf == nil {
		d.mbw, d.mbh = mbw, mbh
		d.yStride = 16*mbw + borderLeft + borderRight
		d.cStride = 8*mbw + borderLeft + borderRight
		d.yOrig = d.yStride + borderLeft
		d.cOrig = d.cStride + borderLeft
		d.ybuf = resize(d.ybuf, d.yStride*(16*mbh+1))
		d.ubuf = resize(d.ubuf, d.cStride*(8*mbh+1))
		d.vbuf = resize(d.vbuf, d.cStride*(8*mbh+1))
		d.aboveNz = resize(d.aboveNz, 9*mbw)
		d.aboveBmode = resize(d.aboveBmode, 4*mbw)
		d.lfInfo = resize(d.lfInfo, 2*mbw)
	}
	paintBorder(d.ybuf, d.yStride, d.yOrig, 16*mbh)
	paintBorder(d.ubuf, d.cStride, d.cOrig, 8*mbh)
	paintBorder(d.vbuf, d.cStride, d.cOrig, 8*mbh)

	cw, ch := (w+1)>>1, (h+1)>>1
	d.img = image.YCbCr{
		Y:              d.ybuf[d.yOrig : d.yOrig+d.yStride*(h-1)+w],
		Cb:             d.ubuf[d.cOrig : d.cOrig+d.cStride*(ch-1)+cw],
		Cr:             d.vbuf[d.cOrig : d.cOrig+d.cStride*(ch-1)+cw],
		YStride:        d.yStride,
		CStride:        d.cStride,
		SubsampleRatio: image.YCbCrSubsampleRatio420,
		Rect:           image.Rect(0, 0, w, h),
	}
}

// paintBorder sets the row above the picture to 127 and the column left of
// it to 129 (RFC 6386 section 12.2), the values prediction sees outside the
// picture; the corner above-left belongs to the row.
func paintBorder(p []byte, stride, orig, rows int) {
	top := p[orig-stride-1 : orig-1]
	for i := range top {
		top[i] = 127
	}
	for y := 0; y < rows; y++ {
		p[orig+y*stride-1] = 129
	}
}

// resize returns b with length n, reusing its memory when it has the room.
// Every user of the planes and per-row arrays sets what it reads (the
// borders are painted, each macroblock row is reset), so old contents do
// not matter.
func resize[T any](b []T, n int) []T {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]T, n)
}
