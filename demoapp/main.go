// Command demoapp is a small chi application that mounts rtcplug next to its
// own routes, the way a host application would. It serves a page that shares
// the camera of the browser and shows the keyframes the server captured.
//
//	go run ./demoapp            # http://localhost:8080, UDP 15000, JPEGs in ./output
//	go run ./demoapp -h         # every flag and its environment variable
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// config is everything a user can set, from flags or the environment.
type config struct {
	HTTPAddr  string       // -http: where the page and /ws listen
	UDPPort   int          // -udp-port: the one UDP port for every peer; 0 = any free port
	PublicIPs []netip.Addr // -public-ip: extra addresses to advertise (NAT 1:1, Docker host)
	STUN      string       // -stun: host:port of a STUN server to learn the public address
	OutputDir string       // -output: keyframe JPEGs land in <output>/<conference>/<peer>/
	RecordDir string       // -record: one recording per peer under <record>/<conference>/<peer>/; "" = none
	LogLevel  zerolog.Level
	TLS       bool   // -tls: HTTPS with a self-signed certificate made at start
	TLSCert   string // -tls-cert and -tls-key: HTTPS with the given certificate
	TLSKey    string
	WHIPToken string        // -whip-token: the Bearer token WHIP senders must send; "" = open
	Cluster   clusterConfig // cluster.go: -nats, -node, -max-per-conference, -nats-embedded
}

func (c config) https() bool { return c.TLS || c.TLSCert != "" }

// Timeouts for a clean stop: HTTP requests in flight get shutdownGrace, then
// the plugin gets pluginGrace to close its sockets and goroutines (a
// WebSocket close handshake alone may take 5 s with a client that does not
// answer).
const (
	shutdownGrace = 5 * time.Second
	pluginGrace   = 10 * time.Second
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demoapp:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "demoapp:", err)
		os.Exit(1)
	}
}

// envFlags pairs each flag with the environment variable that sets its
// default; a flag on the command line wins over the environment.
var envFlags = [][2]string{
	{"http", "RTCPLUG_HTTP"},
	{"udp-port", "RTCPLUG_UDP_PORT"},
	{"public-ip", "RTCPLUG_PUBLIC_IPS"},
	{"stun", "RTCPLUG_STUN"},
	{"output", "RTCPLUG_OUTPUT"},
	{"record", "RTCPLUG_RECORD"},
	{"log-level", "RTCPLUG_LOG_LEVEL"},
	{"tls", "RTCPLUG_TLS"},
	{"tls-cert", "RTCPLUG_TLS_CERT"},
	{"tls-key", "RTCPLUG_TLS_KEY"},
	{"whip-token", "RTCPLUG_WHIP_TOKEN"},
	{"nats", "RTCPLUG_NATS"},
	{"node", "RTCPLUG_NODE"},
	{"max-per-conference", "RTCPLUG_MAX_PER_CONFERENCE"},
	{"nats-embedded", "RTCPLUG_NATS_EMBEDDED"},
}

// parseConfig reads the environment first and the command line second.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{}
	var level string
	ips := &ipList{dst: &cfg.PublicIPs}

	fs := flag.NewFlagSet("demoapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.HTTPAddr, "http", ":8080", "`address` for the page, the snapshot API and the WebSocket signaling")
	fs.IntVar(&cfg.UDPPort, "udp-port", 15000, "the one UDP `port` every peer sends media to (0 = any free port)")
	fs.Var(ips, "public-ip", "an `address` to advertise as an extra ICE candidate, for example the LAN or NAT address\nof this machine; repeat the flag or give a comma-separated list")
	fs.StringVar(&cfg.STUN, "stun", "", "`host:port` of a STUN server to learn the public address (default none)")
	fs.StringVar(&cfg.OutputDir, "output", "output", "`directory` for the keyframe JPEGs, as <dir>/<conference>/<peer>/keyframe-000001.jpg")
	fs.StringVar(&cfg.RecordDir, "record", "", "`directory` for one playable recording per peer (recording.webm for VP8,\nrecording.mp4 for H.264, with the audio), as <dir>/<conference>/<peer>/ (default none)")
	fs.StringVar(&level, "log-level", "info", "`level` of the log: debug, info, warn or error (debug narrates every protocol step)")
	fs.BoolVar(&cfg.TLS, "tls", false, "serve HTTPS with a self-signed certificate made at start (browsers allow the camera\nonly on https or localhost); its SHA-256 fingerprint is logged")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate `file` to serve HTTPS with (needs -tls-key)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key `file` for -tls-cert")
	fs.StringVar(&cfg.WHIPToken, "whip-token", "", "Bearer `token` WHIP senders (OBS, GStreamer, ffmpeg) must send (default none:\nanyone who reaches the server may publish over WHIP, as over the page)")
	cfg.Cluster.flags(fs) // cluster.go
	fs.Usage = func() {
		fmt.Fprintf(stderr, `demoapp mounts rtcplug in a chi application and serves a page that sends the
camera of the browser to it. Keyframes are saved as JPEG files.

Usage: demoapp [flags]

Each flag can also be set with the environment variable shown; a flag given on
the command line wins.

`)
		env := map[string]string{}
		for _, p := range envFlags {
			env[p[0]] = p[1]
		}
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  -%s", f.Name)
			if name != "" {
				fmt.Fprintf(stderr, " %s", name)
			}
			fmt.Fprintf(stderr, "   [$%s]\n", env[f.Name])
			fmt.Fprintf(stderr, "\t%s", strings.ReplaceAll(usage, "\n", "\n\t"))
			if _, err := strconv.Atoi(f.DefValue); err == nil {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			} else if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(stderr, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}

	for _, p := range envFlags {
		if v := getenv(p[1]); v != "" {
			if err := fs.Set(p[0], v); err != nil {
				return config{}, fmt.Errorf("environment variable %s=%q: %w", p[1], v, err)
			}
		}
	}
	ips.fromEnv = len(cfg.PublicIPs) > 0
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}

	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" {
		return config{}, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	cfg.LogLevel = lvl
	if cfg.UDPPort < 0 || cfg.UDPPort > 65535 {
		return config{}, fmt.Errorf("-udp-port %d: want 0..65535", cfg.UDPPort)
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return config{}, errors.New("-tls-cert and -tls-key go together")
	}
	if cfg.OutputDir == "" {
		return config{}, errors.New("-output must not be empty")
	}
	if err := cfg.Cluster.check(); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// ipList is a flag.Value that collects addresses from repeated flags and
// comma-separated lists. Values from the environment are replaced, not
// extended, by the first -public-ip on the command line.
type ipList struct {
	dst     *[]netip.Addr
	fromEnv bool
}

func (l *ipList) String() string {
	if l == nil || l.dst == nil {
		return ""
	}
	s := make([]string, len(*l.dst))
	for i, a := range *l.dst {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

func (l *ipList) Set(v string) error {
	if l.fromEnv {
		*l.dst, l.fromEnv = nil, false
	}
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return fmt.Errorf("not an IP address: %q", part)
		}
		*l.dst = append(*l.dst, a.Unmap())
	}
	return nil
}

// newLogger writes zerolog's console format, which is what a person at a
// terminal wants to read; colored only on a terminal and without NO_COLOR.
func newLogger(w io.Writer, level zerolog.Level) zerolog.Logger {
	color := false
	if f, ok := w.(*os.File); ok && os.Getenv("NO_COLOR") == "" {
		fi, err := f.Stat()
		color = err == nil && fi.Mode()&os.ModeCharDevice != 0
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !color}).
		Level(level).With().Timestamp().Logger()
}

// run serves until ctx ends, then stops cleanly.
func run(ctx context.Context, cfg config, stderr io.Writer) error {
	logger := newLogger(stderr, cfg.LogLevel)

	var tlsConfig *tls.Config
	if cfg.https() {
		c, err := loadOrMakeCertificate(cfg, logger)
		if err != nil {
			return err
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	a, err := newApp(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	logListening(logger, ln.Addr(), cfg, a.plugin.UDPAddr())
	return a.serve(ctx, ln)
}

// httpServer is the demo's HTTP server: every timeout a server facing the
// internet needs, none that would cut a WebSocket.
func (a *app) httpServer(ctx context.Context) *http.Server {
	return &http.Server{
		Handler:           a.router,
		ReadHeaderTimeout: 10 * time.Second,
		// ReadTimeout bounds a whole request body (a WHIP offer is at most
		// 64 KiB) and IdleTimeout an unused keep-alive connection. Neither
		// reaches a WebSocket: once hijacked, the connection is rtcplug's,
		// which pings it and closes it when the client stops answering.
		// WriteTimeout stays 0: it would cut the snapshot downloads of slow
		// clients, and rtcplug bounds its own writes.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 30 * time.Second,
		ErrorLog:    log.New(levelWriter{a.log, zerolog.DebugLevel}, "", 0),
		// Requests, and the WebSockets among them, end with the application.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
}

// serve answers HTTP on ln until ctx ends or the server fails. Then it shuts
// the HTTP server down and waits for the plugin, which ends with the same ctx.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	srv := a.httpServer(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	var err error
	select {
	case <-ctx.Done():
		a.log.Info().Msg("shutting down")
	case err = <-errc:
		err = fmt.Errorf("http server: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		// A request still running, or a connection a browser opened ahead of
		// time and never used (net/http waits 5 s for those), is cut: stopping
		// on Ctrl-C must not depend on what a browser keeps open.
		a.log.Warn().Err(serr).Msg("closing HTTP connections that did not finish in time")
		srv.Close()
	}
	a.close()
	select {
	case <-a.plugin.Done():
	case <-time.After(pluginGrace):
		if err == nil {
			err = errors.New("rtcplug did not stop in time")
		}
	}
	if err == nil {
		a.log.Info().Msg("stopped")
	}
	return err
}

// levelWriter turns the lines of a standard library logger into zerolog events.
type levelWriter struct {
	log   zerolog.Logger
	level zerolog.Level
}

func (w levelWriter) Write(p []byte) (int, error) {
	w.log.WithLevel(w.level).Msg(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// logListening tells the user where to point a browser.
func logListening(l zerolog.Logger, addr net.Addr, cfg config, udp netip.AddrPort) {
	scheme := "http"
	if cfg.https() {
		scheme = "https"
	}
	port := "8080"
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
	}
	host := "localhost"
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
		host = ta.IP.String()
	}
	l.Info().Str("url", scheme+"://"+net.JoinHostPort(host, port)+"/").
		Str("udp", udp.String()).Str("output", cfg.OutputDir).Msg("listening; open the url in a browser")
	whip := scheme + "://" + net.JoinHostPort(host, port) + rtcplug.DefaultWHIPPath + "/{conference}"
	if cfg.WHIPToken != "" {
		l.Info().Str("whip", whip).Msg("WHIP senders post here with Authorization: Bearer <the -whip-token>")
	} else {
		l.Warn().Str("whip", whip).Msg("WHIP is open: anyone who reaches this server may publish (set -whip-token to require a Bearer token)")
	}
	if ta, ok := addr.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		for _, ip := range lanAddrs() {
			u := scheme + "://" + net.JoinHostPort(ip.String(), port) + "/"
			if cfg.https() {
				l.Info().Str("url", u).Msg("from another machine")
			} else {
				l.Info().Str("url", u).Msg("from another machine (browsers allow the camera only with -tls there)")
			}
		}
	}
}

// lanAddrs lists the addresses of the up, non-loopback interfaces.
func lanAddrs() []netip.Addr {
	var out []netip.Addr
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err != nil || p.Addr().IsLinkLocalUnicast() {
				continue
			}
			out = append(out, p.Addr())
		}
	}
	return out
}
