package rtcnats_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	pionice "github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"github.com/nutsbolts/webrtc/rtcplug"
	"github.com/nutsbolts/webrtc/rtcplug/rtcnats"
)

const ivfPath = "../../testdata/vp8-640x480.ivf"

// testTTL is short so that a lost node is noticed quickly, and long enough
// that a NATS restart (well under it) loses no entry.
const testTTL = 6 * time.Second

func testLogger() *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// natsServer is an in-process JetStream server on loopback.
type natsServer struct {
	t    testing.TB
	dir  string
	port int
	s    *server.Server
}

func startNATS(t testing.TB) *natsServer {
	ns := &natsServer{t: t, dir: t.TempDir(), port: server.RANDOM_PORT}
	ns.start()
	t.Cleanup(ns.stop)
	return ns
}

func (ns *natsServer) start() {
	ns.t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: ns.port, JetStream: true,
		StoreDir: ns.dir, NoLog: true, NoSigs: true})
	if err != nil {
		ns.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		ns.t.Fatal("NATS server not ready")
	}
	ns.s = s
	ns.port = s.Addr().(*net.TCPAddr).Port // a restart comes back on the same port
}

func (ns *natsServer) stop() {
	if ns.s != nil {
		ns.s.Shutdown()
		ns.s.WaitForShutdown()
		ns.s = nil
	}
}

func (ns *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", ns.port) }

// node is one host instance: a plugin on its own UDP port and HTTP server,
// with its own NATS connection.
type node struct {
	name   string
	nc     *nats.Conn
	plugin *rtcplug.Plugin
	http   *httptest.Server
	once   sync.Once
}

func connectNATS(t testing.TB, url, name string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

func newNode(t *testing.T, url, name string, maxPerConf int, edit ...func(*rtcnats.Config)) *node {
	t.Helper()
	n := &node{name: name, nc: connectNATS(t, url, name)}
	js, err := jetstream.New(n.nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := rtcnats.Config{Node: name, MaxPerConference: maxPerConf, TTL: testTTL, Logger: testLogger()}
	for _, e := range edit {
		e(&cfg)
	}
	cl, err := rtcnats.New(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	n.plugin, err = rtcplug.Mount(r, rtcplug.WithUDPPort(0), rtcplug.WithCluster(cl), rtcplug.WithLogger(testLogger()),
		rtcplug.WithCandidateFilter(func(a netip.Addr) bool { return a.Is4() && a.IsLoopback() }))
	if err != nil {
		t.Fatal(err)
	}
	n.http = httptest.NewServer(r)
	t.Cleanup(func() {
		n.kill()
		_ = n.plugin.Close()
	})
	return n
}

// kill takes the node out of the cluster without a goodbye: its HTTP server
// and NATS connection go; its peers' media goes on, unseen by the cluster.
func (n *node) kill() {
	n.once.Do(func() {
		n.http.CloseClientConnections()
		n.http.Close()
		n.nc.Close()
	})
}

// sender is a pion WHIP client with default settings.
type sender struct {
	pc        *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticSample
	connected chan struct{}
	closed    chan struct{}
	id, loc   string
	stop      chan struct{}
	wg        sync.WaitGroup
}

func newSender(t *testing.T) *sender {
	t.Helper()
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "pion")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	s := &sender{pc: pc, track: track, connected: make(chan struct{}), closed: make(chan struct{}), stop: make(chan struct{})}
	var once, onceClosed sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(s.connected) })
		case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
			onceClosed.Do(func() { close(s.closed) })
		}
	})
	t.Cleanup(func() {
		close(s.stop)
		s.wg.Wait()
		done := make(chan struct{})
		go func() {
			_ = pc.Close()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Log("pion PeerConnection.Close did not return")
		}
	})
	return s
}

// offer is the sender's SDP offer.
func (s *sender) offer(t *testing.T) string {
	t.Helper()
	o, err := s.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

// post sends a WHIP offer; the response's status and body.
func post(t *testing.T, base, conf, offer string) (*http.Response, string) {
	resp, err := http.Post(base+"/whip/"+conf, "application/sdp", strings.NewReader(offer))
	if err != nil {
		t.Error(err)
		return nil, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// claimed are the peer ids that senders have taken (join).
var claimed sync.Map

// claimPeer takes id for a sender; false if another sender has it.
func claimPeer(id string) bool {
	_, taken := claimed.LoadOrStore(id, true)
	return !taken
}

// join connects a new sender to conf through n and starts its video.
func join(t *testing.T, n *node, conf string) *sender {
	t.Helper()
	s := newSender(t)
	resp, body := post(t, n.http.URL, conf, s.offer(t))
	if resp == nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHIP POST to %s: %v %s", n.name, resp, body)
	}
	s.loc = resp.Header.Get("Location") // carries the session's secret, not the peer id
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.connected:
	case <-time.After(15 * time.Second):
		t.Fatalf("sender on %s did not connect", n.name)
	}
	// The peer id is the one of this node's peers in conf that no earlier
	// sender took (joins in these tests are one at a time).
	for _, pi := range n.plugin.Peers() {
		if pi.Conference == conf && claimPeer(pi.ID) {
			s.id = pi.ID
			break
		}
	}
	if s.id == "" {
		t.Fatalf("no new peer on %s", n.name)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.streamVideo(t)
	}()
	return s
}

// streamVideo sends the IVF file in real time, over and over, until stop.
func (s *sender) streamVideo(t *testing.T) {
	for {
		f, err := os.Open(ivfPath)
		if err != nil {
			t.Error(err)
			return
		}
		r, hdr, err := ivfreader.NewWith(f)
		if err != nil {
			f.Close()
			t.Error(err)
			return
		}
		dur := time.Second * time.Duration(hdr.TimebaseNumerator) / time.Duration(hdr.TimebaseDenominator)
		if dur <= 0 || dur > time.Second {
			dur = time.Second / 30
		}
		tick := time.NewTicker(dur)
		for {
			frame, _, err := r.ParseNextFrame()
			if err != nil {
				break
			}
			if err := s.track.WriteSample(media.Sample{Data: frame, Duration: dur}); err != nil {
				tick.Stop()
				f.Close()
				return
			}
			select {
			case <-tick.C:
			case <-s.stop:
				tick.Stop()
				f.Close()
				return
			}
		}
		tick.Stop()
		f.Close()
	}
}

// consumer is a plain NATS subscriber of every event, as a consuming
// service would have it.
type consumer struct {
	mu         sync.Mutex
	states     map[string][]rtcnats.StateBody // by peer
	closedBy   map[string][]string            // peer → Rtcplug-Reporter of its closed events
	keyframes  map[string][]time.Time         // by peer, when received
	nodes      map[string]string              // peer → Rtcplug-Node
	objects    map[string]int                 // keyframes from the object store, by peer
	objectErrs []error
	frames     map[string]int // frames, by peer
	bad        []string
	js         jetstream.JetStream
}

func newConsumer(t *testing.T, url string) *consumer {
	c := &consumer{states: map[string][]rtcnats.StateBody{}, closedBy: map[string][]string{},
		keyframes: map[string][]time.Time{}, nodes: map[string]string{}, objects: map[string]int{}, frames: map[string]int{}}
	nc := connectNATS(t, url, "consumer")
	t.Cleanup(nc.Close)
	var err error
	if c.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Subscribe("rtcplug.>", c.handle); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *consumer) handle(m *nats.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tok := strings.Split(m.Subject, ".")
	if len(tok) != 4 {
		c.bad = append(c.bad, "subject "+m.Subject)
		return
	}
	conf, peer, kind := tok[1], tok[2], tok[3]
	h := m.Header
	if h.Get(rtcnats.HeaderConference) != conf || h.Get(rtcnats.HeaderPeer) != peer || h.Get(rtcnats.HeaderNode) == "" {
		c.bad = append(c.bad, fmt.Sprintf("headers of %s: %v", m.Subject, h))
		return
	}
	if _, err := time.Parse(time.RFC3339Nano, h.Get(rtcnats.HeaderTime)); err != nil {
		c.bad = append(c.bad, "time of "+m.Subject+": "+err.Error())
	}
	c.nodes[peer] = h.Get(rtcnats.HeaderNode)
	switch kind {
	case "state":
		var st rtcnats.StateBody
		if err := json.Unmarshal(m.Data, &st); err != nil || st.Peer != peer {
			c.bad = append(c.bad, fmt.Sprintf("state body %q: %v", m.Data, err))
			return
		}
		c.states[peer] = append(c.states[peer], st)
		if st.State == rtcplug.StateClosed {
			c.closedBy[peer] = append(c.closedBy[peer], h.Get(rtcnats.HeaderReporter))
		}
	case "frame":
		if len(m.Data) == 0 || h.Get(rtcnats.HeaderCodec) != "VP8" || h.Get(rtcnats.HeaderRTPTime) == "" {
			c.bad = append(c.bad, fmt.Sprintf("frame of %s: %d bytes %v", peer, len(m.Data), h))
		}
		c.frames[peer]++
	case "keyframe":
		data := m.Data
		if name := h.Get(rtcnats.HeaderObject); name != "" {
			// Too large for a message: the body is empty, the JPEG is in the
			// object store. (A real consumer would not block its handler.)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			obj, err := c.js.ObjectStore(ctx, h.Get(rtcnats.HeaderObjectBucket))
			if err == nil {
				data, err = obj.GetBytes(ctx, name)
			}
			if len(m.Data) != 0 {
				c.bad = append(c.bad, fmt.Sprintf("keyframe object %s with a body of %d bytes", name, len(m.Data)))
				return
			}
			if err != nil {
				// Around the NATS restart a fetch may time out; the
				// objects that came are checked.
				c.objectErrs = append(c.objectErrs, err)
				return
			}
			c.objects[peer]++
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil || h.Get("Content-Type") != "image/jpeg" || h.Get(rtcnats.HeaderCodec) != "VP8" {
			c.bad = append(c.bad, fmt.Sprintf("keyframe of %s: %v %v", peer, err, h))
			return
		}
		if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 480 || h.Get(rtcnats.HeaderWidth) != "640" || h.Get(rtcnats.HeaderHeight) != "480" {
			c.bad = append(c.bad, fmt.Sprintf("keyframe of %s is %v (%v)", peer, b, h))
			return
		}
		c.keyframes[peer] = append(c.keyframes[peer], time.Now())
	}
}

func (c *consumer) hasState(peer string, st rtcplug.PeerStateName) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.states[peer] {
		if s.State == st {
			return true
		}
	}
	return false
}

func (c *consumer) keyframesSince(peer string, t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.keyframes[peer] {
		if k.After(t) {
			n++
		}
	}
	return n
}

func (c *consumer) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) > 0 {
		t.Fatalf("malformed events: %q", c.bad)
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hasPeer(p *rtcplug.Plugin, id string) bool {
	for _, i := range p.Peers() {
		if i.ID == id {
			return true
		}
	}
	return false
}

// TestCluster runs three nodes on one JetStream server through what a
// cluster meets: events from every node, a cluster-wide limit under
// concurrent joins, a WHIP DELETE on the wrong node, a NATS restart and a
// node lost without a goodbye.
func TestCluster(t *testing.T) {
	ns := startNATS(t)
	cons := newConsumer(t, ns.url())
	a := newNode(t, ns.url(), "node-a", 4)
	b := newNode(t, ns.url(), "node-b", 4, func(c *rtcnats.Config) { c.Frames = true })
	// C's keyframes all go through the object store.
	c := newNode(t, ns.url(), "node-c", 4, func(c *rtcnats.Config) { c.InlineLimit = 1000 })
	nodes := []*node{a, b, c}

	// One conference, one sender through each node.
	senders := make([]*sender, len(nodes))
	for i, n := range nodes {
		senders[i] = join(t, n, "room")
	}
	for i, s := range senders {
		waitFor(t, "connected and a keyframe of the sender on "+nodes[i].name, 20*time.Second, func() bool {
			return cons.hasState(s.id, rtcplug.StateConnected) && cons.keyframesSince(s.id, time.Time{}) > 0
		})
		cons.mu.Lock()
		owner := cons.nodes[s.id]
		cons.mu.Unlock()
		if owner != nodes[i].name {
			t.Fatalf("events of the sender on %s say node %q", nodes[i].name, owner)
		}
	}
	cons.check(t)
	cons.mu.Lock()
	objects, framesA, framesB := cons.objects[senders[2].id], cons.frames[senders[0].id], cons.frames[senders[1].id]
	cons.mu.Unlock()
	if objects == 0 || framesA != 0 || framesB == 0 {
		t.Fatalf("keyframes of C from the object store %d, frames of A %d (off), of B %d (on)", objects, framesA, framesB)
	}
	all, err := a.plugin.PeersCluster(context.Background())
	if err != nil || len(all) != 3 {
		t.Fatalf("PeersCluster on A: %v %+v", err, all)
	}
	for i, s := range senders {
		found := false
		for _, p := range all {
			found = found || (p.ID == s.id && p.Node == nodes[i].name && p.Conference == "room")
		}
		if !found {
			t.Fatalf("PeersCluster lacks the sender on %s: %+v", nodes[i].name, all)
		}
	}

	t.Run("LimitUnderConcurrentJoins", func(t *testing.T) {
		offer := newSender(t).offer(t)
		type result struct {
			node *node
			code int
			body string
			loc  string
		}
		results := make(chan result, 8)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < 8; i++ {
			n := nodes[i%3]
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, body := post(t, n.http.URL, "race", offer)
				if resp != nil {
					results <- result{n, resp.StatusCode, body, resp.Header.Get("Location")}
				}
			}()
		}
		close(start)
		wg.Wait()
		close(results)
		var admitted []result
		full := 0
		for r := range results {
			switch {
			case r.code == http.StatusCreated:
				admitted = append(admitted, r)
			case r.code == http.StatusServiceUnavailable && strings.Contains(r.body, "full"):
				full++
			default:
				t.Errorf("join on %s: %d %s", r.node.name, r.code, r.body)
			}
		}
		if len(admitted) != 4 || full != 4 {
			t.Fatalf("%d admitted and %d full of 8 joins with a limit of 4", len(admitted), full)
		}
		// End them, each through another node than its own.
		for i, r := range admitted {
			other := nodes[(i+1)%3]
			if other == r.node {
				other = nodes[(i+2)%3]
			}
			req, _ := http.NewRequest(http.MethodDelete, other.http.URL+r.loc, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("DELETE of a %s session on %s: %v %v", r.node.name, other.name, resp, err)
			}
			resp.Body.Close()
		}
		waitFor(t, "the race conference empty", 10*time.Second, func() bool {
			ps, _ := a.plugin.PeersCluster(context.Background())
			for _, p := range ps {
				if p.Conference == "race" {
					return false
				}
			}
			return true
		})
		// Its places are free again.
		waitFor(t, "the race places given back", 10*time.Second, func() bool { return placesTaken(t, ns.url(), "race") == 0 })
		s := newSender(t)
		resp, body := post(t, b.http.URL, "race", s.offer(t))
		if resp == nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("join after the DELETEs: %v %s", resp, body)
		}
	})

	t.Run("WHIPDeleteOnAnotherNode", func(t *testing.T) {
		s := join(t, a, "room") // the fourth of room's four places
		waitFor(t, "its connected event", 10*time.Second, func() bool { return cons.hasState(s.id, rtcplug.StateConnected) })
		if resp, body := post(t, b.http.URL, "room", newSender(t).offer(t)); resp == nil ||
			resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "full") {
			t.Fatalf("a fifth join in room: %v %s", resp, body)
		}
		req, _ := http.NewRequest(http.MethodDelete, b.http.URL+s.loc, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE on B: %v %v", resp, err)
		}
		resp.Body.Close()
		select {
		case <-s.closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the sender did not see its session end")
		}
		if hasPeer(a.plugin, s.id) {
			t.Fatal("the session is still on A")
		}
		waitFor(t, "its closed event", 10*time.Second, func() bool { return cons.hasState(s.id, rtcplug.StateClosed) })
		req, _ = http.NewRequest(http.MethodDelete, c.http.URL+s.loc, nil)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("second DELETE: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		// Kick travels too. The closed event goes out before the place is
		// given back (a leave follows the peer's last state), so wait for
		// the place.
		waitFor(t, "its place given back", 10*time.Second, func() bool { return placesTaken(t, ns.url(), "room") < 4 })
		k := join(t, c, "room")
		if err := a.plugin.Kick(k.id); err != nil {
			t.Fatalf("Kick on A of a peer on C: %v", err)
		}
		select {
		case <-k.closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the kicked sender did not see its session end")
		}
		if err := a.plugin.Kick("0123456789abcdef"); !errors.Is(err, rtcplug.ErrNoPeer) {
			t.Fatalf("Kick of nobody: %v", err)
		}
	})

	t.Run("NATSRestart", func(t *testing.T) {
		before := make([]uint64, len(nodes))
		for i, n := range nodes {
			before[i] = n.plugin.Stats().VideoFrames
		}
		ns.stop()
		for i, n := range nodes {
			waitFor(t, "frames on "+n.name+" while NATS is away", 10*time.Second, func() bool {
				return n.plugin.Stats().VideoFrames > before[i]+15
			})
		}
		waitFor(t, "events dropped while NATS is away", 10*time.Second, func() bool {
			return a.plugin.Stats().DroppedClusterEvents > 0
		})
		// A join cannot be admitted meanwhile: it is refused, not held.
		if resp, body := post(t, a.http.URL, "room", newSender(t).offer(t)); resp == nil || resp.StatusCode == http.StatusCreated {
			t.Fatalf("a join while NATS is away: %v %s", resp, body)
		}
		ns.start()
		restarted := time.Now()
		for i, s := range senders {
			waitFor(t, "keyframe events from "+nodes[i].name+" again", 20*time.Second, func() bool {
				return cons.keyframesSince(s.id, restarted) > 0
			})
		}
		for i, s := range senders {
			if cons.hasState(s.id, rtcplug.StateClosed) {
				t.Fatalf("the sender on %s was reported closed after the restart", nodes[i].name)
			}
		}
		cons.check(t)
	})

	t.Run("NodeLost", func(t *testing.T) {
		lost := senders[2]
		c.kill()
		killed := time.Now()
		waitFor(t, "the closed event of C's peer", 4*testTTL, func() bool { return cons.hasState(lost.id, rtcplug.StateClosed) })
		t.Logf("closed event %v after the kill (TTL %v)", time.Since(killed).Round(time.Millisecond), testTTL)
		// Give every node time to have reported it, had it wanted to.
		time.Sleep(testTTL)
		cons.mu.Lock()
		reporters := append([]string(nil), cons.closedBy[lost.id]...)
		cons.mu.Unlock()
		if len(reporters) != 1 || (reporters[0] != a.name && reporters[0] != b.name) {
			t.Fatalf("closed events of C's peer reported by %q, want one by A or B", reporters)
		}
		ps, err := a.plugin.PeersCluster(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Node == c.name {
				t.Fatalf("C's peer is still listed: %+v", p)
			}
		}
		// Its KV entry is gone.
		nc := connectNATS(t, ns.url(), "checker")
		defer nc.Close()
		js, _ := jetstream.New(nc)
		kv, err := js.KeyValue(context.Background(), rtcnats.DefaultBucket)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get(context.Background(), "m.room."+lost.id); !errors.Is(err, jetstream.ErrKeyNotFound) && !errors.Is(err, jetstream.ErrKeyDeleted) {
			t.Fatalf("C's member entry: %v", err)
		}
		// A and B stream on.
		for i, n := range nodes[:2] {
			f := n.plugin.Stats().VideoFrames
			waitFor(t, n.name+" streaming", 10*time.Second, func() bool { return n.plugin.Stats().VideoFrames > f+15 })
			if cons.hasState(senders[i].id, rtcplug.StateClosed) {
				t.Fatalf("the sender on %s was reported closed", n.name)
			}
		}
		cons.check(t)
	})

	t.Run("NodeStops", func(t *testing.T) {
		// A node that stops normally reports its peers closed itself, and
		// nobody reports them again.
		stopped := senders[1]
		_ = b.plugin.Close()
		waitFor(t, "the closed event of B's peer", 10*time.Second, func() bool { return cons.hasState(stopped.id, rtcplug.StateClosed) })
		time.Sleep(testTTL + testTTL/2)
		cons.mu.Lock()
		reporters := append([]string(nil), cons.closedBy[stopped.id]...)
		cons.mu.Unlock()
		if len(reporters) != 1 || reporters[0] != "" {
			t.Fatalf("closed events of B's peer reported by %q, want one by B itself", reporters)
		}
		ps, err := a.plugin.PeersCluster(context.Background())
		if err != nil || len(ps) != 1 || ps[0].ID != senders[0].id {
			t.Fatalf("PeersCluster after B stopped: %v %+v", err, ps)
		}
	})
}

// placesTaken counts the taken places (s.<conference>.<n> keys) of conf in
// the cluster's bucket.
func placesTaken(t *testing.T, url, conf string) int {
	t.Helper()
	nc := connectNATS(t, url, "places")
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), rtcnats.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	kl, err := kv.ListKeys(context.Background())
	if err != nil {
		return 0
	}
	defer func() { _ = kl.Stop() }()
	n := 0
	for k := range kl.Keys() {
		if strings.HasPrefix(k, "s."+conf+".") {
			n++
		}
	}
	return n
}
