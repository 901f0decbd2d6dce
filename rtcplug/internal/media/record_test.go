package media

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

func ivfFrames(t *testing.T) [][]byte {
	b, err := os.ReadFile("../../../testdata/vp8-640x480.ivf")
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for off := int(binary.LittleEndian.Uint16(b[6:8])); off+12 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off:]))
		frames = append(frames, b[off+12:off+12+n])
		off += 12 + n
	}
	return frames
}

func TestIVFRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.ivf")
	w, err := NewIVFWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	frames := ivfFrames(t)
	// A delta frame first is skipped: files start at a keyframe.
	if err := w.WriteFrame(1, false, 0, 0, frames[1]); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if err := w.WriteFrame(uint32(100000+3000*i), i%30 == 0, 640, 480, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Width != 640 || hdr.Height != 480 || hdr.NumFrames != uint32(len(frames)) || hdr.TimebaseDenominator != 90000 {
		t.Fatalf("header %+v", hdr)
	}
	for i := 0; ; i++ {
		fr, fh, err := r.ParseNextFrame()
		if err == io.EOF {
			if i != len(frames) {
				t.Fatalf("%d frames", i)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fr, frames[i]) || fh.Timestamp != uint64(3000*i)*90000 { // pion scales pts by rate/scale
			t.Fatalf("frame %d differs (ts %d)", i, fh.Timestamp)
		}
	}
	// The first frame decodes.
	if _, err := Decode(frames[0]); err != nil {
		t.Fatal(err)
	}
}

func TestOggRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ogg")
	w, err := NewOggOpusWriter(path, 7)
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for i := 0; i < 50; i++ {
		p := bytes.Repeat([]byte{byte(i)}, 40+i*13) // up to 677 bytes: multi-segment lacing
		pkts = append(pkts, p)
		if err := w.WritePacket(uint32(5000+960*i), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, hdr, err := oggreader.NewWith(f) // verifies every page CRC
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Channels != 2 || hdr.SampleRate != 48000 || hdr.PreSkip != opusPreSkip {
		t.Fatalf("head %+v", hdr)
	}
	var got [][]byte
	var last uint64
	for {
		payload, ph, err := r.ParseNextPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(payload, []byte("OpusTags")) {
			continue
		}
		got = append(got, payload)
		last = ph.GranulePosition
	}
	if len(got) != len(pkts) {
		t.Fatalf("%d packets", len(got))
	}
	for i := range pkts {
		if !bytes.Equal(got[i], pkts[i]) {
			t.Fatalf("packet %d differs", i)
		}
	}
	if last != 50*960+opusPreSkip {
		t.Fatalf("last granule %d", last)
	}
}

func TestRecorder(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRecorder(dir, "conf", "peer", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range ivfFrames(t)[:40] {
		r.Video(uint32(3000*i), i%30 == 0, 640, 480, f)
		r.Audio(uint32(960*i), []byte{0xfc, byte(i)})
	}
	r.Close()
	r.Close()
	for _, name := range []string{"video.ivf", "audio.ogg"} {
		st, err := os.Stat(filepath.Join(dir, "conf", "peer", name))
		if err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
