package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// WebM layout (Matroska, RFC 9559, restricted to the WebM subset): the EBML
// header, a Segment of unknown size (so the file is valid however far it got
// written) holding a reserved Void, Info and Tracks, then one Cluster after
// another, each written whole with one write. Close appends Cues (a cue
// point per cluster that starts at a keyframe, so players can seek), turns
// the Void into a SeekHead that points at them (RFC 9559 §6.2), and fills
// in Info's Duration. A file cut short keeps the Void and plays without
// seeking.
//
// ebml-go also offers a block writer (webm.NewSimpleBlockWriter); it runs
// goroutines fed through unbuffered channels, and after a write error its
// writers block forever, which a recorder on a full disk cannot afford. So
// the layout is driven here and ebml-go marshals every element.

// Track numbers in the WebM file.
const (
	webmVideo = 1
	webmAudio = 2
)

// Cluster bounds: a cluster starts at each video keyframe and at least every
// clusterSpan (block times are 16-bit milliseconds from the cluster's,
// RFC 9559 §10.1); clusterBytes bounds the memory one holds.
const (
	clusterSpan  = 2 * time.Second
	clusterBytes = 8 << 20
)

// seekHeadRoom is the Void reserved for the SeekHead written on close: three
// Seek entries fit in 70 bytes.
const seekHeadRoom = 128

// maxCues bounds the cue points kept for a file (one per keyframe cluster:
// more than a day at one keyframe a second).
const maxCues = 100_000

// Element IDs the SeekHead names (RFC 9559 §5.1).
var (
	idInfo   = []byte{0x15, 0x49, 0xa9, 0x66}
	idTracks = []byte{0x16, 0x54, 0xae, 0x6b}
	idCues   = []byte{0x1c, 0x53, 0xbb, 0x6b}
	idSeg    = []byte{0x18, 0x53, 0x80, 0x67}
)

// durationMark is a placeholder Duration whose bytes are found in the
// marshalled header and overwritten on close.
const durationMark = 0x7265636f72642121

// webmCluster is a Cluster written at once.
type webmCluster struct {
	Timecode    uint64       `ebml:"Timecode"`
	SimpleBlock []ebml.Block `ebml:"SimpleBlock"`
}

type webmWriter struct {
	f       *os.File
	written int64
	durPos  int64 // file offset of Duration's value, 0 if not found
	audioOn bool
	// segData is the file offset of the Segment's first child (the Void),
	// infoAt and tracksAt positions relative to it (RFC 9559 §6.2).
	segData, infoAt, tracksAt int64
	cues                      []webm.CuePoint
	keyCluster                bool // the open cluster starts at a keyframe

	open      bool
	clusterAt int64 // cluster time, ms
	blocks    []ebml.Block
	pending   int64
	end       time.Duration // end of the last sample written
	frameDur  time.Duration // last video frame interval
	lastVideo time.Duration
	haveVideo bool
}

// opusHead is the Opus identification header (RFC 7845 §5.1) that WebM
// carries as the track's CodecPrivate: 2 channels as WebRTC negotiates
// (opus/48000/2), no pre-skip (RTP Opus has no pre-skip to trim), 48 kHz.
func opusHead() []byte {
	h := make([]byte, 0, 19)
	h = append(h, "OpusHead"...)
	h = append(h, 1, 2)                            // version, channels
	h = binary.LittleEndian.AppendUint16(h, 0)     // pre-skip
	h = binary.LittleEndian.AppendUint32(h, 48000) // input sample rate
	h = binary.LittleEndian.AppendUint16(h, 0)     // output gain
	return append(h, 0)                            // mapping family 0
}

func newWebM(f *os.File, width, height int, audio bool) (*webmWriter, error) {
	tracks := []webm.TrackEntry{{
		Name: "video", TrackNumber: webmVideo, TrackUID: webmVideo, CodecID: "V_VP8", TrackType: 1,
		Video: &webm.Video{PixelWidth: uint64(width), PixelHeight: uint64(height)},
	}}
	if audio {
		tracks = append(tracks, webm.TrackEntry{
			Name: "audio", TrackNumber: webmAudio, TrackUID: webmAudio, CodecID: "A_OPUS", TrackType: 2,
			CodecPrivate: opusHead(),
			SeekPreRoll:  uint64(80 * time.Millisecond), // RFC 9559 Opus mapping: 80 ms
			Audio:        &webm.Audio{SamplingFrequency: 48000, Channels: 2},
		})
	}
	header := struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment struct {
			Void   []byte      `ebml:"Void"`
			Info   webm.Info   `ebml:"Info"`
			Tracks webm.Tracks `ebml:"Tracks"`
		} `ebml:"Segment,size=unknown"`
	}{Header: *webm.DefaultEBMLHeader}
	header.Segment.Void = make([]byte, seekHeadRoom-2) // ID and a 1-byte size
	header.Segment.Info = webm.Info{
		TimecodeScale: 1_000_000, // block times in ms
		MuxingApp:     "rtcplug", WritingApp: "rtcplug",
		Duration: math.Float64frombits(durationMark),
	}
	header.Segment.Tracks.TrackEntry = tracks
	var buf bytes.Buffer
	if err := ebml.Marshal(&header, &buf); err != nil {
		return nil, err
	}
	w := &webmWriter{f: f, audioOn: audio}
	var mark [11]byte // Duration: ID 44 89, size 88, 8-byte float
	mark[0], mark[1], mark[2] = 0x44, 0x89, 0x88
	binary.BigEndian.PutUint64(mark[3:], durationMark)
	if i := bytes.Index(buf.Bytes(), mark[:]); i >= 0 {
		w.durPos = int64(i + 3)
		binary.BigEndian.PutUint64(buf.Bytes()[i+3:], math.Float64bits(0))
	}
	// The Segment's size is 8 bytes (unknown); the Void is its first child.
	b := buf.Bytes()
	seg := bytes.Index(b, idSeg)
	if seg < 0 || len(b) < seg+12+seekHeadRoom || b[seg+12] != 0xec {
		return nil, errors.New("record: unexpected WebM header layout")
	}
	w.segData = int64(seg + 12)
	w.infoAt = int64(bytes.Index(b[seg+12:], idInfo))
	w.tracksAt = int64(bytes.Index(b[seg+12:], idTracks))
	if err := w.put(b); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *webmWriter) put(b []byte) error {
	n, err := w.f.Write(b)
	w.written += int64(n)
	return err
}

func (w *webmWriter) video(t time.Duration, key bool, data []byte) error {
	if w.haveVideo && t > w.lastVideo {
		w.frameDur = t - w.lastVideo
	}
	w.lastVideo, w.haveVideo = t, true
	if err := w.block(webmVideo, t, key, key, data); err != nil {
		return err
	}
	w.end = max(w.end, t+w.frameDur)
	return nil
}

func (w *webmWriter) audio(t time.Duration, data []byte) error {
	if !w.audioOn {
		return nil
	}
	if err := w.block(webmAudio, t, true, false, data); err != nil {
		return err
	}
	w.end = max(w.end, t+opusDuration(data))
	return nil
}

// block appends a SimpleBlock; cut starts a new cluster at it (a keyframe).
func (w *webmWriter) block(track uint64, t time.Duration, key, cut bool, data []byte) error {
	ms := t.Milliseconds()
	if w.open && (cut && len(w.blocks) > 0 ||
		ms-w.clusterAt >= clusterSpan.Milliseconds() || ms < w.clusterAt ||
		w.pending+int64(len(data)) > clusterBytes) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if !w.open {
		w.open, w.clusterAt, w.keyCluster = true, ms, cut
	}
	w.blocks = append(w.blocks, ebml.Block{
		TrackNumber: track, Timecode: int16(ms - w.clusterAt), Keyframe: key, Data: [][]byte{data},
	})
	w.pending += int64(len(data)) + 16
	return nil
}

// flush writes the open cluster with one write.
func (w *webmWriter) flush() error {
	if !w.open {
		return nil
	}
	c := struct {
		Cluster webmCluster `ebml:"Cluster"`
	}{webmCluster{Timecode: uint64(w.clusterAt), SimpleBlock: w.blocks}}
	var buf bytes.Buffer
	buf.Grow(int(w.pending) + 64)
	err := ebml.Marshal(&c, &buf)
	clear(w.blocks)
	w.open, w.blocks, w.pending = false, w.blocks[:0], 0
	if err != nil {
		return err
	}
	if w.keyCluster && len(w.cues) < maxCues {
		w.cues = append(w.cues, webm.CuePoint{CueTime: uint64(c.Cluster.Timecode), CueTrackPositions: []webm.CueTrackPosition{{
			CueTrack: webmVideo, CueClusterPosition: uint64(w.written - w.segData),
		}}})
	}
	return w.put(buf.Bytes())
}

// index appends the Cues and writes the SeekHead into the reserved Void.
func (w *webmWriter) index() error {
	if len(w.cues) == 0 || w.infoAt < 0 || w.tracksAt < 0 {
		return nil
	}
	cuesAt := w.written - w.segData
	var buf bytes.Buffer
	if err := ebml.Marshal(&struct {
		Cues webm.Cues `ebml:"Cues"`
	}{webm.Cues{CuePoint: w.cues}}, &buf); err != nil {
		return err
	}
	if err := w.put(buf.Bytes()); err != nil {
		return err
	}
	buf.Reset()
	if err := ebml.Marshal(&struct {
		SeekHead webm.SeekHead `ebml:"SeekHead"`
	}{webm.SeekHead{Seek: []webm.Seek{
		{SeekID: idInfo, SeekPosition: uint64(w.infoAt)},
		{SeekID: idTracks, SeekPosition: uint64(w.tracksAt)},
		{SeekID: idCues, SeekPosition: uint64(cuesAt)},
	}}}, &buf); err != nil {
		return err
	}
	rest := seekHeadRoom - buf.Len()
	if rest < 2 || rest > 128 {
		return errors.New("record: SeekHead does not fit its room")
	}
	if err := ebml.Marshal(&struct {
		Void []byte `ebml:"Void"`
	}{make([]byte, rest-2)}, &buf); err != nil {
		return err
	}
	if buf.Len() != seekHeadRoom {
		return errors.New("record: SeekHead does not fill its room")
	}
	_, err := w.f.WriteAt(buf.Bytes(), w.segData)
	return err
}

func (w *webmWriter) size() int64 { return w.written + w.pending + 64 }

func (w *webmWriter) continues(codec string, _ []byte) bool { return codec == VP8 }

func (w *webmWriter) close() error {
	err := w.flush()
	if err == nil {
		err = w.index()
	}
	if err == nil && w.durPos > 0 {
		var d [8]byte
		binary.BigEndian.PutUint64(d[:], math.Float64bits(float64(w.end)/float64(time.Millisecond)))
		_, err = w.f.WriteAt(d[:], w.durPos)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && w.durPos == 0 {
		err = errors.New("record: WebM duration not found in the header")
	}
	return err
}
