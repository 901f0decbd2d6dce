package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// IVFWriter writes VP8 frames into an IVF file: a 32-byte file header, then
// for each frame a 12-byte header (size, timestamp) and the frame. The frame
// count in the header is patched on Close.
type IVFWriter struct {
	f       *os.File
	w       *bufio.Writer
	frames  uint32
	started bool
	base    uint32 // RTP timestamp of the first frame
	err     error
}

// IVF timebase: VP8 over RTP uses a 90 kHz clock (RFC 7741 §6.1), so
// timestamps are written in RTP units.
const ivfTimebase = 90000

// NewIVFWriter creates path; frames are written once the first keyframe
// gives the picture size.
func NewIVFWriter(path string) (*IVFWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &IVFWriter{f: f, w: bufio.NewWriter(f)}, nil
}

func (v *IVFWriter) header(width, height int) []byte {
	h := make([]byte, 32)
	copy(h, "DKIF")
	binary.LittleEndian.PutUint16(h[4:], 0)  // version
	binary.LittleEndian.PutUint16(h[6:], 32) // header length
	copy(h[8:], "VP80")
	binary.LittleEndian.PutUint16(h[12:], uint16(width))
	binary.LittleEndian.PutUint16(h[14:], uint16(height))
	binary.LittleEndian.PutUint32(h[16:], ivfTimebase) // rate
	binary.LittleEndian.PutUint32(h[20:], 1)           // scale
	binary.LittleEndian.PutUint32(h[24:], v.frames)
	return h
}

// WriteFrame appends one frame with its RTP timestamp. Frames before the
// first keyframe are skipped: a decoder cannot start from them.
func (v *IVFWriter) WriteFrame(rtpTS uint32, key bool, width, height int, frame []byte) error {
	if v.err != nil {
		return v.err
	}
	if !v.started {
		if !key || width <= 0 || height <= 0 {
			return nil
		}
		v.started, v.base = true, rtpTS
		_, v.err = v.w.Write(v.header(width, height))
	}
	var fh [12]byte
	binary.LittleEndian.PutUint32(fh[0:], uint32(len(frame)))
	binary.LittleEndian.PutUint64(fh[4:], uint64(rtpTS-v.base)) // wraps with the RTP clock (13 h)
	if v.err == nil {
		_, v.err = v.w.Write(fh[:])
	}
	if v.err == nil {
		_, v.err = v.w.Write(frame)
	}
	v.frames++
	return v.err
}

// Close flushes, patches the frame count and closes the file.
func (v *IVFWriter) Close() error {
	err := v.err
	if err == nil {
		err = v.w.Flush()
	}
	if err == nil && v.started {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], v.frames)
		_, err = v.f.WriteAt(n[:], 24)
	}
	if cerr := v.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// OggOpusWriter writes Opus packets into an Ogg file (RFC 7845): an OpusHead
// page, an OpusTags page, then one page per packet, the last marked
// end-of-stream on Close.
type OggOpusWriter struct {
	f       *os.File
	w       *bufio.Writer
	serial  uint32
	seq     uint32
	started bool
	base    uint32
	pending []byte // the latest packet, written when the next one (or Close) comes
	pendTS  uint32
	havePen bool
	err     error
}

// Opus in RTP runs at 48 kHz (RFC 7587 §4.1), the granule rate of Ogg Opus.
const opusPreSkip = 3840

// NewOggOpusWriter creates path.
func NewOggOpusWriter(path string, serial uint32) (*OggOpusWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &OggOpusWriter{f: f, w: bufio.NewWriter(f), serial: serial}, nil
}

func (o *OggOpusWriter) start() {
	head := make([]byte, 19)
	copy(head, "OpusHead")
	head[8] = 1 // version
	head[9] = 2 // channels, as negotiated (opus/48000/2)
	binary.LittleEndian.PutUint16(head[10:], opusPreSkip)
	binary.LittleEndian.PutUint32(head[12:], 48000)
	// output gain 0, mapping family 0
	o.page(head, 0, 0x02)
	const vendor = "rtcplug"
	tags := make([]byte, 0, 8+4+len(vendor)+4)
	tags = append(tags, "OpusTags"...)
	tags = binary.LittleEndian.AppendUint32(tags, uint32(len(vendor)))
	tags = append(tags, vendor...)
	tags = binary.LittleEndian.AppendUint32(tags, 0)
	o.page(tags, 0, 0)
}

// WritePacket appends one Opus packet with its RTP timestamp.
func (o *OggOpusWriter) WritePacket(rtpTS uint32, pkt []byte) error {
	if o.err != nil {
		return o.err
	}
	if len(pkt) == 0 || len(pkt) > 255*255 {
		return nil
	}
	if !o.started {
		o.started, o.base = true, rtpTS
		o.start()
	}
	if o.havePen {
		o.page(o.pending, o.granule(rtpTS), 0)
	}
	o.pending = append(o.pending[:0], pkt...)
	o.pendTS, o.havePen = rtpTS, true
	return o.err
}

// granule is the sample position at the end of the pending packet, taken
// as the start of the next one.
func (o *OggOpusWriter) granule(next uint32) uint64 {
	return uint64(next-o.base) + opusPreSkip
}

// Close writes the last packet with the end-of-stream flag and closes.
func (o *OggOpusWriter) Close() error {
	if o.havePen && o.err == nil {
		// One 20 ms frame past the last start: exact for the usual packetization.
		o.page(o.pending, o.granule(o.pendTS+960), 0x04)
	}
	err := o.err
	if err == nil {
		err = o.w.Flush()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// page writes one Ogg page holding one packet (RFC 3533 §6).
func (o *OggOpusWriter) page(packet []byte, granule uint64, flags byte) {
	if o.err != nil {
		return
	}
	nseg := len(packet)/255 + 1
	h := make([]byte, 27+nseg, 27+nseg+len(packet))
	copy(h, "OggS")
	h[5] = flags
	binary.LittleEndian.PutUint64(h[6:], granule)
	binary.LittleEndian.PutUint32(h[14:], o.serial)
	binary.LittleEndian.PutUint32(h[18:], o.seq)
	h[26] = byte(nseg)
	for i := 0; i < nseg-1; i++ {
		h[27+i] = 255
	}
	h[27+nseg-1] = byte(len(packet) % 255)
	pg := append(h, packet...)
	binary.LittleEndian.PutUint32(pg[22:], oggCRC(pg))
	o.seq++
	_, o.err = o.w.Write(pg)
}

// oggCRC is the CRC-32 of RFC 3533 §6: polynomial 0x04c11db7, not
// reflected, initial value 0, over the page with the CRC field zero.
func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, c := range b {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// Recorder writes one peer's media to <dir>/<conference>/<peer>/video.ivf
// and audio.ogg from its own goroutine, fed through a bounded queue that
// drops when full.
type Recorder struct {
	dir   string
	log   *slog.Logger
	queue chan recItem
	done  chan struct{}
	once  sync.Once

	dropped atomic.Uint64
	queued  atomic.Int64 // bytes of media waiting in queue
}

// Bounds of the media waiting to be written: items, and bytes (frames are
// up to 4 MiB each, so the item bound alone would allow gigabytes).
const (
	RecorderQueue = 512
	RecorderBytes = 32 << 20
)

type recItem struct {
	audio         bool
	ts            uint32
	key           bool
	width, height int
	data          []byte
}

// NewRecorder creates the peer's directory and starts the writer. Files are
// created on the first item of each kind.
func NewRecorder(root, conference, peer string, log *slog.Logger) (*Recorder, error) {
	conf, p := SafeName(conference), SafeName(peer)
	if conf == "" || p == "" {
		return nil, errors.New("media: empty path component")
	}
	dir := filepath.Join(root, conf, p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := newRecorder(dir, log)
	go r.run()
	return r, nil
}

func newRecorder(dir string, log *slog.Logger) *Recorder {
	return &Recorder{dir: dir, log: log, queue: make(chan recItem, RecorderQueue), done: make(chan struct{})}
}

// Video queues a frame (copied).
func (r *Recorder) Video(ts uint32, key bool, width, height int, frame []byte) {
	r.put(recItem{ts: ts, key: key, width: width, height: height, data: append([]byte(nil), frame...)})
}

// Audio queues an Opus packet (copied).
func (r *Recorder) Audio(ts uint32, pkt []byte) {
	r.put(recItem{audio: true, ts: ts, data: append([]byte(nil), pkt...)})
}

func (r *Recorder) put(it recItem) {
	n := int64(len(it.data))
	if r.queued.Add(n) > RecorderBytes {
		r.queued.Add(-n)
		r.dropped.Add(1)
		return
	}
	select {
	case r.queue <- it:
	default:
		r.queued.Add(-n)
		r.dropped.Add(1)
	}
}

// Close writes what is queued, closes the files and waits. Video and Audio
// must not be called after Close.
func (r *Recorder) Close() {
	r.once.Do(func() { close(r.queue) })
	<-r.done
}

// Dropped counts items lost to a full queue.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

func (r *Recorder) run() {
	defer close(r.done)
	var (
		ivf *IVFWriter
		ogg *OggOpusWriter
		err error
	)
	failed := false
	for it := range r.queue {
		r.queued.Add(-int64(len(it.data)))
		if failed {
			continue
		}
		if it.audio {
			if ogg == nil {
				if ogg, err = NewOggOpusWriter(filepath.Join(r.dir, "audio.ogg"), serialOf(r.dir)); err != nil {
					r.log.Warn("recording not started", "err", err)
					failed = true
					continue
				}
			}
			err = ogg.WritePacket(it.ts, it.data)
		} else {
			if ivf == nil {
				if ivf, err = NewIVFWriter(filepath.Join(r.dir, "video.ivf")); err != nil {
					r.log.Warn("recording not started", "err", err)
					failed = true
					continue
				}
			}
			err = ivf.WriteFrame(it.ts, it.key, it.width, it.height, it.data)
		}
		if err != nil {
			r.log.Warn("recording stopped", "err", err)
			failed = true
		}
	}
	if ivf != nil {
		if err := ivf.Close(); err != nil {
			r.log.Warn("video recording", "err", err)
		}
	}
	if ogg != nil {
		if err := ogg.Close(); err != nil {
			r.log.Warn("audio recording", "err", err)
		}
	}
	if ivf != nil || ogg != nil {
		r.log.Info("recording written", "dir", r.dir, "dropped", r.dropped.Load())
	}
}

// serialOf derives an Ogg stream serial number from the path (any value
// unique within the file will do).
func serialOf(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
