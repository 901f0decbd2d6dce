package vp8

import (
	"errors"
	"sync"

	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
)

const (
	// DefaultMaxFrame bounds a frame when NewAssembler is given no limit.
	DefaultMaxFrame = rtp.MaxFrame

	// initialFrameCap is the first allocation of the frame buffer; it grows
	// by doubling up to the limit and is then reused.
	initialFrameCap = 64 << 10

	// maxStaleRun is how many old or duplicate packets in a row are ignored
	// before they are taken as the stream jumping backwards, after which
	// the assembler follows the new numbers.
	maxStaleRun = 64
)

// ErrNoHeader is returned by Push when it is given no RTP header.
var ErrNoHeader = errors.New("vp8: nil RTP header")

// Stats counts what an Assembler has done.
type Stats struct {
	Frames    uint64 // complete, decodable frames returned (keyframes included)
	Keyframes uint64 // keyframes returned
	Dropped   uint64 // frames discarded: incomplete, too large, corrupt, or undecodable for want of a keyframe
	TooLarge  uint64 // of the dropped frames, those larger than the limit
	Ignored   uint64 // duplicate or old packets ignored
	Malformed uint64 // packets whose payload descriptor did not parse
}

// Assembler rebuilds VP8 frames from the in-order RTP packets of one stream
// (RFC 7741 §4.5): a frame starts with the packet whose descriptor has S=1
// and PID=0, ends with the packet carrying the RTP marker bit, and all its
// packets share one RTP timestamp.
//
// Ordering is the caller's job (its reorder buffer); the assembler treats
// any sequence gap as loss. A lost packet, a timestamp change inside a frame
// or a frame over the size limit drops the incomplete frame and makes the
// assembler wait for a keyframe: until one completes, inter frames are
// dropped too, because a decoder cannot use them (see NeedKeyframe). It
// starts out waiting for a keyframe, since nothing before it was seen.
//
// An Assembler is not safe for concurrent use.
type Assembler struct {
	maxFrame int
	buf      []byte     // frame being assembled; returned to the caller, reused
	fb       *frameBuf  // the pooled buffer buf lives in, nil when none is held
	pool     *FramePool // where fb comes from

	started  bool   // ssrc and lastSeq are set
	ssrc     uint32 // stream being followed
	lastSeq  uint16 // last sequence number accepted
	staleRun int    // consecutive old or duplicate packets

	inFrame bool   // buf holds the head of a frame
	ts      uint32 // RTP timestamp of that frame
	// skipTS is the timestamp of a frame known to be broken (abandoned, or
	// its first packet lost): its remaining packets are discarded without
	// counting it again.
	skipTS   uint32
	skipping bool

	needKey bool
	stats   Stats
}

// NewAssembler returns an Assembler that drops frames larger than maxFrame
// bytes; maxFrame <= 0 means DefaultMaxFrame.
func NewAssembler(maxFrame int) *Assembler {
	return NewPooledAssembler(maxFrame, nil)
}

// NewPooledAssembler is NewAssembler taking its frame buffers from pool,
// shared with other assemblers (see Release); nil means a pool of its own.
func NewPooledAssembler(maxFrame int, pool *FramePool) *Assembler {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	if pool == nil {
		pool = new(FramePool)
	}
	return &Assembler{maxFrame: maxFrame, pool: pool, needKey: true}
}

// NeedKeyframe reports whether the assembler is waiting for a keyframe: from
// the start, and after any loss, until a complete keyframe has been
// returned. While it is true the receiver should ask for one (RTCP PLI).
func (a *Assembler) NeedKeyframe() bool { return a.needKey }

// Stats returns the counters.
func (a *Assembler) Stats() Stats { return a.stats }

// Push adds one RTP packet: h is its parsed header and payload the RTP
// payload with padding removed. When the packet completes a decodable frame,
// Push returns it and whether it is a keyframe; the frame lives in a buffer
// the assembler reuses, valid until the next call. Otherwise frame is nil.
// err reports a packet that could not be read (its frame is dropped); losses
// are not errors and show in NeedKeyframe and Stats. An empty payload (a
// padding-only packet) only advances the sequence number.
func (a *Assembler) Push(h *rtp.Header, payload []byte) (frame []byte, key bool, err error) {
	if h == nil {
		return nil, false, ErrNoHeader
	}
	if !a.accept(h) {
		return nil, false, nil
	}
	if len(payload) == 0 {
		// A packet that is all padding (RFC 3550 §5.1) carries no VP8 data
		// and no descriptor: senders without RTX, Chromium among them, pad
		// on the media SSRC to probe bandwidth. It only takes a sequence
		// number, which accept has consumed, so it is neither data nor loss.
		return nil, false, nil
	}

	var d Descriptor
	n, err := d.Unmarshal(payload)
	if err != nil {
		// The packet's data is lost to us, just as if it had not arrived.
		a.stats.Malformed++
		a.lose()
		return nil, false, err
	}

	if a.inFrame && h.Timestamp != a.ts {
		// The previous frame never saw its marker: incomplete.
		a.lose()
	}
	if d.Start && d.PartitionID == 0 {
		if a.inFrame {
			// A second first packet for one timestamp: the frame so far
			// cannot be trusted.
			a.lose()
		}
		if a.needKey && !isKeyTag(payload[n:]) && n < len(payload) {
			// An inter frame cannot be decoded without the keyframe we
			// wait for: skip it now rather than assemble it.
			a.skipping, a.skipTS = true, h.Timestamp
			a.stats.Dropped++
			return nil, false, nil
		}
		a.inFrame, a.ts, a.skipping = true, h.Timestamp, false
		if a.fb == nil {
			a.fb = a.pool.get()
			a.buf = a.fb.b
		}
		a.buf = a.buf[:0]
	} else if !a.inFrame {
		// The frame's first packet was lost (or the frame was abandoned).
		if !a.skipping || a.skipTS != h.Timestamp {
			a.skipping, a.skipTS = true, h.Timestamp
			a.stats.Dropped++
			a.needKey = true
		}
		return nil, false, nil
	}

	data := payload[n:]
	if len(data) > a.maxFrame-len(a.buf) {
		a.stats.TooLarge++
		a.lose()
		return nil, false, nil
	}
	a.grow(len(data))
	a.buf = append(a.buf, data...)
	if !h.Marker {
		return nil, false, nil
	}
	return a.complete()
}

// accept applies the sequence number of the next packet: it reports false
// for a duplicate or old packet, and treats a jump forward as loss.
func (a *Assembler) accept(h *rtp.Header) bool {
	if !a.started || h.SSRC != a.ssrc {
		// A new stream: nothing of the old one can be completed, and the
		// new one needs its own keyframe.
		if a.started {
			a.lose()
		}
		a.started, a.ssrc, a.lastSeq = true, h.SSRC, h.SequenceNumber-1
		a.needKey = true
	}
	d := int16(h.SequenceNumber - a.lastSeq)
	if d <= 0 {
		a.staleRun++
		if a.staleRun <= maxStaleRun {
			a.stats.Ignored++
			return false
		}
		// The sender's numbering moved back; follow it as after a loss.
		a.lose()
	} else if d > 1 {
		a.lose()
	}
	a.staleRun = 0
	a.lastSeq = h.SequenceNumber
	return true
}

// lose records that data was lost: a frame in progress is dropped and the
// stream cannot be decoded until the next keyframe.
func (a *Assembler) lose() {
	if a.inFrame {
		a.stats.Dropped++
		a.inFrame = false
		a.skipping, a.skipTS = true, a.ts
	}
	a.Release()
	a.needKey = true
}

// FramePool lends frame buffers to Assemblers. Frames of a stream are
// assembled in bursts (a frame's packets come together, then nothing until
// the next), so buffers shared by many assemblers between their frames take
// a fraction of the memory that one buffer per stream, sized for its
// keyframes, would. It is safe for concurrent use; the zero value is ready.
type FramePool struct{ p sync.Pool }

type frameBuf struct{ b []byte }

func (fp *FramePool) get() *frameBuf {
	if v := fp.p.Get(); v != nil {
		return v.(*frameBuf)
	}
	return new(frameBuf)
}

func (fp *FramePool) put(b *frameBuf) { fp.p.Put(b) }

// Release hands the frame buffer back to the pool when no frame is in
// progress: the frame Push returned last is no longer valid. An owner that
// never calls it keeps its buffer (it is reused for every frame).
func (a *Assembler) Release() {
	if a.inFrame || a.fb == nil {
		return
	}
	a.fb.b = a.buf[:0]
	a.pool.put(a.fb)
	a.fb, a.buf = nil, nil
}

// complete finishes the frame in buf on its marker packet.
func (a *Assembler) complete() ([]byte, bool, error) {
	a.inFrame = false
	frame := a.buf
	key := IsKeyframe(frame)
	switch {
	case key:
		a.needKey = false
		a.stats.Keyframes++
	case isKeyTag(frame):
		// Claims to be a keyframe but its header is broken.
		a.stats.Dropped++
		a.needKey = true
		return nil, false, nil
	case len(frame) < frameTagLen || a.needKey:
		a.stats.Dropped++
		return nil, false, nil
	}
	a.stats.Frames++
	return frame, key, nil
}

// grow makes room for n more bytes in buf, doubling its capacity but never
// past the frame limit (the caller has checked that n fits).
func (a *Assembler) grow(n int) {
	need := len(a.buf) + n
	if need <= cap(a.buf) {
		return
	}
	c := max(2*cap(a.buf), need, initialFrameCap)
	c = min(c, a.maxFrame)
	nb := make([]byte, len(a.buf), c)
	copy(nb, a.buf)
	a.buf = nb
	a.fb.b = nb
}
