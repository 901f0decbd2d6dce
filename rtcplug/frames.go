package rtcplug

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
)

// Frame is one assembled video frame of a peer (see OnFrame).
type Frame struct {
	Conference, Peer string
	Identity         string // what WithAuthorize returned for the peer
	Codec            string // "VP8", "H264"
	Keyframe         bool
	RTPTime          uint32    // RTP timestamp (90 kHz)
	Time             time.Time // capture time from the sender's RTCP SR when known, else arrival
	// Data is the encoded frame (H.264 in Annex B). It is valid only during
	// the call: copy what you keep.
	Data []byte
}

// AudioPacket is one Opus packet of a peer (see OnAudio).
type AudioPacket struct {
	Conference, Peer string
	Identity         string
	RTPTime          uint32 // RTP timestamp (48 kHz)
	Time             time.Time
	Data             []byte // valid only during the call
}

// Bounds of the OnFrame / OnAudio queue of one peer: beyond either, the
// newest item is dropped (and counted) instead of stalling the peer.
const (
	queueItems = 256
	queueBytes = 16 << 20
)

// hostOptions are the options of the host-facing API (embedded in config).
type hostOptions struct {
	onFrame          func(Frame)
	onAudio          func(AudioPacket)
	snapshotInterval time.Duration
	// now is the plugin's clock for certificates and the host-facing
	// timestamps; tests replace it.
	now func() time.Time
}

func (o *hostOptions) clock() time.Time {
	if o.now == nil {
		return time.Now()
	}
	return o.now()
}

// OnFrame is called with every assembled video frame of every peer, in
// order per peer (from its first keyframe), from a goroutine of that peer's
// own: a slow callback never stalls the packets. When it falls behind
// (256 frames or 16 MiB waiting), frames are dropped and counted
// (PeerInfo.DroppedCallbacks, Stats.DroppedFrames).
func OnFrame(fn func(Frame)) Option {
	return func(c *config) error {
		c.onFrame = fn
		return nil
	}
}

// OnAudio is called with every Opus packet of every peer, in sequence order
// per peer, like OnFrame (drops counted in Stats.DroppedAudio).
func OnAudio(fn func(AudioPacket)) Option {
	return func(c *config) error {
		c.onAudio = fn
		return nil
	}
}

// WithSnapshotInterval asks each peer for a keyframe (an RTCP PLI) at most
// this often, so images keep coming from senders that send keyframes only on
// request (Chromium sends them at start and after loss). Default 0: only on
// start and loss. A keyframe costs bandwidth; a few seconds is plenty for
// previews. Intervals below 100ms are refused.
func WithSnapshotInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("rtcplug: negative snapshot interval")
		}
		if d > 0 && d < 100*time.Millisecond {
			return errors.New("rtcplug: snapshot interval below 100ms")
		}
		c.snapshotInterval = d
		return nil
	}
}

// eventTime is the Time of a Frame or AudioPacket made from ev: the capture
// time on the peer's timeline (RTCP sender reports, RFC 3550 §6.4.1, else the
// arrival of the source's first packet plus its RTP clock); the plugin's
// clock only if the peer gave none.
func (h *peerHandle) eventTime(ev peer.Event) time.Time {
	if !ev.Time.IsZero() {
		return ev.Time
	}
	return h.p.cfg.clock()
}

// eventCodec is the codec of a frame event ("VP8" or "H264"; the peer's
// names are the public ones).
func eventCodec(ev peer.Event) string { return ev.Codec }

// item is one queued callback argument with its pooled copy of the data.
type item[T any] struct {
	v   T
	buf *[]byte
}

// queue runs one callback for one peer on its own goroutine, in order, with
// bounded memory; see queueItems and queueBytes.
type queue[T any] struct {
	ch      chan item[T]
	bytes   atomic.Int64
	dropped [2]*atomic.Uint64 // the peer's and the plugin's counter
	done    chan struct{}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func newQueue[T any](fn func(T), setData func(*T, []byte), peerDrops, pluginDrops *atomic.Uint64) *queue[T] {
	q := &queue[T]{ch: make(chan item[T], queueItems), dropped: [2]*atomic.Uint64{peerDrops, pluginDrops},
		done: make(chan struct{})}
	go func() {
		defer close(q.done)
		for it := range q.ch {
			setData(&it.v, *it.buf)
			fn(it.v)
			q.bytes.Add(-int64(cap(*it.buf)))
			if cap(*it.buf) <= 64<<10 {
				*it.buf = (*it.buf)[:0]
				bufPool.Put(it.buf)
			}
		}
	}()
	return q
}

// put queues v with a copy of data, or drops it when the queue is full. It
// runs on the peer's goroutine and never blocks.
func (q *queue[T]) put(v T, data []byte) {
	if len(q.ch) == cap(q.ch) || q.bytes.Load()+int64(len(data)) > queueBytes {
		q.dropped[0].Add(1)
		q.dropped[1].Add(1)
		return
	}
	buf := bufPool.Get().(*[]byte)
	*buf = append((*buf)[:0], data...)
	q.bytes.Add(int64(cap(*buf)))
	q.ch <- item[T]{v: v, buf: buf} // one producer and a free slot: never blocks
}

// close lets the goroutine deliver what is queued and end; wait waits for it.
func (q *queue[T]) close() { close(q.ch) }
func (q *queue[T]) wait()  { <-q.done }
