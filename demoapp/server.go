package main

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog"

	"github.com/nutsbolts/webrtc/rtcplug"
)

//go:embed web
var webFiles embed.FS

// Limits of the snapshot API.
const (
	defaultSnapshotLimit = 24  // files in one /api/snapshots answer unless ?limit= says otherwise
	maxSnapshotLimit     = 200 // the most ?limit= may ask for
)

// validName is what rtcplug accepts as a conference name; peer ids and
// directory names under the output directory follow the same rule, which also
// keeps ".." and separators out of every path built from a query.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// validFile matches the JPEG files the plugin writes; temporary files (which
// the plugin renames into place) and anything else are never served.
var validFile = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}\.jpg$`)

// app is the demo application: its own routes plus rtcplug on one router.
type app struct {
	cfg    config
	log    zerolog.Logger
	router chi.Router
	plugin *rtcplug.Plugin
	output *os.Root    // every file access under the output directory goes through it
	live   live        // live.go
	nats   *clusterRun // cluster.go; nil without -nats
}

// newApp builds the router and mounts rtcplug on it. The plugin lives until
// ctx ends.
func newApp(ctx context.Context, cfg config, logger zerolog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.OutputDir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	root, err := os.OpenRoot(cfg.OutputDir)
	if err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	a := &app{cfg: cfg, log: logger, output: root}
	a.router = a.routes()

	// The one call a host application makes: rtcplug adds its WebSocket
	// signaling (/ws) and WHIP (/whip) routes to the router and receives
	// media on one UDP port until ctx ends.
	opts := []rtcplug.Option{
		rtcplug.WithContext(ctx),
		rtcplug.WithUDPPort(cfg.UDPPort),
		rtcplug.WithSnapshotDir(cfg.OutputDir),
		rtcplug.WithPublicIPs(cfg.PublicIPs...),
		rtcplug.WithZerolog(logger),
		rtcplug.OnKeyframe(a.onKeyframe),
		rtcplug.WithSnapshotInterval(snapshotInterval),
	}
	if cfg.STUN != "" {
		opts = append(opts, rtcplug.WithSTUNServer(cfg.STUN))
	}
	if cfg.WHIPToken != "" {
		opts = append(opts, rtcplug.WithBearerToken(cfg.WHIPToken))
	}
	cl, err := startCluster(ctx, cfg.Cluster, logger) // cluster.go; nil without -nats
	if err != nil {
		root.Close()
		return nil, err
	}
	if cl != nil {
		opts = append(opts, rtcplug.WithCluster(cl.cluster))
	}
	if cfg.RecordDir != "" {
		opts = append(opts, rtcplug.WithRecordDir(cfg.RecordDir))
	}
	a.plugin, err = rtcplug.Mount(a.router, opts...)
	if err != nil {
		cl.close()
		root.Close()
		return nil, fmt.Errorf("mount rtcplug: %w", err)
	}
	cl.closeAfter(a.plugin.Done())
	a.nats = cl
	return a, nil
}

func (a *app) close() { a.output.Close() }

// routes are the application's own; rtcplug adds /ws and /whip to the same router.
func (a *app) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	static, _ := fs.Sub(webFiles, "web")
	files := http.FileServerFS(static)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		// Everything the page needs comes from here; nothing from other sites.
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "+
				"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, "index.html")
	})
	r.Get("/static/*", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.StripPrefix("/static", files).ServeHTTP(w, r)
	})
	r.Get("/api/snapshots", a.listSnapshots)
	r.Get("/snapshots/*", a.serveSnapshot)
	a.liveRoutes(r, static)
	return r
}

// snapshot is one captured keyframe in the /api/snapshots answer.
type snapshot struct {
	URL        string    `json:"url"`
	Conference string    `json:"conference"`
	Peer       string    `json:"peer"`
	Name       string    `json:"name"`
	Time       time.Time `json:"time"`
	Bytes      int64     `json:"bytes"`
}

// listSnapshots answers GET /api/snapshots?conference=X[&peer=Y][&limit=N]
// with the newest JPEGs first.
func (a *app) listSnapshots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	conf, peer := q.Get("conference"), q.Get("peer")
	if !validName.MatchString(conf) {
		httpError(w, http.StatusBadRequest, "conference: want 1-64 of A-Z a-z 0-9 _ -")
		return
	}
	if peer != "" && !validName.MatchString(peer) {
		httpError(w, http.StatusBadRequest, "peer: want 1-64 of A-Z a-z 0-9 _ -")
		return
	}
	limit := defaultSnapshotLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxSnapshotLimit {
			httpError(w, http.StatusBadRequest, fmt.Sprintf("limit: want 1..%d", maxSnapshotLimit))
			return
		}
		limit = n
	}

	fsys := a.output.FS()
	peers := []string{peer}
	if peer == "" {
		peers = peers[:0]
		entries, err := fs.ReadDir(fsys, conf)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.log.Warn().Err(err).Msg("list snapshots")
		}
		for _, e := range entries {
			if e.IsDir() && validName.MatchString(e.Name()) {
				peers = append(peers, e.Name())
			}
		}
	}
	list := []snapshot{}
	for _, p := range peers {
		dir := path.Join(conf, p)
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				a.log.Warn().Err(err).Str("dir", dir).Msg("list snapshots")
			}
			continue
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !validFile.MatchString(e.Name()) {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue // renamed or removed since ReadDir
			}
			list = append(list, snapshot{
				URL:        "/snapshots/" + dir + "/" + e.Name(),
				Conference: conf, Peer: p, Name: e.Name(),
				Time: info.ModTime().UTC(), Bytes: info.Size(),
			})
		}
	}
	slices.SortFunc(list, func(x, y snapshot) int {
		return cmp.Or(y.Time.Compare(x.Time), strings.Compare(y.Name, x.Name), strings.Compare(x.Peer, y.Peer))
	})
	if len(list) > limit {
		list = list[:limit]
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		Conference string     `json:"conference"`
		Peer       string     `json:"peer,omitempty"`
		Snapshots  []snapshot `json:"snapshots"`
	}{conf, peer, list})
}

// serveSnapshot answers GET /snapshots/<conference>/<peer>/<file>.jpg. Only
// that shape is served, and os.Root keeps even a symlink from leading outside
// the output directory.
func (a *app) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	rest := chi.URLParam(r, "*")
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || !validName.MatchString(parts[0]) || !validName.MatchString(parts[1]) ||
		!validFile.MatchString(parts[2]) || strings.Contains(parts[2], "..") {
		http.NotFound(w, r)
		return
	}
	name := strings.Join(parts, "/")
	fsys := a.output.FS()
	info, err := fs.Stat(fsys, name)
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Peer ids can repeat after a restart, so a name may come back with new
	// content: revalidate instead of caching blindly.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, fsys, name)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// onKeyframe shows the callback a host application gets for every decoded
// keyframe (k.Image holds the picture). rtcplug itself logs each file it
// writes, so this only adds a debug line.
func (a *app) onKeyframe(k rtcplug.Keyframe) {
	a.noteKeyframe(k)
	a.log.Debug().Str("conference", k.Conference).Str("peer", k.Peer).
		Str("size", fmt.Sprintf("%dx%d", k.Width, k.Height)).Str("file", k.Path).Msg("OnKeyframe")
}
