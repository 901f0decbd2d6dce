package rtcplug

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/nutsbolts/webrtc/rtcplug/internal/conference"
	"github.com/nutsbolts/webrtc/rtcplug/internal/media"
	"github.com/nutsbolts/webrtc/rtcplug/internal/record"
)

// Option configures Mount. Options are applied in order over the defaults and
// the result is validated once; an invalid option makes Mount fail.
type Option func(*config) error

// Defaults of the options.
const (
	// DefaultUDPPort is the one UDP port every peer sends media to.
	DefaultUDPPort = 15000
	// DefaultSignalingPath is the WebSocket route.
	DefaultSignalingPath = "/ws"
	// DefaultWHIPPath is the prefix of the WHIP routes.
	DefaultWHIPPath = "/whip"
	// DefaultJPEGQuality is the quality of snapshot JPEGs.
	DefaultJPEGQuality = 90
	// DefaultMaxConferences bounds the number of conferences.
	DefaultMaxConferences = conference.DefaultMaxConferences
	// DefaultMaxPeers bounds the peers of all conferences together.
	DefaultMaxPeers = conference.DefaultMaxPeers
	// DefaultMaxPeersPerConference bounds one conference.
	DefaultMaxPeersPerConference = conference.DefaultMaxPeersPerConference
	// DefaultMaxPending bounds peers that joined but have not connected yet.
	DefaultMaxPending = conference.DefaultMaxPending
)

type config struct {
	ctx            context.Context
	udpPort        int
	publicIPs      []netip.Addr
	stunServer     string
	snapshotDir    string
	recordDir      string
	recordLimit    int64
	onKeyframe     func(Keyframe)
	onPeerState    func(PeerState)
	log            *slog.Logger
	signalingPath  string
	whipPath       string
	originPatterns []string
	authorize      func(r *http.Request, conference string) (identity string, err error)
	whipToken      string // WithBearerToken
	audio          bool
	jpegQuality    int
	maxConferences int
	maxPeers       int
	maxPerConf     int
	maxPending     int
	candidateAddrs func(netip.Addr) bool
	decodeWorkers  int
	rand           io.Reader
	hostOptions             // frames.go
	videoCodecs    []string // nil: defaultVideoCodecs
	snapshotRate   int
	snapshotPer    time.Duration
	snapshotDisk   int64
	// maxPendingPerSource: WithMaxPendingPerSource; 0 = a quarter of maxPending
	maxPendingPerSource int
	joinTimeout         time.Duration // JoinTimeout; tests shorten it
	answerTimeout       time.Duration // AnswerTimeout; tests shorten it
	whipBodyTimeout     time.Duration // whipBodyTimeout; tests shorten it
	clusterOptions                    // cluster.go
}

func defaults() *config {
	return &config{
		ctx:             context.Background(),
		udpPort:         DefaultUDPPort,
		signalingPath:   DefaultSignalingPath,
		whipPath:        DefaultWHIPPath,
		audio:           true,
		jpegQuality:     DefaultJPEGQuality,
		maxConferences:  DefaultMaxConferences,
		maxPeers:        DefaultMaxPeers,
		maxPerConf:      DefaultMaxPeersPerConference,
		maxPending:      DefaultMaxPending,
		decodeWorkers:   media.DefaultWorkers(),
		recordLimit:     DefaultRecordLimit,
		rand:            rand.Reader,
		snapshotRate:    media.DefaultRate,
		snapshotPer:     media.DefaultRatePer,
		snapshotDisk:    media.DefaultDiskLimit,
		joinTimeout:     JoinTimeout,
		answerTimeout:   AnswerTimeout,
		whipBodyTimeout: whipBodyTimeout,
	}
}

// defaultLogger writes through zerolog's console writer at info level.
func defaultLogger() *slog.Logger {
	zl := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	return slog.New(zerolog.NewSlogHandler(zl))
}

func (c *config) validate() error {
	if c.ctx == nil {
		return errors.New("rtcplug: nil context")
	}
	if c.udpPort < 0 || c.udpPort > 65535 {
		return fmt.Errorf("rtcplug: UDP port %d out of range", c.udpPort)
	}
	if !strings.HasPrefix(c.signalingPath, "/") || strings.ContainsAny(c.signalingPath, "{}*") {
		return fmt.Errorf("rtcplug: signaling path %q must start with / and have no patterns", c.signalingPath)
	}
	if c.whipPath != "" && (!strings.HasPrefix(c.whipPath, "/") || strings.ContainsAny(c.whipPath, "{}*") || c.whipPath == "/") {
		return fmt.Errorf("rtcplug: WHIP path %q must start with / and have no patterns", c.whipPath)
	}
	if c.whipPath != "" && c.whipPath == c.signalingPath {
		return errors.New("rtcplug: WHIP and signaling paths are the same")
	}
	if c.jpegQuality < 1 || c.jpegQuality > 100 {
		return fmt.Errorf("rtcplug: JPEG quality %d not in 1..100", c.jpegQuality)
	}
	if c.maxConferences < 1 || c.maxPeers < 1 || c.maxPerConf < 1 || c.maxPending < 1 {
		return errors.New("rtcplug: limits must be at least 1")
	}
	if c.log == nil {
		c.log = defaultLogger()
	}
	return nil
}

// WithContext sets the plugin's lifetime: when ctx ends, every goroutine,
// socket and WebSocket of the plugin ends. Default context.Background().
func WithContext(ctx context.Context) Option {
	return func(c *config) error {
		if ctx == nil {
			return errors.New("rtcplug: WithContext(nil)")
		}
		c.ctx = ctx
		return nil
	}
}

// WithUDPPort sets the one UDP port every peer uses (default 15000); 0 picks a
// free port (see Plugin.UDPAddr).
func WithUDPPort(port int) Option {
	return func(c *config) error {
		if port < 0 || port > 65535 {
			return fmt.Errorf("rtcplug: UDP port %d out of range", port)
		}
		c.udpPort = port
		return nil
	}
}

// WithPublicIPs adds addresses advertised as extra host candidates, for a 1:1
// NAT or a container whose host address the browser reaches.
func WithPublicIPs(ips ...netip.Addr) Option {
	return func(c *config) error {
		for _, ip := range ips {
			if !ip.IsValid() || ip.IsUnspecified() {
				return fmt.Errorf("rtcplug: bad public IP %v", ip)
			}
			c.publicIPs = append(c.publicIPs, ip.Unmap())
		}
		return nil
	}
}

// WithSTUNServer asks hostport (e.g. "stun.l.google.com:19302") for the
// server-reflexive address of the UDP port, in the background; once known it
// is offered as a srflx candidate. Default none. Discovery never delays Mount.
func WithSTUNServer(hostport string) Option {
	return func(c *config) error {
		if _, _, err := net.SplitHostPort(hostport); err != nil {
			return fmt.Errorf("rtcplug: STUN server %q: %w", hostport, err)
		}
		c.stunServer = hostport
		return nil
	}
}

// WithSnapshotDir writes every decoded keyframe as
// <dir>/<conference>/<peer>/keyframe-000001.jpg, .... Default "" (no files).
func WithSnapshotDir(dir string) Option {
	return func(c *config) error {
		c.snapshotDir = dir
		return nil
	}
}

// WithRecordDir records every peer's audio and video into one playable file:
// VP8 + Opus as <dir>/<conference>/<peer>/recording.webm, H.264 + Opus as
// recording.mp4 (fragmented, so a crash leaves a file that plays up to its
// last second or so). Audio and video share one clock, from the sender's
// RTCP sender reports. A file starts at a keyframe; see WithRecordLimit for
// its size. Writing happens off the packet path; if the disk falls behind,
// media is dropped rather than queued without bound. Default "" (none).
func WithRecordDir(dir string) Option {
	return func(c *config) error {
		c.recordDir = dir
		return nil
	}
}

// DefaultRecordLimit is the default of WithRecordLimit: 1 GiB, about an hour
// of 2.5 Mbit/s video, a file every tool copies and opens at once.
const DefaultRecordLimit = record.DefaultLimit

// WithRecordLimit bounds one recording file to bytes (at least 64 KiB).
// When the next group of pictures would not fit, the file is closed cleanly
// at a keyframe and the recording goes on in recording-2.webm (or .mp4),
// recording-3, ...; a file that reaches the limit between keyframes is
// closed there and the next one starts at the next keyframe. Default
// DefaultRecordLimit.
func WithRecordLimit(bytes int64) Option {
	return func(c *config) error {
		if bytes < record.MinLimit {
			return fmt.Errorf("rtcplug: record limit %d below %d bytes", bytes, record.MinLimit)
		}
		c.recordLimit = bytes
		return nil
	}
}

// OnKeyframe is called for every decoded keyframe, from a decoder worker; a
// slow callback makes later keyframes drop rather than queue.
func OnKeyframe(fn func(Keyframe)) Option {
	return func(c *config) error {
		c.onKeyframe = fn
		return nil
	}
}

// OnPeerState is called whenever a peer's connection state changes, in
// order, from one goroutine of its own: a slow callback delays later calls
// (past 1024 waiting, changes are dropped), never the peers.
func OnPeerState(fn func(PeerState)) Option {
	return func(c *config) error {
		c.onPeerState = fn
		return nil
	}
}

// WithLogger sets the logger. Default: zerolog's console writer on stderr at
// info level, through zerolog.NewSlogHandler.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("rtcplug: WithLogger(nil)")
		}
		c.log = l
		return nil
	}
}

// WithZerolog logs to the host's zerolog logger.
func WithZerolog(l zerolog.Logger) Option {
	return func(c *config) error {
		c.log = slog.New(zerolog.NewSlogHandler(l))
		return nil
	}
}

// WithSignalingPath sets the WebSocket path, relative to the router given to
// Mount. Default "/ws".
func WithSignalingPath(path string) Option {
	return func(c *config) error {
		c.signalingPath = path
		return nil
	}
}

// WithWHIPPath sets where WHIP (RFC 9725) senders such as OBS, GStreamer or
// ffmpeg post their offers: POST {path}/{conference}. Default "/whip"; ""
// turns WHIP off.
func WithWHIPPath(path string) Option {
	return func(c *config) error {
		c.whipPath = path
		return nil
	}
}

// WithOriginPatterns allows cross-origin WebSocket clients whose Origin host
// matches one of the patterns (path.Match syntax, as
// websocket.AcceptOptions.OriginPatterns). Default: same origin only.
func WithOriginPatterns(patterns ...string) Option {
	return func(c *config) error {
		for _, p := range patterns {
			if p == "" || p == "*" {
				return fmt.Errorf("rtcplug: origin pattern %q would allow every origin", p)
			}
		}
		c.originPatterns = append(c.originPatterns, patterns...)
		return nil
	}
}

// WithAuthorize is asked before every join (a WebSocket JoinConference, a
// WHIP POST) and before a WHIP DELETE; a non-nil error refuses it and its
// text is sent to the client: an Error message (code "unauthorized") on the
// WebSocket, a 401 body with WWW-Authenticate: Bearer over WHIP. The
// identity it returns for a join (a user name, a camera id) is carried in
// PeerInfo, PeerState, Keyframe and Frame.
func WithAuthorize(fn func(r *http.Request, conference string) (identity string, err error)) Option {
	return func(c *config) error {
		c.authorize = fn
		return nil
	}
}

// WithAudio offers an Opus audio section (default true). Audio is decrypted
// and counted, and stored only with WithRecordDir.
func WithAudio(on bool) Option {
	return func(c *config) error {
		c.audio = on
		return nil
	}
}

// WithJPEGQuality sets the JPEG quality of snapshots, 1–100 (default 90).
func WithJPEGQuality(q int) Option {
	return func(c *config) error {
		if q < 1 || q > 100 {
			return fmt.Errorf("rtcplug: JPEG quality %d not in 1..100", q)
		}
		c.jpegQuality = q
		return nil
	}
}

// WithMaxConferences bounds the number of conferences (default 64).
func WithMaxConferences(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("rtcplug: max conferences %d < 1", n)
		}
		c.maxConferences = n
		return nil
	}
}

// WithMaxPeers bounds peers in all (total, default 256) and per conference
// (default 16).
func WithMaxPeers(total, perConference int) Option {
	return func(c *config) error {
		if total < 1 || perConference < 1 {
			return fmt.Errorf("rtcplug: max peers %d/%d < 1", total, perConference)
		}
		c.maxPeers, c.maxPerConf = total, perConference
		return nil
	}
}

// WithMaxPending bounds peers that joined but are not connected yet
// (default 64): the cost of half-open handshakes stays bounded.
func WithMaxPending(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("rtcplug: max pending %d < 1", n)
		}
		c.maxPending = n
		return nil
	}
}

// WithCandidateFilter keeps only the interface addresses for which keep
// returns true as host candidates (for example to hide container bridges, or
// loopback-only in tests). Public IPs and the STUN-mapped address are not
// filtered.
func WithCandidateFilter(keep func(netip.Addr) bool) Option {
	return func(c *config) error {
		c.candidateAddrs = keep
		return nil
	}
}

// WithDecodeWorkers sets how many keyframes are decoded at once. Default:
// one fewer than GOMAXPROCS, at least 1 and at most 4, so that decoding
// never holds every core while packets wait.
func WithDecodeWorkers(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("rtcplug: decode workers %d not in 1..64", n)
		}
		c.decodeWorkers = n
		return nil
	}
}

// Video codecs, as WithVideoCodecs takes them and Keyframe.Codec reports them.
const (
	CodecVP8  = "VP8"  // RFC 7741
	CodecH264 = "H264" // RFC 6184, packetization modes 0 and 1
)

// WithVideoCodecs chooses the video codecs the plugin receives, in order of
// preference (default "VP8", "H264"). The /ws offer lists them in this order
// and the browser picks; a WHIP answer takes the first of them the sender
// offers. Names are "VP8" and "H264" (case-insensitive); at least one, each
// once. Keyframes of both give images and JPEGs.
func WithVideoCodecs(codecs ...string) Option {
	return func(c *config) error {
		if len(codecs) == 0 {
			return errors.New("rtcplug: WithVideoCodecs needs at least one codec")
		}
		var list []string
		for _, name := range codecs {
			n := strings.ToUpper(strings.TrimSpace(name))
			if n == "H.264" {
				n = CodecH264
			}
			if n != CodecVP8 && n != CodecH264 {
				return fmt.Errorf("rtcplug: unknown video codec %q (VP8 or H264)", name)
			}
			for _, have := range list {
				if have == n {
					return fmt.Errorf("rtcplug: video codec %s listed twice", n)
				}
			}
			list = append(list, n)
		}
		c.videoCodecs = list
		return nil
	}
}

// WithSnapshotRate decodes at most n keyframes of each peer per period (a
// token bucket of depth n); the others are skipped and counted
// (Stats.RateLimitedKeyframes). Default 2 per second; n = 0 removes the
// limit. Keyframes normally come every few seconds: the limit only bites a
// sender that floods them.
func WithSnapshotRate(n int, per time.Duration) Option {
	return func(c *config) error {
		if n < 0 || n > 0 && per <= 0 {
			return fmt.Errorf("rtcplug: snapshot rate %d per %v", n, per)
		}
		c.snapshotRate, c.snapshotPer = n, per
		return nil
	}
}

// codecs is the configured video codec list, in order of preference.
func (c *config) codecs() []string {
	if len(c.videoCodecs) == 0 {
		return []string{CodecVP8, CodecH264}
	}
	return c.videoCodecs
}

// WithSnapshotDiskLimit bounds the bytes of JPEGs the plugin writes under
// WithSnapshotDir over its lifetime (default 1 GiB; 0 = no bound). When the
// budget is spent no more files are written (stop and count: nothing is
// deleted; Stats.DiskLimitedKeyframes counts each skipped one) and, unless
// OnKeyframe wants the images, keyframes are no longer decoded. Files already
// in the directory are not counted.
func WithSnapshotDiskLimit(bytes int64) Option {
	return func(c *config) error {
		if bytes < 0 {
			return fmt.Errorf("rtcplug: snapshot disk limit %d < 0", bytes)
		}
		c.snapshotDisk = bytes
		return nil
	}
}
