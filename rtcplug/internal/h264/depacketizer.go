package h264

import (
	"errors"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

// Bounds on what one stream can make the depacketizer hold.
const (
	// DefaultMaxFrame bounds an access unit when New is given no limit.
	DefaultMaxFrame = rtp.MaxFrame
	// MaxNALs bounds the NAL units of one access unit. An encoder writes a
	// few per picture (delimiter, parameter sets, SEI, one per slice); a
	// picture cut into more than a few hundred slices is not a camera's.
	MaxNALs = 512
	// MaxParamSet bounds one SPS or PPS. Real ones are tens of bytes; VUI
	// and scaling lists can bring an SPS to a few hundred.
	MaxParamSet = 512

	// initialFrameCap is the first allocation of a frame buffer; it grows by
	// doubling up to the limit and is then reused.
	initialFrameCap = 64 << 10
	// maxStaleRun is how many old or duplicate packets in a row are ignored
	// before they are taken as the stream jumping backwards.
	maxStaleRun = 64
)

// Errors Push returns for packets it cannot use (their access unit is
// dropped). Losses are not errors.
var (
	ErrNoHeader    = errors.New("h264: nil RTP header")
	ErrMalformed   = errors.New("h264: malformed RTP payload")
	ErrUnsupported = errors.New("h264: STAP-B, MTAP and FU-B need the interleaved mode, which was not negotiated")
)

// Stats counts what a Depacketizer has done.
type Stats struct {
	Frames    uint64 // complete, decodable access units returned (keyframes included)
	Keyframes uint64 // IDR access units returned, with their parameter sets
	Dropped   uint64 // access units discarded: incomplete, too large, corrupt, or undecodable for want of a keyframe
	TooLarge  uint64 // of the dropped, those over the frame or NAL-count limit
	NoParams  uint64 // of the dropped, IDR access units without a known SPS and PPS
	Ignored   uint64 // duplicate or old packets ignored
	Malformed uint64 // packets whose payload did not parse
	// Unsupported counts packets of the interleaved mode (STAP-B, MTAP16,
	// MTAP24, FU-B), refused: mode 2 is never negotiated (RFC 6184 §6.2).
	Unsupported uint64
	// ParamSets counts SPS and PPS taken in, in-band or out of band.
	ParamSets uint64
}

// paramSet is one stored SPS or PPS, in a fixed array so that a new one
// never allocates.
type paramSet struct {
	n int
	b [MaxParamSet]byte
}

func (p *paramSet) set(nal []byte) bool {
	if len(nal) > MaxParamSet || len(nal) < 2 {
		return false
	}
	p.n = copy(p.b[:], nal)
	return true
}

func (p *paramSet) bytes() []byte { return p.b[:p.n] }

// Depacketizer rebuilds the access units of one H.264 RTP stream
// (RFC 6184, packetization modes 0 and 1) from its packets in sequence
// order. An access unit is the packets sharing one RTP timestamp, the last
// of which carries the marker bit (§5.1). It is returned in Annex B form:
// every NAL unit behind a four-byte start code.
//
// Ordering is the caller's job (its reorder buffer); any sequence gap is
// taken as loss. Loss inside an access unit, a fragment without its start,
// an unusable packet or an access unit over the limits drops the access unit
// and makes the depacketizer wait for a keyframe: until an IDR access unit
// completes, others are dropped too, since a decoder cannot use them (see
// NeedKeyframe). It starts out waiting for a keyframe.
//
// The latest SPS and PPS seen, in-band or through SetParameterSets, are
// kept; an IDR access unit that lacks either gets both put in front, so that
// every keyframe returned can be decoded on its own.
//
// A Depacketizer is not safe for concurrent use.
type Depacketizer struct {
	maxFrame int
	buf      []byte // access unit being assembled, Annex B
	out      []byte // a keyframe with parameter sets put in front
	nals     int    // NAL units in buf
	nalStart int    // offset in buf of the last NAL unit begun

	started  bool
	ssrc     uint32
	lastSeq  uint16
	staleRun int

	inAU    bool   // buf holds the head of an access unit
	gap     bool   // packets were lost (or never seen) before the next access unit
	ts      uint32 // its RTP timestamp
	broken  bool   // the access unit with timestamp ts is being discarded
	inFU    bool   // a FU-A NAL unit is open at the end of buf
	hasIDR  bool   // the access unit has an IDR slice
	hasSPS  bool
	hasPPS  bool
	needKey bool

	sps, pps paramSet
	stats    Stats
}

// New returns a Depacketizer that drops access units larger than maxFrame
// bytes; maxFrame <= 0 means DefaultMaxFrame.
func New(maxFrame int) *Depacketizer {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	return &Depacketizer{maxFrame: maxFrame, needKey: true, gap: true}
}

// NeedKeyframe reports whether the depacketizer waits for a keyframe: from
// the start, and after any loss, until an IDR access unit has been returned.
// While it is true the receiver should ask for one (RTCP PLI or FIR).
func (d *Depacketizer) NeedKeyframe() bool { return d.needKey }

// Stats returns the counters.
func (d *Depacketizer) Stats() Stats { return d.stats }

// SetParameterSets takes SPS and PPS NAL units given out of band, e.g. from
// the sprop-parameter-sets of the sender's SDP (RFC 6184 §8.1). NAL units of
// other types are ignored; an SPS or PPS over MaxParamSet is an error.
func (d *Depacketizer) SetParameterSets(nals [][]byte) error {
	for _, n := range nals {
		if len(n) == 0 {
			continue
		}
		switch NALType(n[0]) {
		case NALSPS, NALPPS:
			if !d.keepParamSet(n) {
				return ErrMalformed
			}
		}
	}
	return nil
}

// HasParameterSets reports whether an SPS and a PPS are known.
func (d *Depacketizer) HasParameterSets() bool { return d.sps.n > 0 && d.pps.n > 0 }

func (d *Depacketizer) keepParamSet(nal []byte) bool {
	ok := false
	switch NALType(nal[0]) {
	case NALSPS:
		ok = d.sps.set(nal)
	case NALPPS:
		ok = d.pps.set(nal)
	}
	if ok {
		d.stats.ParamSets++
	}
	return ok
}

// Push adds one RTP packet: h is its parsed header and payload the RTP
// payload with padding removed. When the packet completes a decodable
// access unit, Push returns it in Annex B form and whether it is a keyframe
// (an IDR picture with its SPS and PPS); the frame lives in a buffer the
// depacketizer reuses, valid until the next call. Otherwise frame is nil.
// err reports a packet that could not be used (its access unit is dropped).
// An empty payload (padding only) only advances the sequence number.
func (d *Depacketizer) Push(h *rtp.Header, payload []byte) (frame []byte, key bool, err error) {
	if h == nil {
		return nil, false, ErrNoHeader
	}
	if !d.accept(h) {
		return nil, false, nil
	}
	if len(payload) == 0 {
		// All padding (RFC 3550 §5.1): a sequence number, neither data nor loss.
		return nil, false, nil
	}

	if d.inAU && h.Timestamp != d.ts {
		if d.inFU {
			// The open fragment never ended: the access unit is incomplete.
			d.lose()
		} else {
			// Nothing was lost, only the marker bit is missing: the access unit
			// ended with the previous packet (RFC 6184 §5.1: a new timestamp
			// starts a new one). It is returned unless this packet completes
			// the next one at once, in which case it is dropped (one frame out
			// per packet; a sender that omits the marker is already broken).
			if !h.Marker {
				frame, key = d.complete()
				if len(frame) > 0 && len(d.buf) > 0 && &frame[0] == &d.buf[0] {
					// The frame is buf itself, which this packet's access unit
					// reuses at once: hand it out of the other buffer.
					d.buf, d.out = d.out, d.buf
				}
			} else {
				d.lose()
			}
		}
	}
	if d.broken && h.Timestamp == d.ts {
		// The rest of an access unit already known to be lost.
		return frame, key, nil
	}
	if !d.inAU {
		d.inAU, d.broken, d.ts = true, false, h.Timestamp
		d.buf, d.nals = d.buf[:0], 0
		d.hasIDR, d.hasSPS, d.hasPPS, d.inFU = false, false, false, false
		if d.gap && !startsAU(payload) {
			// Packets were lost just before this one, and it does not open an
			// access unit: the lost ones held this access unit's beginning.
			d.gap = false
			d.lose()
			return frame, key, nil
		}
		d.gap = false
	}
	if perr := d.payload(payload); perr != nil {
		d.lose()
		if perr == errTooLarge {
			perr = nil // counted in Stats; the packet itself was fine
		}
		return frame, key, perr
	}
	if !h.Marker {
		return frame, key, nil
	}
	if d.inFU {
		// A marker on a fragment that did not end it (RFC 6184 §5.8: the
		// marker goes on the last fragment).
		d.stats.Malformed++
		d.lose()
		return frame, key, ErrMalformed
	}
	f, k := d.complete()
	return f, k, nil
}

// payload parses one RTP payload into buf (RFC 6184 §5.2).
func (d *Depacketizer) payload(p []byte) error {
	t := NALType(p[0])
	if d.inFU && t != TypeFUA {
		// A fragmented NAL unit must be followed by its own next fragment.
		d.stats.Malformed++
		return ErrMalformed
	}
	switch {
	case t >= 1 && t <= 23:
		// Single NAL unit packet (§5.6): the payload is the NAL unit.
		return d.nal(p)
	case t == TypeSTAPA:
		return d.stapA(p)
	case t == TypeFUA:
		return d.fuA(p)
	case t == TypeSTAPB || t == TypeMTAP16 || t == TypeMTAP24 || t == TypeFUB:
		d.stats.Unsupported++
		return ErrUnsupported
	default:
		// Types 0, 30 and 31 are undefined (§5.2): a receiver ignores them,
		// and they carry nothing of the picture.
		return nil
	}
}

// stapA unpacks a single-time aggregation packet (§5.7.1): after the STAP-A
// NAL header, NAL units each behind a 16-bit size. The packet is checked
// whole before anything is written, so a bad one leaves nothing behind.
func (d *Depacketizer) stapA(p []byte) error {
	n := 0
	for rest := p[1:]; len(rest) > 0; n++ {
		if len(rest) < 2 {
			d.stats.Malformed++
			return ErrMalformed
		}
		size := int(rest[0])<<8 | int(rest[1])
		if size == 0 || size > len(rest)-2 {
			d.stats.Malformed++
			return ErrMalformed
		}
		rest = rest[2+size:]
	}
	if n == 0 {
		d.stats.Malformed++
		return ErrMalformed
	}
	for rest := p[1:]; len(rest) > 0; {
		size := int(rest[0])<<8 | int(rest[1])
		if err := d.nal(rest[2 : 2+size]); err != nil {
			return err
		}
		rest = rest[2+size:]
	}
	return nil
}

// fuA adds one fragmentation unit (§5.8): FU indicator (F, NRI, type 28),
// FU header (S, E, R, the NAL type), then a piece of the NAL unit. The NAL
// header is rebuilt from the indicator's F and NRI and the header's type.
func (d *Depacketizer) fuA(p []byte) error {
	if len(p) < 2 {
		// §5.8: the FU payload may be empty, the two header bytes may not.
		d.stats.Malformed++
		return ErrMalformed
	}
	ind, hdr, data := p[0], p[1], p[2:]
	start, end := hdr&0x80 != 0, hdr&0x40 != 0
	if start && end {
		// §5.8: Start and End must not both be set in one FU header.
		d.stats.Malformed++
		return ErrMalformed
	}
	if start {
		if d.inFU {
			d.stats.Malformed++
			return ErrMalformed
		}
		nalHdr := ind&0xe0 | hdr&0x1f
		if err := d.beginNAL(nalHdr, len(data)); err != nil {
			return err
		}
		d.buf = append(d.buf, nalHdr)
		d.buf = append(d.buf, data...)
		d.inFU = true
		return nil
	}
	if !d.inFU {
		// A middle or last fragment whose start we never saw.
		d.stats.Malformed++
		return ErrMalformed
	}
	if !d.fits(len(data)) {
		return d.tooLarge()
	}
	d.buf = append(d.buf, data...)
	if end {
		d.inFU = false
		return d.endNAL()
	}
	return nil
}

// nal appends one whole NAL unit.
func (d *Depacketizer) nal(n []byte) error {
	if err := d.beginNAL(n[0], len(n)-1); err != nil {
		return err
	}
	d.buf = append(d.buf, n...)
	return d.endNAL()
}

// beginNAL writes the start code of a NAL unit with header byte hdr and
// rest more bytes to come, after checking the limits.
func (d *Depacketizer) beginNAL(hdr byte, rest int) error {
	if hdr&0x80 != 0 {
		// forbidden_zero_bit (H.264 §7.4.1; RFC 6184 §5.3: F=1 may mean a
		// bit error or syntax violation): the NAL unit cannot be trusted.
		d.stats.Malformed++
		return ErrMalformed
	}
	if d.nals >= MaxNALs || !d.fits(4+1+rest) {
		return d.tooLarge()
	}
	d.nals++
	d.buf = append(d.buf, 0, 0, 0, 1)
	d.nalStart = len(d.buf)
	return nil
}

// endNAL notes what the NAL unit just completed at the end of buf means for
// the access unit: parameter sets are kept for later keyframes.
func (d *Depacketizer) endNAL() error {
	n := d.buf[d.nalStart:]
	switch NALType(n[0]) {
	case NALIDR:
		d.hasIDR = true
	case NALSPS:
		if !d.keepParamSet(n) {
			d.stats.Malformed++
			return ErrMalformed
		}
		d.hasSPS = true
	case NALPPS:
		if !d.keepParamSet(n) {
			d.stats.Malformed++
			return ErrMalformed
		}
		d.hasPPS = true
	}
	return nil
}

func (d *Depacketizer) fits(n int) bool { return n <= d.maxFrame-len(d.buf) && d.grow(n) }

func (d *Depacketizer) tooLarge() error {
	d.stats.TooLarge++
	return errTooLarge
}

// errTooLarge is not returned to the caller: a big access unit is a drop
// counted in Stats, not a malformed packet.
var errTooLarge = errors.New("h264: access unit over the limit")

// accept applies the sequence number of the next packet: false for a
// duplicate or old packet; a jump forward is loss.
func (d *Depacketizer) accept(h *rtp.Header) bool {
	if !d.started || h.SSRC != d.ssrc {
		if d.started {
			d.lose()
		}
		d.started, d.ssrc, d.lastSeq = true, h.SSRC, h.SequenceNumber-1
		d.needKey = true
		d.gap = true // the stream may have started before its first packet here
	}
	delta := int16(h.SequenceNumber - d.lastSeq)
	if delta <= 0 {
		d.staleRun++
		if d.staleRun <= maxStaleRun {
			d.stats.Ignored++
			return false
		}
		d.lose()
		d.gap = true
	} else if delta > 1 {
		d.lose()
		d.gap = true
	}
	d.staleRun = 0
	d.lastSeq = h.SequenceNumber
	return true
}

// lose records that data was lost: the access unit in progress is dropped
// (its remaining packets are skipped) and the stream needs a keyframe.
func (d *Depacketizer) lose() {
	if d.inAU {
		if !d.broken {
			d.stats.Dropped++
		}
		d.broken = true
	}
	d.inAU, d.inFU = false, false
	d.buf, d.nals = d.buf[:0], 0
	d.needKey = true
}

// complete finishes the access unit in buf.
func (d *Depacketizer) complete() ([]byte, bool) {
	d.inAU = false
	if d.nals == 0 {
		// Only undefined NAL types, or nothing: not a picture.
		return nil, false
	}
	if !d.hasIDR {
		if d.needKey {
			d.stats.Dropped++
			return nil, false
		}
		d.stats.Frames++
		return d.buf, false
	}
	if !d.HasParameterSets() {
		d.stats.Dropped++
		d.stats.NoParams++
		d.needKey = true
		return nil, false
	}
	frame := d.buf
	if !d.hasSPS || !d.hasPPS {
		// H.264 §7.4.1.2.3: parameter sets may precede the first slice of an
		// access unit, so putting the latest ones in front keeps it valid.
		need := 8 + d.sps.n + d.pps.n + len(d.buf)
		if cap(d.out) < need {
			d.out = make([]byte, 0, max(need, initialFrameCap))
		}
		d.out = append(d.out[:0], 0, 0, 0, 1)
		d.out = append(d.out, d.sps.bytes()...)
		d.out = append(d.out, 0, 0, 0, 1)
		d.out = append(d.out, d.pps.bytes()...)
		d.out = append(d.out, d.buf...)
		frame = d.out
	}
	d.needKey = false
	d.stats.Frames++
	d.stats.Keyframes++
	return frame, true
}

// grow makes room for n more bytes in buf, doubling its capacity but never
// past the frame limit (the caller has checked that n fits).
func (d *Depacketizer) grow(n int) bool {
	need := len(d.buf) + n
	if need <= cap(d.buf) {
		return true
	}
	c := min(max(2*cap(d.buf), need, initialFrameCap), d.maxFrame)
	nb := make([]byte, len(d.buf), c)
	copy(nb, d.buf)
	d.buf = nb
	return true
}

// startsAU reports whether an RTP payload certainly begins an access unit
// (H.264 §7.4.1.2.3): its first NAL unit is an access unit delimiter, a
// parameter set or SEI, or the first slice of a picture (first_mb_in_slice
// 0, whose ue(v) code is the single bit 1).
func startsAU(p []byte) bool {
	t := NALType(p[0])
	switch {
	case t >= 1 && t <= 23:
		return nalStartsAU(t, p[1:])
	case t == TypeSTAPA:
		if len(p) < 4 {
			return false
		}
		size := int(p[1])<<8 | int(p[2])
		if size < 1 || size > len(p)-3 {
			return false
		}
		return nalStartsAU(NALType(p[3]), p[4:3+size])
	case t == TypeFUA:
		if len(p) < 2 || p[1]&0x80 == 0 {
			return false
		}
		return nalStartsAU(NALType(p[1]), p[2:])
	}
	return false
}

func nalStartsAU(t uint8, rest []byte) bool {
	switch t {
	case NALSEI, NALSPS, NALPPS, NALAUD:
		return true
	case NALSlice, NALIDR:
		return len(rest) > 0 && rest[0]&0x80 != 0
	}
	return false
}
