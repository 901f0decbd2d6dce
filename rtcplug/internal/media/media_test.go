package media

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// firstFrame returns the first frame of the test IVF file (a keyframe).
func firstFrame(t testing.TB) []byte {
	b, err := os.ReadFile("../../../testdata/vp8-640x480.ivf")
	if err != nil {
		t.Fatal(err)
	}
	hl := int(binary.LittleEndian.Uint16(b[6:8]))
	n := int(binary.LittleEndian.Uint32(b[hl:]))
	return b[hl+12 : hl+12+n]
}

func TestPoolWritesJPEG(t *testing.T) {
	dir := t.TempDir()
	got := make(chan Result, 1)
	p := NewPool(context.Background(), Config{Dir: dir, OnResult: func(r Result) { got <- r }})
	defer p.Close()
	if !p.Submit(Job{Conference: "c1", Peer: "p1", Seq: 1, Time: time.Unix(0, 0), Frame: firstFrame(t)}) {
		t.Fatal("submit refused")
	}
	var r Result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no result")
	}
	want := filepath.Join(dir, "c1", "p1", "keyframe-000001.jpg")
	if r.Path != want || r.Width != 640 || r.Height != 480 || r.Image == nil {
		t.Fatalf("result %+v", r)
	}
	f, err := os.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	if err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Fatalf("jpeg %+v %v", cfg, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "c1", "p1", ".*"))
	if len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

// TestPoolDropsWhenSaturated: while the worker is busy, one peer's
// keyframes replace each other: one waits, the others are dropped and
// counted.
func TestPoolDropsWhenSaturated(t *testing.T) {
	block := make(chan struct{})
	got := make(chan Result, 10)
	p := NewPool(context.Background(), Config{Workers: 1, OnResult: func(r Result) { <-block; got <- r }})
	frame := firstFrame(t)
	for i := range 10 {
		if !p.Submit(Job{Conference: "c", Peer: "p", Seq: i, Frame: frame}) {
			t.Fatalf("keyframe %d refused", i)
		}
		if i == 0 {
			waitTaken(t, p)
		}
	}
	if d := p.Stats().Dropped; d != 8 {
		t.Fatalf("dropped %d, want 8 (one decoding, one waiting)", d)
	}
	close(block)
	for _, want := range []int{0, 9} {
		select {
		case r := <-got:
			if r.Seq != want {
				t.Fatalf("decoded seq %d, want %d", r.Seq, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no result")
		}
	}
	p.Close()
}

// waitTaken waits until a worker has taken every pending keyframe.
func waitTaken(t *testing.T, p *Pool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		n := 0
		for _, sl := range p.q.peers {
			if sl.pending {
				n++
			}
		}
		p.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("keyframe not taken")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDecodeGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {0x10, 0, 0, 0x9d, 0x01, 0x2a, 1, 0, 1, 0}} {
		if _, err := Decode(b); err == nil {
			t.Fatalf("decoded %x", b)
		}
	}
}

func TestSafeName(t *testing.T) {
	if SafeName("../a/b c") != "abc" || SafeName("ok_-1") != "ok_-1" {
		t.Fatal(SafeName("../a/b c"))
	}
}

// smallKeyframe is a 16x16 VP8 keyframe (ffmpeg testsrc, libvpx): the
// fuzzer's comparison hooks make decoding slow, so it works on tiny pictures.
var smallKeyframe, _ = hex.DecodeString("" +
	"f00c009d012a10001000004708858588858488020202756201fc01dc20fc25de01fe41bc41c003fb01d603fa81fe03f8" +
	"0fc00ff0dfe24ef03f835fae5a2cff083f64b28cff183f1035c07500ff92fc01f605fd57ec07ac07f8b7f11febbf919f" +
	"d83ffff280fe95fb6196619a631ed130f0feffedf9b2ff20c6590dcfcf0eac75bea99482054d27f6d95174b088018faa" +
	"3619ffedd1c3fe69bf31154741c6e9fffa395aa5e532fc97e620276b107b447b6fff135427865ebe93f6daf75ffc2a7a" +
	"6adfd7d0634ffc3c778dc34c205a99f0189d1e6f2104bfc92783acb017dd412d2a4e42a17fd9047f78b6bf2a106029a0" +
	"459eff965a7bfd76f5ef7ff8ffff2107a271dcd67ec729a1fc7fe7ffff89b469752fb2fbe8a84fed0fddbfffcc45cf2d" +
	"43d976ca78698e7c0fed5dabebafe6e1a96ba91baece994b939c17b98067fe0a5147763c1bdc7ffeea8a2f9a4290df60" +
	"84b2b91e37733bfffc88e4b94bb126957fa2eb0509b22bf5bf26fb5167ffff7890a169f90644f1538b4ca65cef92946e" +
	"0a88fa10a3ff9fcd18")

// FuzzDecode feeds mutated keyframes to the decoder without Decode's
// recover, so a panic in the decoder on hostile bytes shows up here.
// Headers that claim large pictures are only checked for refusal: decoding
// megapixels of noise would make the fuzzer too slow to find anything.
func FuzzDecode(f *testing.F) {
	f.Add(smallKeyframe)
	f.Add(smallKeyframe[:64])
	f.Add(firstFrame(f)[:256])
	// A keyframe header that claims a huge picture (refused before decoding).
	f.Add([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0x3f, 0xff, 0x3f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 10 {
			w := int(b[6]) | int(b[7]&0x3f)<<8
			h := int(b[8]) | int(b[9]&0x3f)<<8
			if w*h > 64*64 {
				if w*h > MaxPixels {
					if _, err := decode(b); err == nil {
						t.Fatalf("%dx%d decoded", w, h)
					}
				}
				return
			}
		}
		img, err := decode(b)
		if err == nil && img == nil {
			t.Fatal("decode returned no image and no error")
		}
	})
}

// TestOnePendingPerPeer: a peer has one keyframe waiting at most, the newest;
// its keyframes are decoded one at a time and in order, while another
// peer's keyframe gets its turn. Virtual time: synctest.Wait returns when
// the worker is idle.
func TestOnePendingPerPeer(t *testing.T) {
	synctest.Test(t, testOnePendingPerPeer)
}

func testOnePendingPerPeer(t *testing.T) {
	release := make(chan struct{})
	results := make(chan Result, 16)
	p := NewPool(context.Background(), Config{Workers: 1, OnResult: func(r Result) {
		<-release
		results <- r
	}})
	defer p.Close()
	frame := firstFrame(t)
	job := func(peer string, seq int) Job {
		return Job{Conference: "c", Peer: peer, Seq: seq, Frame: frame}
	}
	p.Submit(job("a", 1))
	synctest.Wait() // a1 is being decoded
	for i := 2; i <= 4; i++ {
		if !p.Submit(job("a", i)) {
			t.Fatalf("keyframe a%d refused", i)
		}
	}
	if !p.Submit(job("b", 1)) {
		t.Fatal("another peer's keyframe was refused")
	}
	if got := p.Stats().Dropped; got != 2 {
		t.Fatalf("dropped = %d, want 2 (a2, a3 replaced)", got)
	}
	close(release)
	var order []string
	for range 3 {
		r := <-results
		order = append(order, fmt.Sprint(r.Peer, r.Seq))
	}
	// b has never had an image: it goes before a's second.
	if got := strings.Join(order, " "); got != "a1 b1 a4" {
		t.Fatalf("decoded %s, want a1 b1 a4", got)
	}
	synctest.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.q.idle() || p.q.bytes != 0 {
		t.Fatalf("not idle after the work: %d bytes pending", p.q.bytes)
	}
}
