package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	pionice "github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"golang.org/x/image/vp8"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// serverStats is what a server process reports on GET /stats.
type serverStats struct {
	Packets   uint64           `json:"packets"`   // video RTP packets received
	Images    uint64           `json:"images"`    // JPEGs written
	Dropped   uint64           `json:"dropped"`   // keyframes not turned into images (busy, rate, ...)
	FirstJPEG map[string]int64 `json:"firstJPEG"` // conference -> unix ns of its first JPEG on disk
	// InboxDrops: datagrams the receiver dropped itself (a peer's queue full);
	// SocketDrops: datagrams the kernel dropped at the receiver's socket.
	InboxDrops  uint64 `json:"inboxDrops"`
	SocketDrops uint64 `json:"socketDrops"`
}

type firsts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (f *firsts) note(conf string) {
	now := time.Now().UnixNano()
	f.mu.Lock()
	if _, ok := f.m[conf]; !ok {
		f.m[conf] = now
	}
	f.mu.Unlock()
}

func (f *firsts) copy() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int64, len(f.m))
	for k, v := range f.m {
		out[k] = v
	}
	return out
}

// serve runs one receiver (rtcplug or the pion reference) on loopback until
// stop is closed; ready gets its base URL once it listens.
func serve(mode string, maxPeers int, snapshots bool, dir string, ready func(base string), stop <-chan struct{}) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r := chi.NewRouter()
	f := &firsts{m: map[string]int64{}}
	var stats func() serverStats
	switch mode {
	case "rtcplug":
		opts := []rtcplug.Option{
			rtcplug.WithContext(ctx),
			rtcplug.WithUDPPort(0),
			rtcplug.WithCandidateFilter(func(a netip.Addr) bool { return a.Is4() && a.IsLoopback() }),
			rtcplug.WithLogger(slog.New(slog.DiscardHandler)),
			rtcplug.WithJPEGQuality(75),
			rtcplug.WithMaxConferences(maxPeers + 8),
			rtcplug.WithMaxPeers(maxPeers+8, 4),
			rtcplug.WithMaxPending(maxPeers + 8),
			// Every sender of the tool comes from 127.0.0.1: one source.
			rtcplug.WithMaxPendingPerSource(maxPeers + 8),
			rtcplug.WithAudio(false),
		}
		if snapshots {
			opts = append(opts, rtcplug.WithSnapshotDir(dir),
				rtcplug.OnKeyframe(func(k rtcplug.Keyframe) {
					if k.Path != "" {
						f.note(k.Conference)
					}
				}))
		}
		p, err := rtcplug.Mount(r, opts...)
		if err != nil {
			return err
		}
		defer func() { cancel(); <-p.Done() }()
		stats = func() serverStats {
			s := p.Stats()
			return serverStats{Packets: s.VideoPackets, Images: s.Snapshots, Dropped: s.DroppedKeyframes,
				InboxDrops: s.DroppedDatagrams, SocketDrops: socketDrops(p.UDPAddr().Port())}
		}
	case "pion":
		ref, err := newPionRef(snapshots, dir, f)
		if err != nil {
			return err
		}
		defer ref.close()
		r.Post("/whip/{conference}", ref.whip)
		stats = func() serverStats {
			return serverStats{Packets: ref.packets.Load(), Images: ref.images.Load(), Dropped: ref.dropped.Load(),
				SocketDrops: socketDrops(uint16(ref.conn.LocalAddr().(*net.UDPAddr).Port))}
		}
	default:
		return fmt.Errorf("unknown server mode %q", mode)
	}
	r.Get("/stats", func(w http.ResponseWriter, _ *http.Request) {
		s := stats()
		s.FirstJPEG = f.copy()
		_ = json.NewEncoder(w).Encode(s)
	})
	mountPprof(r, "http://"+ln.Addr().String())
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	ready("http://" + ln.Addr().String())
	<-stop
	return nil
}

// pionRef is the reference receiver: pion/webrtc as ICE-lite on one UDP port
// with a 4 MiB socket buffer; every keyframe is decoded with x/image/vp8 and
// written with image/jpeg at quality 75.
type pionRef struct {
	api       *webrtc.API
	conn      *net.UDPConn
	mux       pionice.UDPMux
	snapshots bool
	dir       string
	first     *firsts

	mu  sync.Mutex
	pcs []*webrtc.PeerConnection
	n   atomic.Int64

	packets, images, dropped atomic.Uint64
}

func newPionRef(snapshots bool, dir string, f *firsts) (*pionRef, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(4 << 20)
	_ = conn.SetWriteBuffer(4 << 20)
	mux := webrtc.NewICEUDPMux(nil, conn)
	se := webrtc.SettingEngine{}
	se.SetLite(true)
	se.SetICEUDPMux(mux)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me))
	return &pionRef{api: api, conn: conn, mux: mux, snapshots: snapshots, dir: dir, first: f}, nil
}

func (p *pionRef) close() {
	p.mu.Lock()
	pcs := p.pcs
	p.mu.Unlock()
	for _, pc := range pcs {
		_ = pc.Close()
	}
	_ = p.mux.Close()
	_ = p.conn.Close()
}

func (p *pionRef) whip(w http.ResponseWriter, r *http.Request) {
	conf := chi.URLParam(r, "conference")
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pc, err := p.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.mu.Lock()
	p.pcs = append(p.pcs, pc)
	p.mu.Unlock()
	id := p.n.Add(1)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		p.read(conf, id, tr)
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(body)}); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	<-done
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", fmt.Sprintf("/whip/%s/%d", conf, id))
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, pc.LocalDescription().SDP)
}

// read assembles VP8 frames (RFC 7741: S bit with PID 0 starts one, the
// marker bit ends it; a sequence gap drops it) and turns keyframes into
// JPEGs on the track's goroutine.
func (p *pionRef) read(conf string, id int64, tr *webrtc.TrackRemote) {
	var (
		pkt    rtp.Packet
		vp     codecs.VP8Packet
		frame  []byte
		inside bool
		next   uint16
		seq    int
		dec    = vp8.NewDecoder()
	)
	buf := make([]byte, 1500)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.packets.Add(1)
		payload, err := vp.Unmarshal(pkt.Payload)
		if err != nil {
			inside = false
			continue
		}
		if vp.S == 1 && vp.PID == 0 {
			frame, inside = append(frame[:0], payload...), true
		} else if inside && pkt.SequenceNumber == next {
			frame = append(frame, payload...)
		} else {
			inside = false
		}
		next = pkt.SequenceNumber + 1
		if !inside || !pkt.Marker {
			continue
		}
		inside = false
		if len(frame) < 10 || frame[0]&1 != 0 || !p.snapshots {
			continue
		}
		seq++
		if err := p.snapshot(dec, conf, id, seq, frame); err != nil {
			p.dropped.Add(1)
			continue
		}
		p.images.Add(1)
		p.first.note(conf)
	}
}

func (p *pionRef) snapshot(dec *vp8.Decoder, conf string, id int64, seq int, frame []byte) error {
	dec.Init(bytes.NewReader(frame), len(frame))
	if _, err := dec.DecodeFrameHeader(); err != nil {
		return err
	}
	img, err := dec.DecodeFrame()
	if err != nil {
		return err
	}
	dir := filepath.Join(p.dir, conf, fmt.Sprint(id))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 75}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("keyframe-%06d.jpg", seq)), out.Bytes(), 0o644)
}
