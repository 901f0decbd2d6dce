package rtcplug

import (
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/signal"
)

// Deadlines of a signaling socket. Sockets are bounded in number
// (maxSockets); these keep one from holding its slot without using it.
const (
	// JoinTimeout is how long a signaling socket may stay without a peer:
	// from connecting to JoinConference, and after its peer ended. Then it
	// is closed with 1008 (policy violation) and a reason.
	JoinTimeout = 30 * time.Second
	// AnswerTimeout is how long a joined peer waits for the client's
	// SdpAnswer; then the peer ends (Error "timeout") and its pending slot
	// is free. A browser answers within a second of the offer.
	AnswerTimeout = 15 * time.Second
)

// sourceCounts counts open signaling sockets per source (sourceOf), so one
// source cannot hold every socket slot by reconnecting as fast as its idle
// sockets are closed. An entry goes when its count reaches zero: the map is
// no larger than the sockets open.
type sourceCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// acquire counts a socket of src unless src already has limit open.
func (c *sourceCounts) acquire(src string, limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = make(map[string]int)
	}
	if c.n[src] >= limit {
		return false
	}
	c.n[src]++
	return true
}

func (c *sourceCounts) release(src string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[src] <= 1 {
		delete(c.n, src)
		return
	}
	c.n[src]--
}

// maxSocketsPerSource bounds the signaling sockets of one source: a quarter
// of maxSockets (an office behind one NAT address still opens dozens).
func (p *Plugin) maxSocketsPerSource() int { return max(1, int(p.maxSockets()/4)) }

// socketWatch holds a socket's deadlines and its close. The timers run on
// goroutines of their own; what they do is short, and closing is tracked so
// that serveWS returns only after it.
type socketWatch struct {
	mu        sync.Mutex
	join      *time.Timer // no peer for joinTimeout: close
	answer    *time.Timer // no answer for answerTimeout: end the peer
	live      *peerHandle // the socket's peer while it lives
	ended     bool        // serveWS is done: no more closes
	closeOnce sync.Once
	closing   sync.WaitGroup
}

// watchStart arms the join deadline; watchEnd disarms everything and
// waits for a close in progress.
func (s *wsConn) watchStart() {
	s.watch.join = time.AfterFunc(s.p.cfg.joinTimeout, s.joinExpired)
}

func (s *wsConn) watchEnd() {
	w := &s.watch
	w.mu.Lock()
	w.ended = true
	w.join.Stop()
	if w.answer != nil {
		w.answer.Stop()
	}
	w.mu.Unlock()
	w.closing.Wait()
}

// watchJoined: the socket has a peer now; its answer is awaited.
func (s *wsConn) watchJoined(h *peerHandle) {
	w := &s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	w.live = h
	w.join.Stop()
	if w.answer != nil {
		w.answer.Stop()
	}
	w.answer = time.AfterFunc(s.p.cfg.answerTimeout, func() { s.answerExpired(h) })
}

// watchAnswered: the answer was applied.
func (s *wsConn) watchAnswered(h *peerHandle) {
	w := &s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.live == h && w.answer != nil {
		w.answer.Stop()
	}
}

// watchGone: the socket's peer ended (or was left); the join deadline runs
// again.
func (s *wsConn) watchGone(h *peerHandle) {
	w := &s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.live != h || w.ended {
		return
	}
	w.live = nil
	if w.answer != nil {
		w.answer.Stop()
	}
	w.join.Reset(s.p.cfg.joinTimeout)
}

func (s *wsConn) joinExpired() {
	w := &s.watch
	w.mu.Lock()
	idle := w.live == nil
	w.mu.Unlock()
	if !idle {
		return
	}
	s.p.refused(reasonJoinTimeout, "route", "ws", "remote", s.r.RemoteAddr, "limit", s.p.cfg.joinTimeout.String())
	s.closeWith(websocket.StatusPolicyViolation, fmt.Sprintf("no JoinConference within %s", s.p.cfg.joinTimeout))
}

func (s *wsConn) answerExpired(h *peerHandle) {
	w := &s.watch
	w.mu.Lock()
	current := w.live == h && !w.ended
	w.mu.Unlock()
	if !current {
		return
	}
	s.p.refused(reasonAnswerTimeout, "route", "ws", "remote", s.r.RemoteAddr, "peer", h.member.ID, "limit", s.p.cfg.answerTimeout.String())
	s.sendError(signal.Errorf(signal.CodeTimeout, "no SdpAnswer within %s: the peer ended; send JoinConference again", s.p.cfg.answerTimeout))
	h.loop.Close() // its closed state comes back through notify → watchGone
}

// notifyWatch follows the state of peer id for the deadlines.
func (s *wsConn) notifyWatch(id string, st peer.State) {
	if !st.Done() {
		return
	}
	w := &s.watch
	w.mu.Lock()
	h := w.live
	w.mu.Unlock()
	if h != nil && h.member.ID == id {
		s.watchGone(h)
	}
}

// closeWith closes the socket with a status code and a reason (RFC 6455
// §7.4): the client learns why instead of seeing the connection cut. It
// runs once, on a goroutine serveWS waits for; a client that does not
// answer the close handshake within closeGrace is cut.
func (s *wsConn) closeWith(code websocket.StatusCode, reason string) {
	w := &s.watch
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return
	}
	start := false
	w.closeOnce.Do(func() { start = true; w.closing.Add(1) })
	w.mu.Unlock()
	if !start {
		return
	}
	go func() {
		defer w.closing.Done()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = s.c.Close(code, reason)
		}()
		t := time.NewTimer(closeGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			s.hj.cut()
			<-done
		}
		s.cancel()
	}()
}
