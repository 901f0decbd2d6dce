// Package rtcnats makes several rtcplug host instances one cluster over NATS
// JetStream (rtcplug.WithCluster):
//
//   - membership and limits: a KV bucket (default "rtcplug") with a key
//     m.<conference>.<peer> per live peer (node, identity, since, state) and
//     s.<conference>.<n> per taken place of a conference (n below
//     Config.MaxPerConference). A place is taken with a create, which the
//     server does atomically (compare-and-set on the key's last revision):
//     no race lets more peers in than there are places. Every entry lives
//     Config.TTL past its last write; the owner rewrites it while the peer
//     lives, so a dead node's entries expire on their own.
//   - events: the stream RTCPLUG over rtcplug.<conference>.<peer>.state,
//     .keyframe and .frame, with the headers named by the Header constants.
//     Keyframes above Config.InlineLimit go to the object store (default
//     bucket "rtcplug-keyframes") and the message names the object.
//   - commands: Kick and WHIP DELETE for a peer of another node are NATS
//     requests to _RTCPLUG.cmd.<node>.
//   - failure: each node keeps n.<node> alive; when one expires, the other
//     nodes race to create g.<conference>.<peer> for each of its peers and
//     the one that wins publishes the peer's closed event (exactly one).
//     Entries carry the incarnation (a random id per Attach) of their node:
//     a node restarted under the same name reports its previous
//     incarnation's peers the same way. A peer that leaves without its
//     closed event published (dropped by the plugin) is reported by Leave.
//
// The host owns the NATS connection; give it unlimited reconnects
// (nats.MaxReconnects(-1)): while NATS is away media goes on, events are
// dropped (and counted in the plugin's Stats) and the entries are rewritten
// once it is back.
package rtcnats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// Names consumers are written against.
const (
	// StreamName is the JetStream stream of events.
	StreamName = "RTCPLUG"
	// SubjectPrefix starts every event subject:
	// rtcplug.<conference>.<peer>.{state,keyframe,frame}.
	SubjectPrefix = "rtcplug"

	HeaderNode       = "Rtcplug-Node"       // the node that owns the peer
	HeaderConference = "Rtcplug-Conference" // conference name
	HeaderPeer       = "Rtcplug-Peer"       // peer id
	HeaderIdentity   = "Rtcplug-Identity"   // what WithAuthorize returned
	HeaderTime       = "Rtcplug-Time"       // RFC 3339 with nanoseconds
	HeaderCodec      = "Rtcplug-Codec"      // keyframe and frame: "VP8", "H264"
	HeaderWidth      = "Rtcplug-Width"      // keyframe: pixels
	HeaderHeight     = "Rtcplug-Height"     // keyframe: pixels
	// HeaderObject names the object store entry that holds a keyframe too
	// large for a message (the body is empty then); HeaderObjectBucket is
	// the object store's bucket.
	HeaderObject       = "Rtcplug-Object"
	HeaderObjectBucket = "Rtcplug-Object-Bucket"
	// HeaderKeyframe is "true" on frames that are keyframes; HeaderRTPTime
	// a frame's RTP timestamp.
	HeaderKeyframe = "Rtcplug-Keyframe"
	HeaderRTPTime  = "Rtcplug-Rtp-Time"
	// HeaderReporter is set on a closed event that a surviving node
	// published for a peer of a node that died.
	HeaderReporter = "Rtcplug-Reporter"

	// commandPrefix + node is where a node takes commands. It is outside
	// the event subjects, so the stream never stores commands.
	commandPrefix = "_RTCPLUG.cmd."
)

// Defaults of Config.
const (
	DefaultTTL            = 10 * time.Second
	DefaultBucket         = "rtcplug"
	DefaultObjectBucket   = "rtcplug-keyframes"
	DefaultInlineLimit    = 256 << 10
	DefaultStreamMaxAge   = time.Hour
	DefaultStreamMaxBytes = 1 << 30
	// maxOps bounds the KV writes waiting for the node's writer; beyond it
	// they are dropped (and the entries expire on their own).
	maxOps = 4096
	// maxMembers bounds the cluster's peers this node keeps track of.
	maxMembers = 1 << 20
)

// Config configures a Cluster. Every node of a cluster must use the same
// bucket names, TTL and MaxPerConference.
type Config struct {
	// Node names this node in the cluster: 1-64 of A-Z a-z 0-9 _ -,
	// unique (a host name, a pod name).
	Node string
	// MaxPerConference limits the peers of one conference across the
	// cluster; 0 means no cluster-wide limit (each node's WithMaxPeers
	// still holds).
	MaxPerConference int
	// TTL is how long the entries of a node that died without a goodbye
	// outlive it; its peers' closed events come within about this time.
	// Default 10 s; at least 1 s.
	TTL time.Duration
	// Bucket is the KV bucket, ObjectBucket the object store for large
	// keyframes.
	Bucket, ObjectBucket string
	// InlineLimit is the largest keyframe JPEG sent in a message; larger
	// ones go to the object store. Default 256 KiB (below the server's
	// default 1 MiB max_payload).
	InlineLimit int
	// Frames publishes every video frame on rtcplug.<conference>.<peer>.frame
	// (off by default: it is the whole video bitrate).
	Frames bool
	// StreamMaxAge and StreamMaxBytes bound the RTCPLUG stream and the
	// object store (defaults one hour, 1 GiB); oldest go first.
	StreamMaxAge   time.Duration
	StreamMaxBytes int64
	// Replicas of the stream, bucket and object store (default 1; use 3 on
	// a NATS cluster).
	Replicas int
	Logger   *slog.Logger
}

// Cluster implements rtcplug.Cluster on JetStream. Create it with New, hand
// it to rtcplug.WithCluster; the plugin attaches and detaches it.
type Cluster struct {
	cfg Config
	js  jetstream.JetStream
	nc  *nats.Conn
	kv  jetstream.KeyValue
	obj jetstream.ObjectStore
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	attached atomic.Bool
	node     rtcplug.ClusterNode
	sub      *nats.Subscription
	ops      chan op
	stop     chan struct{}
	reap     chan struct{} // the watcher saw something go: look for orphans

	mu      sync.Mutex
	own     map[string]*owned   // this node's peers, by member key
	members map[string]memberKV // the cluster's, from the watcher
	nodes   map[string]nodeSeen // live nodes, from the watcher
	inc     string              // this incarnation: random, per Attach
	places  map[string]int      // taken places (s.<conference>.<n> keys), from the watcher
	ready   bool                // the watcher has caught up

	droppedOps atomic.Uint64
}

// memberKV is the value of m.<conference>.<peer>.
type memberKV struct {
	Node       string                `json:"node"`
	Conference string                `json:"conference"`
	Peer       string                `json:"peer"`
	Identity   string                `json:"identity,omitempty"`
	Since      time.Time             `json:"since"`
	State      rtcplug.PeerStateName `json:"state"`
	WHIP       bool                  `json:"whip,omitempty"`
	// Inc is the incarnation of Node that admitted the peer ("" from older
	// versions: never taken for another incarnation).
	Inc string `json:"inc,omitempty"`
	// expired is when the watcher saw the entry expire (not deleted): the
	// peer is kept until it is clear whether its node is gone.
	expired time.Time
}

// nodeKV is the value of n.<node>.
type nodeKV struct {
	Node  string    `json:"node"`
	Since time.Time `json:"since"`
	Inc   string    `json:"inc,omitempty"`
}

// nodeSeen is a node as the watcher last saw its entry.
type nodeSeen struct {
	at  time.Time // when (this node's clock)
	inc string
}

// owned is a peer of this node.
type owned struct {
	m       memberKV
	slot    string // "" without MaxPerConference
	slotRev uint64
}

// op is a KV write for the writer goroutine.
type op struct {
	put   *memberKV // rewrite this member (if still owned)
	del   string    // delete this member key and its place
	owned *owned    // of del
}

// New checks cfg and creates (or updates) the stream, bucket and object
// store. ctx bounds only these calls.
func New(ctx context.Context, js jetstream.JetStream, cfg Config) (*Cluster, error) {
	if js == nil {
		return nil, errors.New("rtcnats: nil JetStream")
	}
	if !validToken(cfg.Node) {
		return nil, fmt.Errorf("rtcnats: node name %q must be 1-64 of A-Z a-z 0-9 _ -", cfg.Node)
	}
	if cfg.MaxPerConference < 0 {
		return nil, errors.New("rtcnats: negative MaxPerConference")
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < time.Second {
		return nil, errors.New("rtcnats: TTL below 1s")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.ObjectBucket == "" {
		cfg.ObjectBucket = DefaultObjectBucket
	}
	if cfg.InlineLimit <= 0 {
		cfg.InlineLimit = DefaultInlineLimit
	}
	if cfg.StreamMaxAge <= 0 {
		cfg.StreamMaxAge = DefaultStreamMaxAge
	}
	if cfg.StreamMaxBytes <= 0 {
		cfg.StreamMaxBytes = DefaultStreamMaxBytes
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{cfg: cfg, js: js, nc: js.Conn(), log: cfg.Logger.With("node", cfg.Node),
		own: map[string]*owned{}, members: map[string]memberKV{}, nodes: map[string]nodeSeen{}, places: map[string]int{},
		ops: make(chan op, maxOps), stop: make(chan struct{}), reap: make(chan struct{}, 1)}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "rtcplug events: peer states, keyframes, frames",
		Subjects:    []string{SubjectPrefix + ".>"},
		MaxAge:      cfg.StreamMaxAge,
		MaxBytes:    cfg.StreamMaxBytes,
		Discard:     jetstream.DiscardOld,
		Replicas:    cfg.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("rtcnats: stream %s: %w", StreamName, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "rtcplug membership and limits",
		History:     1,
		TTL:         cfg.TTL,
		// Expiry leaves a marker that watchers see (as a purge): that is
		// how the other nodes learn that a node is gone.
		LimitMarkerTTL: cfg.TTL,
		Replicas:       cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("rtcnats: bucket %s: %w", cfg.Bucket, err)
	}
	c.kv = kv
	obj, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      cfg.ObjectBucket,
		Description: "rtcplug keyframes too large for a message",
		TTL:         cfg.StreamMaxAge,
		MaxBytes:    cfg.StreamMaxBytes,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("rtcnats: object store %s: %w", cfg.ObjectBucket, err)
	}
	c.obj = obj
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Name implements rtcplug.Cluster.
func (c *Cluster) Name() string { return c.cfg.Node }

// Frames implements rtcplug.Cluster.
func (c *Cluster) Frames() bool { return c.cfg.Frames }

// Attach implements rtcplug.Cluster: it announces the node, takes
// commands and starts watching the cluster.
func (c *Cluster) Attach(node rtcplug.ClusterNode) error {
	if !c.attached.CompareAndSwap(false, true) {
		return errors.New("rtcnats: cluster already attached to a plugin")
	}
	c.node = node
	c.inc = strconv.FormatUint(rand.Uint64(), 36)
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.TTL)
	defer cancel()
	if err := c.putNode(ctx); err != nil {
		return fmt.Errorf("rtcnats: announce node: %w", err)
	}
	sub, err := c.nc.Subscribe(commandPrefix+c.cfg.Node, c.serveCommand)
	if err != nil {
		return fmt.Errorf("rtcnats: commands: %w", err)
	}
	c.sub = sub
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		c.watch()
	}()
	go func() {
		defer c.wg.Done()
		c.write()
	}()
	return nil
}

// Detach implements rtcplug.Cluster: the pending KV writes are done (for
// at most a TTL), the node's entry removed, and every goroutine ends.
func (c *Cluster) Detach() {
	if !c.attached.Load() {
		c.cancel()
		return
	}
	close(c.stop)
	c.wg.Wait()
	if c.sub != nil {
		_ = c.sub.Unsubscribe()
	}
	c.cancel()
}

func (c *Cluster) connected() bool { return c.nc.Status() == nats.CONNECTED }

func validToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-') {
			return false
		}
	}
	return true
}

func memberKey(conf, peer string) string { return "m." + conf + "." + peer }
func slotKey(conf string, n int) string  { return "s." + conf + "." + strconv.Itoa(n) }
func claimKey(conf, peer string) string  { return "g." + conf + "." + peer }
func nodeKey(node string) string         { return "n." + node }

func (c *Cluster) putNode(ctx context.Context) error {
	b, _ := json.Marshal(nodeKV{Node: c.cfg.Node, Since: time.Now(), Inc: c.inc})
	_, err := c.kv.Put(ctx, nodeKey(c.cfg.Node), b)
	return err
}

// Admit implements rtcplug.Cluster: it takes a free place of the conference
// (with MaxPerConference) and records the member.
func (c *Cluster) Admit(ctx context.Context, m rtcplug.ClusterMember) error {
	if !validToken(m.Conference) || !validToken(m.Peer) {
		return fmt.Errorf("rtcnats: conference %q or peer %q is not a safe subject token", m.Conference, m.Peer)
	}
	if !c.connected() {
		return errors.New("rtcnats: not connected to NATS")
	}
	o := &owned{m: memberKV{Node: c.cfg.Node, Conference: m.Conference, Peer: m.Peer, Identity: m.Identity,
		Since: m.Since, State: rtcplug.StateNew, WHIP: m.WHIP, Inc: c.inc}}
	if n := c.cfg.MaxPerConference; n > 0 {
		// Try the places this node has not seen taken, from a random one so
		// that concurrent joins mostly try different keys: a full
		// conference costs no round trip per place. The create decides.
		start := rand.IntN(n)
		for i := 0; i < n && o.slot == ""; i++ {
			k := slotKey(m.Conference, (start+i)%n)
			c.mu.Lock()
			_, taken := c.places[k]
			skip := taken && c.ready
			c.mu.Unlock()
			if skip {
				continue
			}
			rev, err := c.kv.Create(ctx, k, []byte(m.Peer))
			switch {
			case err == nil:
				o.slot, o.slotRev = k, rev
			case errors.Is(err, jetstream.ErrKeyExists):
			default:
				return fmt.Errorf("rtcnats: take a place: %w", err)
			}
		}
		if o.slot == "" {
			return fmt.Errorf("%w: conference %s has its %d peers in the cluster", rtcplug.ErrFull, m.Conference, n)
		}
	}
	b, _ := json.Marshal(o.m)
	if _, err := c.kv.Put(ctx, memberKey(m.Conference, m.Peer), b); err != nil {
		if o.slot != "" {
			_ = c.kv.Delete(ctx, o.slot, jetstream.LastRevision(o.slotRev))
		}
		return fmt.Errorf("rtcnats: record member: %w", err)
	}
	c.mu.Lock()
	c.own[memberKey(m.Conference, m.Peer)] = o
	c.mu.Unlock()
	return nil
}

// Leave implements rtcplug.Cluster: the entries go (from the writer), and
// the peer's closed event if the plugin did not publish it.
func (c *Cluster) Leave(conf, peer string) {
	k := memberKey(conf, peer)
	c.mu.Lock()
	o, ok := c.own[k]
	delete(c.own, k)
	c.mu.Unlock()
	if ok {
		c.queue(op{del: k, owned: o})
	}
}

func (c *Cluster) queue(o op) {
	select {
	case c.ops <- o:
	default:
		c.droppedOps.Add(1)
	}
}

// write runs the KV writes of this node's peers in order and rewrites
// every entry of this node each TTL/3, so that they live while it does.
func (c *Cluster) write() {
	t := time.NewTicker(c.cfg.TTL / 3)
	defer t.Stop()
	// upSince is when this node last found itself connected. Orphans are
	// reported only after a TTL connected: after an outage the other nodes
	// need that long to rewrite their entries, and their peers are not
	// orphans.
	upSince := time.Now()
	settled := func() bool { return !upSince.IsZero() && time.Since(upSince) >= c.cfg.TTL }
	for {
		select {
		case o := <-c.ops:
			c.do(o)
		case <-t.C:
			switch {
			case !c.connected():
				upSince = time.Time{}
			case upSince.IsZero():
				upSince = time.Now()
			}
			c.refresh()
			if settled() {
				c.reapOrphans()
			}
		case <-c.reap:
			if settled() {
				c.reapOrphans()
			}
		case <-c.stop:
			// Goodbye: what is queued, for at most a TTL, then the node's
			// entry (its peers have left: nothing is orphaned).
			end := time.After(c.cfg.TTL)
		drain:
			for {
				select {
				case o := <-c.ops:
					select {
					case <-end:
						break drain
					default:
						c.do(o)
					}
				default:
					break drain
				}
			}
			if c.connected() {
				ctx, cancel := context.WithTimeout(context.Background(), c.cfg.TTL/3)
				_ = c.kv.Delete(ctx, nodeKey(c.cfg.Node))
				cancel()
			}
			return
		}
	}
}

func (c *Cluster) do(o op) {
	if !c.connected() {
		return // the entries expire, or the next refresh rewrites them
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.TTL/3)
	defer cancel()
	switch {
	case o.put != nil:
		k := memberKey(o.put.Conference, o.put.Peer)
		c.mu.Lock()
		_, ok := c.own[k]
		c.mu.Unlock()
		if ok {
			b, _ := json.Marshal(o.put)
			if _, err := c.kv.Put(ctx, k, b); err != nil {
				c.log.Debug("rtcnats: member update failed", "key", k, "err", err)
			}
		}
	case o.del != "":
		// The place first: whoever sees the member go sees its place free.
		// The revision is the one of the last refresh (this goroutine's).
		c.mu.Lock()
		slot, rev, m := o.owned.slot, o.owned.slotRev, o.owned.m
		c.mu.Unlock()
		c.closeUnreported(ctx, m)
		if slot != "" {
			_ = c.kv.Delete(ctx, slot, jetstream.LastRevision(rev))
		}
		_ = c.kv.Delete(ctx, o.del)
	}
}

// closeUnreported publishes the closed event of a peer of this node that
// left without one: the plugin publishes it before it calls Leave, so a
// claim key that this node can still create means it was dropped. The
// claim keeps it to one.
func (c *Cluster) closeUnreported(ctx context.Context, m memberKV) {
	_, err := c.kv.Create(ctx, claimKey(m.Conference, m.Peer), []byte(c.cfg.Node))
	if err != nil {
		return // published (or reported) already, or NATS failed: the entry expires
	}
	ev := rtcplug.ClusterEvent{Kind: rtcplug.ClusterState, Conference: m.Conference, Peer: m.Peer,
		Identity: m.Identity, Time: time.Now(), State: rtcplug.StateClosed}
	if _, err := c.js.PublishMsg(ctx, c.stateMsg(c.cfg.Node, ev)); err != nil {
		c.log.Warn("rtcnats: closed event of a departed peer not published", "peer", m.Peer, "err", err)
	}
}

// refresh rewrites this node's entries, each write with its own deadline:
// one slow or failed write must not let the others expire.
func (c *Cluster) refresh() {
	if !c.connected() {
		return
	}
	opCtx := func() (context.Context, context.CancelFunc) { return context.WithTimeout(c.ctx, c.cfg.TTL/3) }
	ctx, cancel := opCtx()
	err := c.putNode(ctx)
	cancel()
	if err != nil {
		c.log.Debug("rtcnats: node refresh failed", "err", err)
	}
	c.mu.Lock()
	list := make([]*owned, 0, len(c.own))
	for _, o := range c.own {
		list = append(list, o)
	}
	c.mu.Unlock()
	for _, o := range list {
		if !c.connected() || c.ctx.Err() != nil {
			return // the entries are rewritten once NATS is back
		}
		c.mu.Lock()
		m := o.m
		slot, rev := o.slot, o.slotRev
		c.mu.Unlock()
		b, _ := json.Marshal(m)
		ctx, cancel := opCtx()
		if _, err := c.kv.Put(ctx, memberKey(m.Conference, m.Peer), b); err != nil {
			c.log.Debug("rtcnats: member refresh failed", "peer", m.Peer, "err", err)
		}
		cancel()
		if slot == "" {
			continue
		}
		ctx, cancel = opCtx()
		nrev, err := c.kv.Update(ctx, slot, []byte(m.Peer), rev)
		cancel()
		if err != nil {
			// The place expired (NATS was away longer than the TTL): take
			// it again if it is still free.
			ctx, cancel = opCtx()
			nrev, err = c.kv.Create(ctx, slot, []byte(m.Peer))
			cancel()
		}
		if err != nil {
			c.log.Warn("rtcnats: a peer lost its place in the conference limit", "peer", m.Peer, "err", err)
			continue
		}
		c.mu.Lock()
		o.slotRev = nrev
		c.mu.Unlock()
	}
}

// watch keeps the view of the cluster's members and nodes. The watcher
// is made anew after each reconnect: a server restart can leave the old
// one silent.
func (c *Cluster) watch() {
	for {
		// Detach stops the node before it cancels c.ctx, so the watcher's
		// start (a request that a lost connection may never answer) ends
		// with stop too.
		wctx, wcancel := context.WithCancel(c.ctx)
		go func() {
			select {
			case <-c.stop:
				wcancel()
			case <-wctx.Done():
			}
		}()
		w, err := c.kv.WatchAll(wctx)
		if err != nil {
			wcancel()
			c.log.Debug("rtcnats: watch failed; trying again", "err", err)
			select {
			case <-c.stop:
				return
			case <-time.After(c.cfg.TTL / 6):
				continue
			}
		}
		reconnects := c.nc.Stats().Reconnects
		c.mu.Lock()
		c.ready = false
		c.mu.Unlock()
		again := c.follow(w, reconnects)
		_ = w.Stop()
		wcancel()
		if !again {
			return
		}
	}
}

// follow applies w's entries until stop (false) or a reconnect (true).
func (c *Cluster) follow(w jetstream.KeyWatcher, reconnects uint64) bool {
	check := time.NewTicker(c.cfg.TTL / 6)
	defer check.Stop()
	// The members and places of the replay, until it ends: what went while
	// no watcher ran must not linger.
	fresh, freshPlaces := map[string]memberKV{}, map[string]int{}
	for {
		var e jetstream.KeyValueEntry
		var ok bool
		select {
		case <-c.stop:
			return false
		case <-check.C:
			if c.nc.Stats().Reconnects != reconnects && c.connected() {
				return true
			}
			continue
		case e, ok = <-w.Updates():
			if !ok {
				return true
			}
		}
		c.mu.Lock()
		if e == nil { // caught up with what the bucket holds
			if fresh != nil {
				c.members, fresh = fresh, nil
				c.places, freshPlaces = freshPlaces, nil
			}
			c.ready = true
			c.mu.Unlock()
			c.signalReap()
			continue
		}
		members, places := c.members, c.places
		if fresh != nil {
			members, places = fresh, freshPlaces
		}
		gone := e.Operation() != jetstream.KeyValuePut
		k := e.Key()
		switch {
		case strings.HasPrefix(k, "m."):
			if m, ok := members[k]; ok && e.Operation() == jetstream.KeyValuePurge {
				// Expired: its node is gone (report it) or was cut off for
				// longer than the TTL (it writes the entry again).
				m.expired = time.Now()
				members[k] = m
			} else if gone {
				delete(members, k)
			} else {
				var m memberKV
				if json.Unmarshal(e.Value(), &m) == nil && (len(members) < maxMembers || members[k].Node != "") {
					members[k] = m
				}
			}
		case strings.HasPrefix(k, "s."):
			if gone {
				delete(places, k)
			} else if len(places) < maxMembers {
				places[k] = 0
			}
		case strings.HasPrefix(k, "n."):
			// Liveness is judged by when this node saw the entry, not by the
			// server's clock.
			if gone {
				delete(c.nodes, k[2:])
			} else if _, known := c.nodes[k[2:]]; known || len(c.nodes) < maxMembers {
				var n nodeKV
				_ = json.Unmarshal(e.Value(), &n)
				c.nodes[k[2:]] = nodeSeen{at: time.Now(), inc: n.Inc}
			}
		}
		ready := c.ready
		c.mu.Unlock()
		if gone && ready {
			c.signalReap()
		}
	}
}

func (c *Cluster) signalReap() {
	select {
	case c.reap <- struct{}{}:
	default:
	}
}

// reapOrphans reports the peers of nodes that are gone: for each, the node
// that creates its claim key publishes its closed event; the others only
// forget it.
func (c *Cluster) reapOrphans() {
	c.mu.Lock()
	if !c.ready {
		c.mu.Unlock()
		return
	}
	var orphans []memberKV
	for k, m := range c.members {
		// A node rewrites its entry every TTL/3: one not seen for a TTL has
		// expired, marker or not.
		seen, ok := c.nodes[m.Node]
		switch {
		case m.Node == c.cfg.Node && m.Inc != "" && m.Inc != c.inc:
			// A previous incarnation of this node (restarted within the
			// TTL): its peers are gone with it.
			orphans = append(orphans, m)
		case m.Node != c.cfg.Node && (!ok || time.Since(seen.at) > c.cfg.TTL ||
			m.Inc != "" && seen.inc != "" && m.Inc != seen.inc):
			orphans = append(orphans, m)
		case !m.expired.IsZero() && time.Since(m.expired) > c.cfg.TTL:
			delete(c.members, k) // its live node has forgotten it
		}
	}
	c.mu.Unlock()
	if len(orphans) == 0 || !c.connected() {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.TTL/3)
	defer cancel()
	for _, m := range orphans {
		k := memberKey(m.Conference, m.Peer)
		_, err := c.kv.Create(ctx, claimKey(m.Conference, m.Peer), []byte(c.cfg.Node))
		if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			c.log.Debug("rtcnats: claim failed; trying again later", "peer", m.Peer, "err", err)
			continue
		}
		if err == nil {
			ev := rtcplug.ClusterEvent{Kind: rtcplug.ClusterState, Conference: m.Conference, Peer: m.Peer,
				Identity: m.Identity, Time: time.Now(), State: rtcplug.StateClosed,
				Err: "rtcnats: node " + m.Node + " is gone"}
			msg := c.stateMsg(m.Node, ev)
			msg.Header.Set(HeaderReporter, c.cfg.Node)
			if _, err := c.js.PublishMsg(ctx, msg); err != nil {
				c.log.Warn("rtcnats: closed event of a lost peer not published", "peer", m.Peer, "err", err)
			} else {
				c.log.Info("rtcnats: peer of a lost node reported closed", "peer", m.Peer, "lost", m.Node)
			}
			_ = c.kv.Delete(ctx, k)
		}
		c.mu.Lock()
		delete(c.members, k)
		c.mu.Unlock()
	}
}

// Publish implements rtcplug.Cluster.
func (c *Cluster) Publish(ctx context.Context, ev rtcplug.ClusterEvent) error {
	if !validToken(ev.Conference) || !validToken(ev.Peer) {
		return fmt.Errorf("rtcnats: conference %q or peer %q is not a safe subject token", ev.Conference, ev.Peer)
	}
	if ev.Kind == rtcplug.ClusterState {
		c.stateChanged(ev)
	}
	if !c.connected() {
		// Fail at once: the plugin counts the drop, and nothing queues up
		// while NATS is away.
		return errors.New("rtcnats: not connected to NATS")
	}
	var msg *nats.Msg
	switch ev.Kind {
	case rtcplug.ClusterState:
		if ev.State == rtcplug.StateClosed {
			// Claim the closed event, so that no other node reports it
			// should this one die now.
			_, err := c.kv.Create(ctx, claimKey(ev.Conference, ev.Peer), []byte(c.cfg.Node))
			if errors.Is(err, jetstream.ErrKeyExists) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		msg = c.stateMsg(c.cfg.Node, ev)
	case rtcplug.ClusterKeyframe:
		msg = c.newMsg(ev, "keyframe")
		msg.Header.Set("Content-Type", "image/jpeg")
		msg.Header.Set(HeaderCodec, ev.Codec)
		msg.Header.Set(HeaderWidth, strconv.Itoa(ev.Width))
		msg.Header.Set(HeaderHeight, strconv.Itoa(ev.Height))
		if len(ev.JPEG) > c.cfg.InlineLimit {
			name := ev.Conference + "/" + ev.Peer + "/" + strconv.FormatInt(ev.Time.UnixNano(), 10) + ".jpg"
			if _, err := c.obj.PutBytes(ctx, name, ev.JPEG); err != nil {
				return err
			}
			msg.Header.Set(HeaderObject, name)
			msg.Header.Set(HeaderObjectBucket, c.cfg.ObjectBucket)
		} else {
			msg.Data = ev.JPEG
		}
	case rtcplug.ClusterFrame:
		msg = c.newMsg(ev, "frame")
		msg.Header.Set(HeaderCodec, ev.Codec)
		msg.Header.Set(HeaderKeyframe, strconv.FormatBool(ev.Keyframe))
		msg.Header.Set(HeaderRTPTime, strconv.FormatUint(uint64(ev.RTPTime), 10))
		msg.Data = ev.Data
	default:
		return fmt.Errorf("rtcnats: unknown event kind %d", ev.Kind)
	}
	_, err := c.js.PublishMsg(ctx, msg)
	if err != nil && ev.Kind == rtcplug.ClusterState && ev.State == rtcplug.StateClosed {
		// Not out: give the claim back, so that Leave reports the peer
		// (ctx may be spent: a deadline of its own).
		if c.connected() {
			dctx, cancel := context.WithTimeout(c.ctx, c.cfg.TTL/3)
			_ = c.kv.Delete(dctx, claimKey(ev.Conference, ev.Peer))
			cancel()
		}
	}
	return err
}

// stateChanged keeps the member's entry up to date with its state.
func (c *Cluster) stateChanged(ev rtcplug.ClusterEvent) {
	if ev.State == rtcplug.StateClosed || ev.State == rtcplug.StateFailed {
		return // Leave follows
	}
	c.mu.Lock()
	o, ok := c.own[memberKey(ev.Conference, ev.Peer)]
	var m memberKV
	if ok {
		o.m.State = ev.State
		m = o.m
	}
	c.mu.Unlock()
	if ok {
		c.queue(op{put: &m})
	}
}

func (c *Cluster) newMsg(ev rtcplug.ClusterEvent, kind string) *nats.Msg {
	msg := nats.NewMsg(SubjectPrefix + "." + ev.Conference + "." + ev.Peer + "." + kind)
	msg.Header.Set(HeaderNode, c.cfg.Node)
	msg.Header.Set(HeaderConference, ev.Conference)
	msg.Header.Set(HeaderPeer, ev.Peer)
	msg.Header.Set(HeaderIdentity, ev.Identity)
	msg.Header.Set(HeaderTime, ev.Time.UTC().Format(time.RFC3339Nano))
	return msg
}

// StateBody is the JSON body of a state event: the rtcplug.PeerState
// fields, with Err as text, and the node that owns the peer.
type StateBody struct {
	State      rtcplug.PeerStateName `json:"state"`
	Conference string                `json:"conference"`
	Peer       string                `json:"peer"`
	Identity   string                `json:"identity,omitempty"`
	Err        string                `json:"err,omitempty"`
	Node       string                `json:"node"`
	Time       time.Time             `json:"time"`
}

func (c *Cluster) stateMsg(owner string, ev rtcplug.ClusterEvent) *nats.Msg {
	msg := c.newMsg(ev, "state")
	msg.Header.Set(HeaderNode, owner)
	msg.Header.Set("Content-Type", "application/json")
	msg.Data, _ = json.Marshal(StateBody{State: ev.State, Conference: ev.Conference, Peer: ev.Peer,
		Identity: ev.Identity, Err: ev.Err, Node: owner, Time: ev.Time.UTC()})
	return msg
}

// commandReply is the answer to a command request.
type commandReply struct {
	// Code is "" (done), "no-peer" or "closed"; Err the text of another
	// failure.
	Code string `json:"code,omitempty"`
	Err  string `json:"err,omitempty"`
}

func (c *Cluster) serveCommand(msg *nats.Msg) {
	var cmd rtcplug.ClusterCommand
	var r commandReply
	if err := json.Unmarshal(msg.Data, &cmd); err != nil {
		r.Err = "bad command"
	} else if err := c.node.Command(cmd); err != nil {
		switch {
		case errors.Is(err, rtcplug.ErrNoPeer):
			r.Code = "no-peer"
		case errors.Is(err, rtcplug.ErrClosed):
			r.Code = "closed"
		default:
			r.Err = err.Error()
		}
	}
	b, _ := json.Marshal(r)
	_ = msg.Respond(b)
}

// Command implements rtcplug.Cluster: a request to the owner of the peer.
func (c *Cluster) Command(ctx context.Context, cmd rtcplug.ClusterCommand) error {
	if cmd.Op == rtcplug.OpWHIPDelete && cmd.Peer == "" {
		return c.whipDelete(ctx, cmd)
	}
	owner := ""
	c.mu.Lock()
	if cmd.Conference != "" {
		owner = c.members[memberKey(cmd.Conference, cmd.Peer)].Node
	} else {
		for _, m := range c.members {
			if m.Peer == cmd.Peer {
				owner = m.Node
				break
			}
		}
	}
	c.mu.Unlock()
	if owner == "" || owner == c.cfg.Node {
		return rtcplug.ErrNoPeer
	}
	return c.commandOn(ctx, owner, cmd)
}

// whipDelete finds the owner of a WHIP session by its secret: the URL names
// no peer, so each other node with WHIP peers in the conference is asked in
// turn (a handful at most) until one has the session.
func (c *Cluster) whipDelete(ctx context.Context, cmd rtcplug.ClusterCommand) error {
	c.mu.Lock()
	var nodes []string
	for _, m := range c.members {
		if m.Conference == cmd.Conference && m.WHIP && m.Node != c.cfg.Node && !slices.Contains(nodes, m.Node) {
			nodes = append(nodes, m.Node)
		}
	}
	c.mu.Unlock()
	slices.Sort(nodes)
	var last error
	for _, n := range nodes {
		switch err := c.commandOn(ctx, n, cmd); {
		case err == nil:
			return nil
		case errors.Is(err, rtcplug.ErrNoPeer):
		default:
			last = err
		}
	}
	if last != nil {
		return last
	}
	return rtcplug.ErrNoPeer
}

// commandOn runs cmd on node owner and reads its reply.
func (c *Cluster) commandOn(ctx context.Context, owner string, cmd rtcplug.ClusterCommand) error {
	b, _ := json.Marshal(cmd)
	resp, err := c.nc.RequestWithContext(ctx, commandPrefix+owner, b)
	if errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("%w (node %s does not answer)", rtcplug.ErrNoPeer, owner)
	}
	if err != nil {
		return fmt.Errorf("rtcnats: %s on node %s: %w", cmd.Op, owner, err)
	}
	var r commandReply
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return fmt.Errorf("rtcnats: bad reply from node %s", owner)
	}
	switch {
	case r.Code == "no-peer":
		return rtcplug.ErrNoPeer
	case r.Code == "closed":
		return fmt.Errorf("%w (node %s is stopping)", rtcplug.ErrNoPeer, owner)
	case r.Err != "":
		return fmt.Errorf("rtcnats: node %s: %s", owner, r.Err)
	}
	return nil
}

// Peers implements rtcplug.Cluster: the other nodes' peers as the bucket
// has them.
func (c *Cluster) Peers(ctx context.Context) ([]rtcplug.PeerInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]rtcplug.PeerInfo, 0, len(c.members))
	for _, m := range c.members {
		if m.Node == c.cfg.Node || !m.expired.IsZero() {
			continue
		}
		out = append(out, rtcplug.PeerInfo{ID: m.Peer, Conference: m.Conference, Identity: m.Identity,
			State: m.State, Since: m.Since, Node: m.Node})
	}
	return out, nil
}

// DroppedWrites counts KV writes dropped because the writer fell behind.
func (c *Cluster) DroppedWrites() uint64 { return c.droppedOps.Load() }

var _ rtcplug.Cluster = (*Cluster)(nil)
