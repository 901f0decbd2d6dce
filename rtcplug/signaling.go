package rtcplug

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/signal"
	"github.com/nutsbolts/webrtc/rtcplug/internal/udpmux"
)

// WebSocket limits and timing.
const (
	// MaxMessage is the largest signaling message accepted; a larger one gets
	// an Error reply and is discarded.
	MaxMessage = 64 << 10
	// hardReadLimit closes the socket (status 1009) instead of discarding.
	hardReadLimit = 1 << 20
	// outboxSize bounds messages waiting to be written to one socket; a
	// client that does not read is disconnected rather than waited on.
	outboxSize   = 32
	pingInterval = 20 * time.Second
	pingTimeout  = 10 * time.Second
	writeTimeout = 5 * time.Second
	// closeGrace is how long shutdown waits for a client to answer the close
	// handshake before the connection is cut.
	closeGrace = time.Second
	// extraSockets is how many signaling sockets may be open beyond one per
	// allowed peer (clients between connecting and joining, or rejoining).
	extraSockets = 64
)

// maxSockets bounds open signaling sockets: each costs two goroutines and
// buffers, and a client may open them without ever joining.
func (p *Plugin) maxSockets() int64 { return int64(p.cfg.maxPeers) + extraSockets }

// hijackRecorder keeps the connection websocket.Accept hijacks, so shutdown
// can cut it when a client does not answer the close handshake (the library
// would wait 5 s).
type hijackRecorder struct {
	http.ResponseWriter
	mu   sync.Mutex
	conn net.Conn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.mu.Lock()
		h.conn = c
		h.mu.Unlock()
	}
	return c, brw, err
}

func (h *hijackRecorder) cut() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn != nil {
		_ = h.conn.Close()
	}
}

// wsConn is one signaling socket: at most one peer at a time.
type wsConn struct {
	p      *Plugin
	r      *http.Request
	c      *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	out    chan []byte
	peer   *peerHandle
	hj     *hijackRecorder
	watch  socketWatch // join and answer deadlines, closing with a reason
}

func (p *Plugin) serveWS(w http.ResponseWriter, r *http.Request) {
	if !p.track() {
		p.logRefusal("websocket", "shutting down", "remote", r.RemoteAddr)
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer p.wg.Done()
	if p.open.Add(1) > p.maxSockets() {
		p.open.Add(-1)
		p.refused(reasonSockets, "route", "ws", "remote", r.RemoteAddr, "limit", p.maxSockets())
		http.Error(w, "too many signaling connections", http.StatusServiceUnavailable)
		return
	}
	defer p.open.Add(-1)
	src := sourceOf(r)
	if !p.wsBySource.acquire(src, p.maxSocketsPerSource()) {
		p.refused(reasonSocketsSource, "route", "ws", "remote", r.RemoteAddr, "limit", p.maxSocketsPerSource())
		http.Error(w, "too many signaling connections from this address", http.StatusServiceUnavailable)
		return
	}
	defer p.wsBySource.release(src)
	opts := &websocket.AcceptOptions{OriginPatterns: p.cfg.originPatterns}
	hj := &hijackRecorder{ResponseWriter: w}
	c, err := websocket.Accept(hj, r, opts)
	if err != nil {
		p.logRefusal("websocket", err.Error(), "remote", r.RemoteAddr)
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(hardReadLimit)

	// Not derived from the plugin's context: a cancelled read context makes
	// the library drop the connection at once, and shutdown wants to say
	// Going Away first (the AfterFunc below); its Close ends the reads.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// http.Server.Shutdown does not close hijacked connections: the plugin's
	// context does, with 1001 Going Away.
	closed := make(chan struct{})
	stop := context.AfterFunc(p.ctx, func() {
		defer close(closed)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = c.Close(websocket.StatusGoingAway, "server shutting down")
		}()
		t := time.NewTimer(closeGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			hj.cut()
			<-done
		}
	})
	defer func() {
		if !stop() {
			<-closed
		}
	}()

	s := &wsConn{p: p, r: r, c: c, ctx: ctx, cancel: cancel, out: make(chan []byte, outboxSize), hj: hj}
	s.watchStart()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop()
	}()
	id := p.sockets.Add(1)
	s.send(signal.TypeWelcome, signal.Welcome{ID: id, Message: "Welcome!"})
	s.readLoop()
	s.leave()
	cancel()
	<-writerDone
	s.watchEnd()
}

// send queues a message; a full queue means the client is not reading and
// the socket is closed.
func (s *wsConn) send(typ string, data any) {
	b, err := signal.Encode(typ, data)
	if err != nil {
		return
	}
	select {
	case s.out <- b:
	case <-s.ctx.Done():
	default:
		s.p.refused(reasonSlowClient, "route", "ws", "remote", s.r.RemoteAddr, "limit", outboxSize)
		s.closeWith(websocket.StatusPolicyViolation, "reply queue full: the client is not reading")
	}
}

func (s *wsConn) sendError(e *signal.Error) {
	s.p.logRefusal("signaling request", e.Message, "code", e.Code, "remote", s.r.RemoteAddr)
	s.send(signal.TypeError, e)
}

func (s *wsConn) writeLoop() {
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case b := <-s.out:
			ctx, cancel := context.WithTimeout(s.ctx, writeTimeout)
			err := s.c.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				s.cancel()
				return
			}
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, pingTimeout)
			err := s.c.Ping(ctx)
			cancel()
			if err != nil {
				s.p.log.Debug("signaling keepalive failed", "err", err)
				s.cancel()
				return
			}
		}
	}
}

func (s *wsConn) readLoop() {
	for {
		typ, rd, err := s.c.Reader(s.ctx)
		if err != nil {
			return
		}
		b, err := io.ReadAll(io.LimitReader(rd, MaxMessage+1))
		if err != nil {
			return
		}
		if len(b) > MaxMessage {
			if _, err := io.Copy(io.Discard, rd); err != nil {
				return
			}
			s.p.refused(reasonTooLarge, "route", "ws", "remote", s.r.RemoteAddr, "limit", MaxMessage)
			s.sendError(signal.Errorf(signal.CodeBadRequest, "message larger than %d bytes", MaxMessage))
			continue
		}
		if typ != websocket.MessageText {
			s.sendError(signal.Errorf(signal.CodeBadRequest, "binary messages are not part of the protocol"))
			continue
		}
		s.handle(b)
	}
}

func (s *wsConn) handle(b []byte) {
	req, perr := signal.Decode(b)
	if perr != nil {
		s.sendError(perr)
		return
	}
	switch req.Type {
	case signal.TypeJoinConference:
		s.join(req.Join.ConferenceName)
	case signal.TypeSdpAnswer:
		s.answer(req.Answer.SDP)
	case signal.TypeIceCandidate:
		if s.peer == nil {
			s.sendError(signal.Errorf(signal.CodeNotJoined, "IceCandidate before JoinConference"))
		}
		// ICE-lite: the client's addresses are learnt from its checks.
	case signal.TypeLeaveConference:
		s.leave()
	}
}

func (s *wsConn) join(name string) {
	if s.peer != nil {
		select {
		case <-s.peer.loop.Done():
			s.peer = nil // the previous peer ended; a new join is fine
		default:
			s.sendError(signal.Errorf(signal.CodeAlreadyJoined, "this socket already has a peer; send LeaveConference first"))
			return
		}
	}
	identity, err := s.p.authorize(s.r, name)
	if err != nil {
		s.sendError(signal.Errorf(signal.CodeUnauthorized, "%v", err))
		return
	}
	h, offer, err := s.p.join(name, identity, sourceOf(s.r), s.notify)
	if err != nil {
		switch {
		case errors.Is(err, ErrFull):
			s.p.refusedJoin("ws", s.r, name, err)
			s.sendError(signal.Errorf(signal.CodeFull, "%v", err))
		case errors.Is(err, ErrClosed):
			s.sendError(signal.Errorf(signal.CodeInternal, "the server is shutting down"))
		default:
			s.p.log.Warn("join failed", "conference", name, "err", err)
			s.sendError(signal.Errorf(signal.CodeInternal, "cannot create the peer"))
		}
		return
	}
	s.peer = h
	s.watchJoined(h)
	s.send(signal.TypeSdpOffer, signal.SDP{SDP: offer, Peer: h.member.ID})
	s.notify(h.member.ID, peer.StateNew)
}

// notify runs on the peer's goroutine: it only queues.
func (s *wsConn) notify(id string, st peer.State) {
	s.send(signal.TypePeerState, signal.PeerState{State: st.String(), Peer: id})
	s.notifyWatch(id, st)
}

func (s *wsConn) answer(text string) {
	if s.peer == nil {
		s.sendError(signal.Errorf(signal.CodeNotJoined, "SdpAnswer before JoinConference"))
		return
	}
	sess, err := sdp.Parse(text)
	if err != nil {
		s.peer.badAnswer()
		s.sendError(signal.Errorf(signal.CodeBadAnswer, "%v", err))
		return
	}
	remote, err := sess.RemoteAnswer(s.p.cfg.codecs())
	if err != nil {
		s.peer.badAnswer()
		s.sendError(signal.Errorf(signal.CodeBadAnswer, "%v", err))
		return
	}
	err = s.peer.setRemote(s.ctx, sess, remote)
	if errors.Is(err, udpmux.ErrLoopDone) {
		s.peer = nil
		s.sendError(signal.Errorf(signal.CodeNotJoined, "the peer has ended; send JoinConference again"))
		return
	}
	if err != nil {
		s.peer.badAnswer()
		s.sendError(signal.Errorf(signal.CodeBadAnswer, "%v", err))
		return
	}
	s.peer.answerApplied()
	s.watchAnswered(s.peer)
	s.peer.log.Debug("answer accepted", "video", remote.VideoCodec, "videoPT", remote.VideoPT, "audioPT", remote.AudioPT)
}

func (s *wsConn) leave() {
	if s.peer == nil {
		return
	}
	s.peer.leave()
	s.watchGone(s.peer)
	s.peer = nil
}
