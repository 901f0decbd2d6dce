package main

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nutsbolts/webrtc/rtcplug"
	"github.com/nutsbolts/webrtc/rtcplug/rtcprom"
)

// snapshotInterval makes the plugin ask every peer for a keyframe this often,
// so the pages keep showing new images (Chromium sends keyframes on its own
// only at the start and after loss).
const snapshotInterval = 2 * time.Second

// pageCSP: everything a page needs comes from here; nothing from other sites.
const pageCSP = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// live is what the live panel and the wall need beyond the plugin: the
// newest image of each peer.
type live struct {
	mu     sync.Mutex
	latest map[string]latestImage // by peer id
}

type latestImage struct {
	URL  string
	Time time.Time
}

// maxLatest bounds the newest-image table; it is pruned to the live peers
// when it grows past this.
const maxLatest = 1024

// keyframe notes the newest JPEG of a peer (called from OnKeyframe).
func (a *app) noteKeyframe(k rtcplug.Keyframe) {
	if k.Path == "" {
		return
	}
	rel, err := filepath.Rel(a.cfg.OutputDir, k.Path)
	if err != nil || !fs.ValidPath(filepath.ToSlash(rel)) {
		return
	}
	l := &a.live
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.latest == nil {
		l.latest = map[string]latestImage{}
	}
	if len(l.latest) >= maxLatest {
		l.prune(a.plugin.Peers())
	}
	l.latest[k.Peer] = latestImage{URL: "/snapshots/" + filepath.ToSlash(rel), Time: k.Time}
}

// prune drops the images of peers that are gone; l.mu is held.
func (l *live) prune(peers []rtcplug.PeerInfo) {
	keep := make(map[string]bool, len(peers))
	for _, p := range peers {
		keep[p.ID] = true
	}
	for id := range l.latest {
		if !keep[id] {
			delete(l.latest, id)
		}
	}
}

// peerJSON is one peer in GET /api/peers.
type peerJSON struct {
	ID         string    `json:"id"`
	Conference string    `json:"conference"`
	Identity   string    `json:"identity,omitempty"`
	Remote     string    `json:"remote,omitempty"`
	State      string    `json:"state"`
	Since      time.Time `json:"since"`
	Codec      string    `json:"codec"`
	SRTP       string    `json:"srtp"`
	Cipher     string    `json:"cipher"`
	Packets    uint64    `json:"packets"`
	Bytes      uint64    `json:"bytes"`
	Lost       uint64    `json:"lost"`
	Frames     uint64    `json:"frames"`
	Keyframes  uint64    `json:"keyframes"`
	JitterMS   float64   `json:"jitterMs"`
	Bitrate    int       `json:"bitrate"`
	Image      string    `json:"image,omitempty"`
	ImageTime  time.Time `json:"imageTime,omitzero"`
}

// listPeers answers GET /api/peers[?conference=X][&peer=Y] with the live
// peers from Plugin.Peers and the newest image of each.
func (a *app) listPeers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	conf, id := q.Get("conference"), q.Get("peer")
	if (conf != "" && !validName.MatchString(conf)) || (id != "" && !validName.MatchString(id)) {
		httpError(w, http.StatusBadRequest, "conference and peer: want 1-64 of A-Z a-z 0-9 _ -")
		return
	}
	peers := a.plugin.Peers()
	a.live.mu.Lock()
	a.live.prune(peers)
	out := make([]peerJSON, 0, len(peers))
	for _, p := range peers {
		if (conf != "" && p.Conference != conf) || (id != "" && p.ID != id) {
			continue
		}
		pj := peerJSON{
			ID: p.ID, Conference: p.Conference, Identity: p.Identity, State: string(p.State), Since: p.Since,
			Codec: p.VideoCodec, SRTP: p.SRTPProfile, Cipher: p.DTLSCipher,
			Packets: p.Packets, Bytes: p.Bytes, Lost: p.Lost, Frames: p.Frames, Keyframes: p.Keyframes,
			JitterMS: float64(p.Jitter.Microseconds()) / 1000, Bitrate: p.Bitrate,
		}
		if p.Remote.IsValid() {
			pj.Remote = p.Remote.String()
		}
		if img, ok := a.live.latest[p.ID]; ok {
			pj.Image, pj.ImageTime = img.URL, img.Time
		}
		out = append(out, pj)
	}
	a.live.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(struct {
		Peers []peerJSON `json:"peers"`
	}{out})
}

// liveRoutes adds the wall page, the peers API and the Prometheus metrics.
func (a *app) liveRoutes(r chi.Router, static fs.FS) {
	r.Get("/api/peers", a.listPeers)
	r.Get("/wall", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", pageCSP)
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, "wall.html")
	})
	metrics := sync.OnceValue(func() http.Handler {
		reg := prometheus.NewRegistry()
		reg.MustRegister(rtcprom.New(a.plugin), collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	})
	r.Get("/metrics", func(w http.ResponseWriter, r *http.Request) { metrics().ServeHTTP(w, r) })
}
