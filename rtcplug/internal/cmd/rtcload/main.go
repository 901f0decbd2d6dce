// Command rtcload measures a WebRTC receiver under load on loopback: it
// starts N WHIP senders (pion/webrtc, no NACK responder, so loss is raw
// loss) that stream an IVF file of VP8 in a loop, against rtcplug running
// in a child process, and against a pion/webrtc reference receiver
// (ICE-lite on one UDP port, 4 MiB socket buffer, every keyframe decoded
// with x/image/vp8 and written with image/jpeg at quality 75), one after
// the other in the same run. It prints the server's CPU share and maximum
// RSS, raw packet loss (sent against received), connect and first-image
// latency.
//
//	go run ./rtcplug/internal/cmd/rtcload -n 50,100,200 -duration 20s
//	go run ./rtcplug/internal/cmd/rtcload -latency 20        # sequential single sessions
//	go run ./rtcplug/internal/cmd/rtcload -url http://127.0.0.1:8080/whip -n 10
//	go run ./rtcplug/internal/cmd/rtcload -sender ours -mode rtcplug -snapshots=false -n 1000
//
// -sender ours replaces the pion senders with the project's own ICE, DTLS
// and SRTP stack, paced from one goroutine (sender_ours.go): one core then
// drives well over a thousand 1 Mbit/s streams, where pion's saturates near
// 400.
//
// With taskset installed, the server is pinned to -server-cpu and the
// senders to -client-cpu. -inprocess runs the receiver in the tool's own
// process instead (then CPU and RSS include the senders'). Everything stays
// on 127.0.0.1.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/testivf"
)

type options struct {
	ns         []int
	duration   time.Duration
	modes      []string
	snapshots  bool
	ivf        string
	fps        int
	serverCPU  string
	clientCPU  string
	url        string
	latency    int
	ramp       time.Duration
	connectMax time.Duration
	inprocess  bool
	sender     string
	sources    int
}

func main() {
	var (
		o     options
		n     = flag.String("n", "50", "senders, or a comma list of runs (50,100,200)")
		mode  = flag.String("mode", "both", "receiver: rtcplug, pion or both")
		serve = flag.String("serve", "", "internal: run a receiver (rtcplug or pion) in this process")
		max   = flag.Int("max-peers", 512, "internal: peer limit of the served receiver")
		dir   = flag.String("dir", "", "internal: snapshot directory of the served receiver")
	)
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long every sender streams once connected")
	flag.BoolVar(&o.snapshots, "snapshots", true, "write every keyframe as a JPEG")
	flag.StringVar(&o.ivf, "ivf", "testdata/vp8-640x480.ivf", "the VP8 IVF file every sender streams in a loop")
	flag.IntVar(&o.fps, "fps", 30, "frames per second")
	flag.StringVar(&o.serverCPU, "server-cpu", "0", "taskset CPU list for the receiver ('' = no pinning)")
	flag.StringVar(&o.clientCPU, "client-cpu", "1", "taskset CPU list for the senders ('' = no pinning)")
	flag.StringVar(&o.url, "url", "", "WHIP base URL of a running host (e.g. http://127.0.0.1:8080/whip) instead of a child receiver")
	flag.IntVar(&o.latency, "latency", 0, "instead of a load run: this many sequential single-peer sessions, for setup latency")
	flag.DurationVar(&o.ramp, "ramp", 5*time.Millisecond, "pause between starting two senders")
	flag.DurationVar(&o.connectMax, "connect-timeout", 30*time.Second, "how long a sender may take to connect")
	flag.BoolVar(&o.inprocess, "inprocess", false, "run the receiver in this process (CPU and RSS then include the senders)")
	flag.StringVar(&o.sender, "sender", "pion", "senders: pion (pion/webrtc) or ours (the project's own ICE, DTLS and SRTP, light enough for N in the thousands)")
	flag.IntVar(&o.sources, "sources", 1, "ours senders: spread over this many source addresses 127.0.0.1, .2, ... (per-source limits of a running host)")
	flag.Parse()
	if *serve != "" {
		if err := runServe(*serve, *max, o.snapshots, *dir); err != nil {
			fmt.Fprintln(os.Stderr, "rtcload:", err)
			os.Exit(1)
		}
		return
	}
	for _, s := range strings.Split(*n, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 1 {
			fmt.Fprintf(os.Stderr, "rtcload: bad -n %q\n", s)
			os.Exit(2)
		}
		o.ns = append(o.ns, v)
	}
	switch *mode {
	case "both":
		o.modes = []string{"rtcplug", "pion"}
	case "rtcplug", "pion":
		o.modes = []string{*mode}
	default:
		fmt.Fprintf(os.Stderr, "rtcload: bad -mode %q\n", *mode)
		os.Exit(2)
	}
	if pinSelf(o.clientCPU) {
		return
	}
	if err := drive(o); err != nil {
		fmt.Fprintln(os.Stderr, "rtcload:", err)
		os.Exit(1)
	}
}

func runServe(mode string, max int, snapshots bool, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "rtcload-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	stop := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // until the driver closes it
		close(stop)
	}()
	return serve(mode, max, snapshots, dir, func(base string) { fmt.Printf("URL %s\n", base) }, stop)
}

// pinSelf re-runs the driver under taskset (so that every thread of the Go
// runtime is pinned); true when the pinned child has run.
func pinSelf(cpus string) bool {
	if cpus == "" || os.Getenv("RTCLOAD_PINNED") != "" {
		return false
	}
	ts, err := exec.LookPath("taskset")
	if err != nil {
		return false
	}
	self, err := os.Executable()
	if err != nil {
		return false
	}
	cmd := exec.Command(ts, append([]string{"-c", cpus, self}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), "RTCLOAD_PINNED=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "rtcload:", err)
		os.Exit(1)
	}
	return true
}

// server is a receiver in a child process (or, with -inprocess, in this one).
type server struct {
	pid  int    // whose CPU and RSS are measured
	base string // http://127.0.0.1:port
	dir  string
	stop func()
}

func startServer(mode string, o options, maxPeers int) (*server, error) {
	if o.inprocess {
		return startInProcess(mode, o, maxPeers)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rtcload-snapshots-*")
	if err != nil {
		return nil, err
	}
	args := []string{self, "-serve", mode, "-max-peers", strconv.Itoa(maxPeers), "-dir", dir,
		"-snapshots=" + strconv.FormatBool(o.snapshots)}
	if ts, err := exec.LookPath("taskset"); err == nil && o.serverCPU != "" {
		args = append([]string{ts, "-c", o.serverCPU}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "RTCLOAD_PINNED=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{pid: cmd.Process.Pid, dir: dir}
	s.stop = func() {
		_ = in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = os.RemoveAll(dir)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if !strings.HasPrefix(line, "URL ") {
		s.stop()
		return nil, fmt.Errorf("%s receiver did not start: %q %v", mode, line, err)
	}
	s.base = strings.TrimSpace(strings.TrimPrefix(line, "URL "))
	return s, nil
}

// startInProcess runs the receiver in this process: simpler to debug, but
// its CPU and RSS then include the senders'.
func startInProcess(mode string, o options, maxPeers int) (*server, error) {
	dir, err := os.MkdirTemp("", "rtcload-snapshots-*")
	if err != nil {
		return nil, err
	}
	stop, done, up := make(chan struct{}), make(chan error, 1), make(chan string, 1)
	go func() { done <- serve(mode, maxPeers, o.snapshots, dir, func(b string) { up <- b }, stop) }()
	s := &server{pid: os.Getpid(), dir: dir, stop: func() {
		close(stop)
		<-done
		_ = os.RemoveAll(dir)
	}}
	select {
	case s.base = <-up:
		return s, nil
	case err := <-done:
		_ = os.RemoveAll(dir)
		return nil, err
	}
}

func (s *server) stats() (serverStats, error) {
	var st serverStats
	resp, err := http.Get(s.base + "/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

func drive(o options) error {
	frames, err := testivf.Read(o.ivf)
	if err != nil {
		return fmt.Errorf("%s: %w", o.ivf, err)
	}
	api, err := newDialer(o.sender, frames, o.fps, o.sources)
	if err != nil {
		return err
	}
	checkFileLimit(slices.Max(o.ns))
	fmt.Printf("# rtcload: %s, %d frames at %d fps, %v per run, snapshots %v; receiver on CPU %q, %s senders on CPU %q; %s\n",
		filepath.Base(o.ivf), len(frames), o.fps, o.duration, o.snapshots, o.serverCPU, o.sender, o.clientCPU, loadavg())
	if o.url != "" {
		r, err := runLoad(o, api, frames, nil, strings.TrimSuffix(o.url, "/"), o.ns[0])
		if err != nil {
			return err
		}
		fmt.Printf("host %s: %d of %d senders connected, %d packets sent, connect ms (median / p95) %s; "+
			"loss, CPU and images are the host's to report\n", o.url, r.connected, o.ns[0], r.sent, pct(r.connect))
		return nil
	}
	if o.latency > 0 {
		fmt.Println("| receiver | sessions | connect ms (median / p95) | first RTP ms | first JPEG on disk ms |")
		fmt.Println("|---|---|---|---|---|")
		for _, m := range o.modes {
			if err := runLatency(o, api, frames, m); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Println("| receiver | N | connected | packets/s | raw loss | server CPU | CPU µs/packet | max RSS | JPEGs | keyframes dropped | RcvbufErrors | connect ms (median / p95) | first JPEG ms (median / p95) | load avg |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, n := range o.ns {
		for _, m := range o.modes {
			srv, err := startServer(m, o, n)
			if err != nil {
				return err
			}
			r, err := runLoad(o, api, frames, srv, srv.base+"/whip", n)
			srv.stop()
			if err != nil {
				return err
			}
			fmt.Printf("| %s | %d | %d | %.0f | %.3f%% | %.1f%% | %.1f | %.0f MB | %d | %d | %d | %s | %s | %s |\n",
				m, n, r.connected, r.rate, r.loss*100, r.cpu*100, r.usPerPacket, float64(r.rssKB)/1024, r.images, r.dropped,
				r.rcvbufErrors, pct(r.connect), pct(r.firstImage), r.load)
		}
	}
	return nil
}

type result struct {
	connected           int
	sent, received      uint64
	loss, cpu           float64
	usPerPacket         float64 // server CPU per packet received in the window
	rate                float64 // packets received per second in the window
	rssKB               int64
	images, dropped     uint64
	rcvbufErrors        int64
	connect, firstImage []time.Duration
	load                string
	failures            []string
}

func runLoad(o options, api dialer, frames [][]byte, srv *server, whip string, n int) (result, error) {
	var r result
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rcvbuf0 := rcvbufErrors()
	var (
		mu      sync.Mutex
		senders = make([]*sender, n)
		confs   = make([]string, n)
		wg      sync.WaitGroup
	)
	streamCtx, stopStreams := context.WithCancel(ctx)
	var streams sync.WaitGroup
	for i := range n {
		confs[i] = fmt.Sprintf("load%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, ccancel := context.WithTimeout(ctx, o.connectMax)
			defer ccancel()
			s, err := api.connect(cctx, whip+"/"+confs[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.failures = append(r.failures, err.Error())
				return
			}
			senders[i] = s
			streams.Add(1)
			go func() { defer streams.Done(); s.stream(streamCtx, frames, o.fps) }()
		}()
		time.Sleep(o.ramp)
	}
	wg.Wait()
	// The measured window: every sender that could connect is streaming.
	var cpu0 float64
	var pkts0 uint64
	if srv != nil {
		cpu0 = procCPU(srv.pid)
		if st, err := srv.stats(); err == nil {
			pkts0 = st.Packets
		}
	}
	sched := startSched(srv)
	t0 := time.Now()
	time.Sleep(o.duration)
	sched.report(fmt.Sprintf("%d %s senders", n, o.sender))
	var cpu1 float64
	if srv != nil {
		cpu1 = procCPU(srv.pid)
		if st, err := srv.stats(); err == nil && st.Packets > pkts0 {
			r.usPerPacket = (cpu1 - cpu0) * 1e6 / float64(st.Packets-pkts0)
			r.rate = float64(st.Packets-pkts0) / time.Since(t0).Seconds()
		}
	}
	r.cpu = (cpu1 - cpu0) / time.Since(t0).Seconds()
	r.load = loadavg()
	stopStreams()
	streams.Wait()
	reportSenders(api)
	settle(srv, senders)
	for _, s := range senders {
		if s == nil {
			continue
		}
		r.connected++
		r.sent += s.sent.Load()
		r.connect = append(r.connect, s.connected.Sub(s.post))
	}
	if srv != nil {
		st, err := srv.stats()
		if err != nil {
			return r, err
		}
		r.received, r.images, r.dropped = st.Packets, st.Images, st.Dropped
		if st.InboxDrops+st.SocketDrops > 0 {
			fmt.Fprintf(os.Stderr, "rtcload: %s dropped %d datagrams at the socket, %d in its own queues\n",
				whip, st.SocketDrops, st.InboxDrops)
		}
		if r.sent > 0 {
			r.loss = 1 - float64(r.received)/float64(r.sent)
		}
		for i, s := range senders {
			if at, ok := st.FirstJPEG[confs[i]]; ok && s != nil {
				r.firstImage = append(r.firstImage, time.Unix(0, at).Sub(s.post))
			}
		}
		r.rssKB = procHWM(srv.pid)
	}
	r.rcvbufErrors = rcvbufErrors() - rcvbuf0
	for _, s := range senders {
		if s != nil {
			s.close()
		}
	}
	if len(r.failures) > 0 {
		fmt.Fprintf(os.Stderr, "rtcload: %d senders did not connect, first: %s\n", len(r.failures), r.failures[0])
	}
	return r, nil
}

// settle waits for the last packets to land: until the receiver has
// counted all that were sent, or its count has not moved for a second.
func settle(srv *server, senders []*sender) {
	if srv == nil {
		time.Sleep(time.Second)
		return
	}
	var sent uint64
	for _, s := range senders {
		if s != nil {
			sent += s.sent.Load()
		}
	}
	var last uint64
	for quiet := 0; quiet < 10; {
		time.Sleep(100 * time.Millisecond)
		st, err := srv.stats()
		if err != nil || st.Packets >= sent {
			return
		}
		if st.Packets == last {
			quiet++
		} else {
			last, quiet = st.Packets, 0
		}
	}
}

// runLatency runs sequential single-peer sessions: each streams until its
// first JPEG is on disk (or 5 s), then closes.
func runLatency(o options, api dialer, frames [][]byte, mode string) error {
	srv, err := startServer(mode, o, 8)
	if err != nil {
		return err
	}
	defer srv.stop()
	var conns, firstRTP, firstJPEG []time.Duration
	for i := range o.latency {
		conf := fmt.Sprintf("lat%d", i)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := api.connect(ctx, srv.base+"/whip/"+conf)
		if err != nil {
			cancel()
			return err
		}
		go s.stream(ctx, frames, o.fps)
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
			st, err := srv.stats()
			if err != nil {
				cancel()
				return err
			}
			if at, ok := st.FirstJPEG[conf]; ok {
				firstJPEG = append(firstJPEG, time.Unix(0, at).Sub(s.post))
				break
			}
		}
		cancel()
		s.close()
		conns = append(conns, s.connected.Sub(s.post))
		if !s.firstRTP.IsZero() {
			firstRTP = append(firstRTP, s.firstRTP.Sub(s.post))
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("| %s | %d | %s | %s | %s (%d images) |\n", mode, o.latency, pct(conns), pct(firstRTP), pct(firstJPEG), len(firstJPEG))
	return nil
}

// pct formats the median and 95th percentile in milliseconds.
func pct(d []time.Duration) string {
	if len(d) == 0 {
		return "–"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	q := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	return fmt.Sprintf("%.1f / %.1f", q(0.5), q(0.95))
}
