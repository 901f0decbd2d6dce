package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/nutsbolts/webrtc/rtcplug/rtcnats"
)

// clusterConfig is how the demo joins a cluster of nodes over NATS
// JetStream (see SCALING.md).
type clusterConfig struct {
	NATS             string // -nats: server URL(s); "" = no cluster
	Node             string // -node: this node's name (default: host name)
	MaxPerConference int    // -max-per-conference: cluster-wide limit, 0 = none
	// Embedded is -nats-embedded: the address of an in-process NATS server
	// with JetStream, for a one-machine trial ("" = none). It stores in a
	// temporary directory, removed at the end.
	Embedded string
}

func (c *clusterConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.NATS, "nats", "", "NATS `url` (comma-separated for several servers) to join a cluster of demo nodes:\nshared per-conference limits, events and keyframes on the RTCPLUG stream (see SCALING.md)")
	fs.StringVar(&c.Node, "node", "", "this node's `name` in the cluster, unique: 1-64 of A-Z a-z 0-9 _ - (default the host name)")
	fs.IntVar(&c.MaxPerConference, "max-per-conference", 0, "cluster-wide limit of `peers` per conference (0 = none; each node's own limit holds)")
	fs.StringVar(&c.Embedded, "nats-embedded", "", "start an in-process NATS server with JetStream on this `address` (e.g. 127.0.0.1:4222)\nand join it, for a one-machine trial; other nodes join with -nats nats://<address>")
}

func (c *clusterConfig) check() error {
	if c.NATS == "" && c.Embedded == "" {
		if c.Node != "" || c.MaxPerConference != 0 {
			return errors.New("-node and -max-per-conference need -nats or -nats-embedded")
		}
		return nil
	}
	if c.MaxPerConference < 0 {
		return fmt.Errorf("-max-per-conference %d: want 0 or more", c.MaxPerConference)
	}
	if c.Node == "" {
		h, err := os.Hostname()
		if err != nil {
			return errors.New("-node is needed: no host name")
		}
		c.Node = nodeName(h)
	}
	if c.Embedded != "" {
		if _, _, err := net.SplitHostPort(c.Embedded); err != nil {
			return fmt.Errorf("-nats-embedded %q: want host:port", c.Embedded)
		}
	}
	return nil
}

// nodeName makes a host name a valid node name.
func nodeName(h string) string {
	b := []byte(h)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-') {
			b[i] = '-'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// clusterRun is the demo's side of the cluster: the NATS connection (and
// the embedded server) live until the plugin has stopped.
type clusterRun struct {
	cluster  *rtcnats.Cluster
	nc       *nats.Conn
	embedded *server.Server
	storeDir string // the embedded server's, removed by close
	closed   chan struct{}
	log      zerolog.Logger
}

// startCluster connects to NATS (starting the embedded server first if
// asked) and prepares the cluster; nil without -nats / -nats-embedded.
func startCluster(ctx context.Context, cfg clusterConfig, log zerolog.Logger) (*clusterRun, error) {
	if cfg.NATS == "" && cfg.Embedded == "" {
		return nil, nil
	}
	cr := &clusterRun{log: log}
	url := cfg.NATS
	if cfg.Embedded != "" {
		host, port, _ := net.SplitHostPort(cfg.Embedded)
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("-nats-embedded: port %q", port)
		}
		if p == 0 {
			p = server.RANDOM_PORT // the server reads 0 as its default port
		}
		dir, err := os.MkdirTemp("", "rtcplug-nats-")
		if err != nil {
			return nil, err
		}
		cr.storeDir = dir
		s, err := server.NewServer(&server.Options{Host: host, Port: p, JetStream: true,
			StoreDir: dir, NoLog: true, NoSigs: true, ServerName: cfg.Node})
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("embedded NATS: %w", err)
		}
		go s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			s.Shutdown()
			_ = os.RemoveAll(dir)
			return nil, errors.New("embedded NATS did not start")
		}
		cr.embedded = s
		url = s.ClientURL()
		log.Info().Str("url", url).Str("store", dir).Msg("embedded NATS server with JetStream started")
	}
	nc, err := nats.Connect(url, nats.Name("rtcplug demoapp "+cfg.Node), nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn().Err(err).Msg("NATS connection lost; media goes on, events are dropped until it is back")
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info().Str("url", c.ConnectedUrl()).Msg("NATS connection back") }))
	if err != nil {
		cr.close()
		return nil, fmt.Errorf("connect to NATS %s: %w", url, err)
	}
	cr.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		cr.close()
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cr.cluster, err = rtcnats.New(sctx, js, rtcnats.Config{Node: cfg.Node, MaxPerConference: cfg.MaxPerConference,
		Logger: zerologSlog(log)})
	if err != nil {
		cr.close()
		return nil, err
	}
	log.Info().Str("node", cfg.Node).Int("max_per_conference", cfg.MaxPerConference).
		Msg("joined the cluster: events on stream " + rtcnats.StreamName + " (subjects rtcplug.>)")
	return cr, nil
}

// closeAfter closes the connection (and the embedded server) once done is.
func (cr *clusterRun) closeAfter(done <-chan struct{}) {
	if cr == nil {
		return
	}
	cr.closed = make(chan struct{})
	go func() {
		defer close(cr.closed)
		<-done
		cr.close()
	}()
}

// wait returns once closeAfter has closed everything.
func (cr *clusterRun) wait() {
	if cr != nil && cr.closed != nil {
		<-cr.closed
	}
}

func (cr *clusterRun) close() {
	if cr == nil {
		return
	}
	if cr.nc != nil {
		_ = cr.nc.Drain()
		// Drain returns at once; wait (bounded) for it to finish.
		for i := 0; i < 50 && !cr.nc.IsClosed(); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		cr.nc.Close()
	}
	if cr.embedded != nil {
		cr.embedded.Shutdown()
		cr.embedded.WaitForShutdown()
	}
	if cr.storeDir != "" {
		_ = os.RemoveAll(cr.storeDir)
	}
}

func zerologSlog(l zerolog.Logger) *slog.Logger { return slog.New(zerolog.NewSlogHandler(l)) }
