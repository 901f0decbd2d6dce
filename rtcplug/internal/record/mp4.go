package record

import (
	"bytes"
	"os"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
)

// Fragmented MP4 layout (ISO/IEC 14496-12 §8.8): ftyp and moov (an avc1
// video track whose avcC comes from the first keyframe's SPS and PPS, and an
// Opus track, "Encapsulation of Opus in ISO Base Media File Format" §4),
// then one moof+mdat fragment after another, each written with one write.
// A fragment starts at every video keyframe and at least every fragmentSpan,
// so a file cut short by a crash or kill -9 plays up to its last complete
// fragment.

// Track ids and time scales: 90 kHz video as RTP carries it (RFC 6184
// §5.1), 48 kHz Opus (RFC 7587 §4.1).
const (
	mp4Video     = 1
	mp4Audio     = 2
	videoScale   = 90000
	audioScale   = 48000
	fragmentSpan = time.Second
)

type mp4Writer struct {
	f       *os.File
	written int64
	cfg     *avcConfig
	audioOn bool

	seq          uint32
	open         bool
	fragAt       time.Duration
	vs, as       []mp4.FullSample // complete samples of the open fragment
	pendV, pendA *mp4.FullSample  // the last sample per track: its duration comes with the next
	pending      int64
	lastVDur     uint32
}

func newMP4(f *os.File, cfg *avcConfig, audio bool) (*mp4Writer, error) {
	init := mp4.NewMP4Init()
	init.AddChild(mp4.NewFtyp("isom", 0x200, []string{"isom", "iso6", "avc1", "mp41"}))
	moov := mp4.NewMoovBox()
	init.AddChild(moov)
	moov.AddChild(mp4.CreateMvhd())
	moov.AddChild(mp4.NewMvexBox())
	vt := init.AddEmptyTrack(videoScale, "video", "und")
	if err := vt.SetAVCDescriptor("avc1", [][]byte{cfg.sps}, [][]byte{cfg.pps}, true); err != nil {
		return nil, err
	}
	if audio {
		at := init.AddEmptyTrack(audioScale, "audio", "und")
		dops := &mp4.DopsBox{OutputChannelCount: 2, InputSampleRate: 48000}
		at.Mdia.Minf.Stbl.Stsd.AddChild(mp4.CreateAudioSampleEntryBox("Opus", 2, 16, 48000, dops))
	}
	var buf bytes.Buffer
	if err := init.Encode(&buf); err != nil {
		return nil, err
	}
	w := &mp4Writer{f: f, cfg: cfg, audioOn: audio, seq: 1}
	n, err := f.Write(buf.Bytes())
	w.written += int64(n)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func ticks(t time.Duration, scale int64) uint64 {
	return uint64((int64(t)*scale + int64(time.Second)/2) / int64(time.Second))
}

func (w *mp4Writer) video(t time.Duration, key bool, au []byte) error {
	data, err := toAVCC(nil, au)
	if err != nil {
		return nil // nothing decodable in it: the frame is lost, like any other
	}
	dts := ticks(t, videoScale)
	if w.pendV != nil {
		w.pendV.Dur = uint32(max(1, int64(dts)-int64(w.pendV.DecodeTime)))
		w.lastVDur = w.pendV.Dur
		w.vs = append(w.vs, *w.pendV)
	}
	if err := w.maybeFlush(t, key); err != nil {
		return err
	}
	flags := mp4.NonSyncSampleFlags
	if key {
		flags = mp4.SyncSampleFlags
	}
	w.pendV = &mp4.FullSample{Sample: mp4.Sample{Flags: flags, Size: uint32(len(data))}, DecodeTime: dts, Data: data}
	w.pending += int64(len(data)) + 16
	return nil
}

func (w *mp4Writer) audio(t time.Duration, data []byte) error {
	if !w.audioOn {
		return nil
	}
	dts := ticks(t, audioScale)
	if w.pendA != nil {
		w.pendA.Dur = uint32(max(1, int64(dts)-int64(w.pendA.DecodeTime)))
		w.as = append(w.as, *w.pendA)
	}
	if err := w.maybeFlush(t, false); err != nil {
		return err
	}
	w.pendA = &mp4.FullSample{Sample: mp4.Sample{Flags: mp4.SyncSampleFlags, Size: uint32(len(data))}, DecodeTime: dts, Data: data}
	w.pending += int64(len(data)) + 16
	return nil
}

// maybeFlush ends the open fragment before a keyframe or once it spans
// fragmentSpan; the sample at t then opens the next one.
func (w *mp4Writer) maybeFlush(t time.Duration, key bool) error {
	if w.open && (key || t-w.fragAt >= fragmentSpan) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if !w.open {
		w.open, w.fragAt = true, t
	}
	return nil
}

// flush writes the complete samples as one moof+mdat with one write.
func (w *mp4Writer) flush() error {
	w.open = false
	if len(w.vs) == 0 && len(w.as) == 0 {
		return nil
	}
	var ids []uint32
	if len(w.vs) > 0 {
		ids = append(ids, mp4Video)
	}
	if len(w.as) > 0 {
		ids = append(ids, mp4Audio)
	}
	frag, err := mp4.CreateMultiTrackFragment(w.seq, ids)
	if err != nil {
		return err
	}
	w.seq++
	for _, s := range w.vs {
		if err := frag.AddFullSampleToTrack(s, mp4Video); err != nil {
			return err
		}
	}
	for _, s := range w.as {
		if err := frag.AddFullSampleToTrack(s, mp4Audio); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	buf.Grow(int(frag.Size()))
	if err := frag.Encode(&buf); err != nil {
		return err
	}
	clear(w.vs)
	clear(w.as)
	w.vs, w.as = w.vs[:0], w.as[:0]
	w.pending = 0
	if w.pendV != nil {
		w.pending += int64(len(w.pendV.Data)) + 16
	}
	if w.pendA != nil {
		w.pending += int64(len(w.pendA.Data)) + 16
	}
	n, err := w.f.Write(buf.Bytes())
	w.written += int64(n)
	return err
}

func (w *mp4Writer) size() int64 { return w.written + w.pending + 512 }

func (w *mp4Writer) continues(codec string, key []byte) bool {
	return codec == H264 && w.cfg.sameParams(key)
}

// close gives the last samples their durations (the last frame interval;
// the Opus packet's own), writes them and closes the file.
func (w *mp4Writer) close() error {
	if w.pendV != nil {
		w.pendV.Dur = w.lastVDur
		if w.pendV.Dur == 0 {
			w.pendV.Dur = videoScale / 30
		}
		w.vs = append(w.vs, *w.pendV)
		w.pendV = nil
	}
	if w.pendA != nil {
		w.pendA.Dur = uint32(ticks(opusDuration(w.pendA.Data), audioScale))
		w.as = append(w.as, *w.pendA)
		w.pendA = nil
	}
	err := w.flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
