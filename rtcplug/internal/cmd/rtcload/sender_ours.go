package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
	"github.com/nutsbolts/webrtc/rtcplug/internal/rtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/testpeer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/vp8"
)

// dialer connects one sender to a WHIP endpoint; it returns once ICE and
// DTLS are up or ctx ends.
type dialer interface {
	connect(ctx context.Context, url string) (*sender, error)
}

type pionDialer struct{ api *webrtc.API }

func (d pionDialer) connect(ctx context.Context, url string) (*sender, error) {
	return connect(ctx, d.api, url)
}

// newDialer returns the senders of kind "pion" or "ours".
func newDialer(kind string, frames [][]byte, fps, sources int) (dialer, error) {
	switch kind {
	case "pion":
		api, err := newSenderAPI()
		if err != nil {
			return nil, err
		}
		return pionDialer{api}, nil
	case "ours":
		return newFleet(frames, fps, sources)
	}
	return nil, fmt.Errorf("unknown sender %q", kind)
}

// reportSenders notes on stderr what the senders themselves could not do in
// the last run (frames the pacer skipped because the senders' core was
// saturated): those frames were neither sent nor counted, so loss stays
// exact, but the offered load was lower than asked.
func reportSenders(d dialer) {
	if f, ok := d.(*fleet); ok {
		if n := f.late.Swap(0); n > 0 {
			fmt.Fprintf(os.Stderr, "rtcload: the senders' pacer ran late and skipped %d frame slots: their core is busy\n", n)
		}
		if n := f.failed.Swap(0); n > 0 {
			fmt.Fprintf(os.Stderr, "rtcload: %d packets failed to protect or send\n", n)
		}
	}
}

// The "ours" senders are built from the project's own stun, dtls and srtp
// packages (through testpeer.Client) and cost little per stream: the IVF is
// packetized once into shared, read-only packets; one pacing goroutine per
// CPU sends every sender's frames from a shared tick, writing only the
// header fields that differ into a scratch buffer and protecting it in
// place; each sender keeps its own UDP socket, because the receiver routes
// by source address, and a reader goroutine that is idle but for the
// receiver's RTCP and the consent checks.
const (
	// mtu is the pion senders' (rtp.NewPacketizer(1200, ...)).
	mtu = 1200
	// descLen is the VP8 payload descriptor with X, I and a 15-bit picture
	// ID (RFC 7741 §4.2), as pion's VP8Payloader with EnablePictureID and
	// browsers write it.
	descLen = 4
	// maxFragment is the VP8 data of one packet.
	maxFragment = mtu - rtp.FixedHeaderLen - descLen
	// picOffset is where the picture ID sits in a packet.
	picOffset = rtp.FixedHeaderLen + 2
	// videoPT is what the offer proposes for VP8.
	videoPT = 96
	// slotLen is the pacing tick: senders are spread over the slots of one
	// frame interval so that the receiver sees a steady stream rather
	// than every sender's frame in one burst.
	slotLen = time.Millisecond
	// keepAlive is how often a connected sender sends a consent check
	// (RFC 7675); pion's controlling agent sends one every 2 s.
	keepAlive = 2 * time.Second
	// maxCatchUp is the most slots one tick sends.
	maxCatchUp = 4
)

// fleet is every "ours" sender of a run and what they share.
type fleet struct {
	cert *dtls.Certificate
	// frames holds, per IVF frame, its RTP packets in plaintext with the
	// sequence number, timestamp, SSRC and picture ID left zero.
	frames  [][][]byte
	step    uint32 // RTP timestamp per frame (90 kHz clock)
	slots   int    // per frame interval
	slotDur time.Duration
	sources int
	pacers  []*pacer
	next    atomic.Uint32

	late, failed atomic.Uint64
}

func newFleet(frames [][]byte, fps, sources int) (*fleet, error) {
	if fps < 1 || fps > 1000 {
		return nil, fmt.Errorf("fps %d out of range", fps)
	}
	// One certificate for all: generating one per sender is CPU spent
	// while others already stream, and the receiver only checks that the
	// fingerprint matches the offer.
	cert, err := dtls.GenerateCertificate(rand.Reader, time.Now())
	if err != nil {
		return nil, err
	}
	interval := time.Second / time.Duration(fps)
	f := &fleet{
		cert:    cert,
		frames:  packetize(frames),
		step:    uint32(90000 / fps),
		slots:   max(1, int(interval/slotLen)),
		sources: max(1, min(sources, 254)),
	}
	f.slotDur = interval / time.Duration(f.slots)
	for range runtime.GOMAXPROCS(0) {
		f.pacers = append(f.pacers, &pacer{f: f, scratch: make([]byte, 0, 1500)})
	}
	return f, nil
}

// packetize splits every frame as pion's VP8Payloader does for a 1200-byte
// MTU (the same packet count per frame, so raw loss compares): a 4-byte
// descriptor with S set on the first packet, the marker bit on the last.
func packetize(frames [][]byte) [][][]byte {
	out := make([][][]byte, len(frames))
	for i, fr := range frames {
		for off := 0; off < len(fr); off += maxFragment {
			n := min(maxFragment, len(fr)-off)
			h := rtp.Header{Version: rtp.Version, PayloadType: videoPT, Marker: off+n == len(fr)}
			b := h.MarshalTo(make([]byte, 0, rtp.FixedHeaderLen+descLen+n))
			d := vp8.Descriptor{Start: off == 0, HasPictureID: true, LongPictureID: true}
			b = d.MarshalTo(b)
			out[i] = append(out[i], append(b, fr[off:off+n]...))
		}
	}
	return out
}

// oursSender is the connection state of one "ours" sender.
type oursSender struct {
	f    *fleet
	s    *sender // the accounting the tool reads
	conn *net.UDPConn
	to   netip.AddrPort // the receiver's candidate

	// c is the client's ICE and DTLS state: the handshake's, then the
	// reader goroutine's.
	c          *testpeer.Client
	closing    atomic.Bool
	closeOnce  sync.Once
	readerDone chan struct{}

	// The pacer's: its own copy of c.Out, and the stream's header fields.
	p         *pacer
	out       *srtp.Context
	ssrc      uint32
	seq       uint16
	ts        uint32
	pic       uint16 // 15-bit picture ID
	frame     int
	slot, idx int // where in p.slots
	state     int // under p.mu
	left      chan struct{}
}

// connect offers (WHIP, RFC 9725), runs ICE and DTLS in the role the answer
// gives, and derives the SRTP keys.
func (f *fleet) connect(ctx context.Context, url string) (*sender, error) {
	i := int(f.next.Add(1) - 1)
	src := netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i%f.sources)})
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)))
	if err != nil {
		return nil, err
	}
	o := &oursSender{
		f: f, conn: conn, p: f.pacers[i%len(f.pacers)],
		ssrc: mrand.Uint32(), seq: uint16(mrand.Uint32()), ts: mrand.Uint32(), pic: uint16(mrand.Uint32()) & 0x7fff,
		readerDone: make(chan struct{}),
	}
	s := &sender{ours: o}
	o.s = s
	if err := o.handshake(ctx, url, s); err != nil {
		_ = conn.Close()
		return nil, err
	}
	s.connected = time.Now()
	s.up.Store(true)
	o.out = o.c.Out
	go o.read()
	return s, nil
}

func (o *oursSender) handshake(ctx context.Context, url string, s *sender) error {
	local := o.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	ufrag, pwd := rand.Text()[:8], rand.Text()
	offer := o.f.offer(ufrag, pwd, local, o.ssrc)
	s.post = time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(offer))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, sdp.MaxSize))
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("WHIP POST: %s: %s", resp.Status, strings.TrimSpace(string(answer)))
	}
	sess, err := sdp.Parse(string(answer))
	if err != nil {
		return err
	}
	rem, err := sess.RemoteAnswer(nil)
	if err != nil {
		return err
	}
	if rem.VideoPT != videoPT {
		return fmt.Errorf("answer took payload type %d, offered %d", rem.VideoPT, videoPT)
	}
	fp := ""
	for _, x := range rem.Fingerprints {
		if strings.EqualFold(x.Algorithm, "sha-256") {
			fp = x.Value
		}
	}
	if fp == "" {
		return errors.New("answer has no sha-256 fingerprint")
	}
	for _, m := range sess.Media {
		for _, c := range m.Candidates {
			if !o.to.IsValid() && c.Protocol == "udp" && c.Addr.Addr().Unmap().Is4() {
				o.to = netip.AddrPortFrom(c.Addr.Addr().Unmap(), c.Addr.Port())
			}
		}
	}
	if !o.to.IsValid() {
		return errors.New("answer has no UDP IPv4 candidate")
	}
	// RFC 5763 §5: an answer of active makes us the DTLS server; passive
	// (what an ICE-lite answerer such as rtcplug says to actpass) makes us
	// the client.
	now := time.Now()
	o.c, err = testpeer.NewClient(testpeer.ClientConfig{
		Addr: local, Server: o.to,
		ServerUfrag: rem.ICEUfrag, ServerPwd: rem.ICEPwd, ServerFingerprint: fp,
		Ufrag: ufrag, Pwd: pwd, Passive: rem.Setup == sdp.SetupActive,
		KeepAlive: keepAlive, Certificate: o.f.cert,
	}, now)
	if err != nil {
		return err
	}
	o.c.Start(now)
	stop := context.AfterFunc(ctx, func() { _ = o.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 1500)
	err = o.pump(buf, func() bool { return o.c.Connected || o.c.Err != nil || ctx.Err() != nil })
	switch {
	case o.c.Connected:
		return nil
	case o.c.Err != nil:
		return o.c.Err
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

// offer is a sendonly VP8 offer as a browser writes it for WHIP: one
// BUNDLE'd section, actpass, rtcp-mux, the SSRC declared, our one host
// candidate. It asks for the feedback the pion senders' offer asks for, so
// that the receiver treats both alike; neither answers NACK or PLI: what
// is lost stays lost.
func (f *fleet) offer(ufrag, pwd string, local netip.AddrPort, ssrc uint32) string {
	var b strings.Builder
	w := func(s ...any) { fmt.Fprint(&b, s...); b.WriteString("\r\n") }
	w("v=0")
	w("o=- ", mrand.Int64(), " 2 IN IP4 127.0.0.1")
	w("s=-")
	w("t=0 0")
	w("a=group:BUNDLE 0")
	w("a=msid-semantic: WMS rtcload")
	w("m=video 9 UDP/TLS/RTP/SAVPF ", videoPT)
	w("c=IN IP4 0.0.0.0")
	w("a=ice-ufrag:", ufrag)
	w("a=ice-pwd:", pwd)
	w("a=fingerprint:sha-256 ", f.cert.Fingerprint())
	w("a=setup:", sdp.SetupActPass)
	w("a=mid:0")
	w("a=", sdp.SendOnly)
	w("a=rtcp-mux")
	w("a=rtcp-rsize")
	w("a=rtpmap:", videoPT, " VP8/90000")
	for _, fb := range [...]string{"nack", "nack pli", "transport-cc"} {
		w("a=rtcp-fb:", videoPT, " ", fb)
	}
	w("a=msid:rtcload video")
	w("a=ssrc:", ssrc, " cname:rtcload")
	w("a=candidate:", sdp.Candidate{Foundation: "1", Priority: 2130706431, Addr: local})
	w("a=end-of-candidates")
	return b.String()
}

// pump runs the client on the socket until stop holds or the socket fails:
// it sends what the client queued, reads until the client's next timer, and
// fires the timers. Once connected, SRTCP (the receiver's reports and
// feedback) is read and dropped, so it never fills the socket buffer.
func (o *oursSender) pump(buf []byte, stop func() bool) error {
	write := func(_, to netip.AddrPort, b []byte) { _, _ = o.conn.WriteToUDPAddrPort(b, to) }
	for {
		o.c.Drain(write)
		if stop() {
			return nil
		}
		now := time.Now()
		wake := now.Add(time.Second)
		if d := o.c.Deadline(); !d.IsZero() && d.Before(wake) {
			wake = d
		}
		_ = o.conn.SetReadDeadline(wake)
		// A closer sets the flag before it moves the deadline to the past:
		// one of the two is seen here.
		if stop() {
			return nil
		}
		n, from, err := o.conn.ReadFromUDPAddrPort(buf)
		now = time.Now()
		switch {
		case err == nil:
			if o.out == nil || n == 0 || buf[0] < 128 || buf[0] > 191 {
				o.c.HandleDatagram(now, from, o.c.From(), buf[:n])
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
		default:
			return err
		}
		if d := o.c.Deadline(); !d.IsZero() && !now.Before(d) {
			o.c.HandleTimeout(now)
		}
	}
}

// read serves the connected client until close: consent checks, DTLS
// retransmissions, and the receiver's RTCP to drop.
func (o *oursSender) read() {
	defer close(o.readerDone)
	buf := make([]byte, 1500)
	_ = o.pump(buf, o.closing.Load)
	o.c.Close(time.Now())
	o.c.Drain(func(_, to netip.AddrPort, b []byte) { _, _ = o.conn.WriteToUDPAddrPort(b, to) })
	_ = o.conn.Close()
}

// stream sends until ctx ends; the pacer does the work.
func (o *oursSender) stream(ctx context.Context) {
	o.p.join(o)
	<-ctx.Done()
	o.p.leave(o)
}

// close stops streaming, says close_notify and closes the socket.
func (o *oursSender) close() {
	o.p.leave(o)
	o.closeOnce.Do(func() {
		o.closing.Store(true)
		_ = o.conn.SetReadDeadline(time.Unix(1, 0))
		<-o.readerDone
	})
}

// Sender states, under pacer.mu.
const (
	stIdle = iota
	stJoining
	stActive
	stLeaving
	stGone
)

// pacer sends the frames of its senders, each in its slot of the frame
// interval, from one goroutine that runs while it has senders.
type pacer struct {
	f       *fleet
	mu      sync.Mutex
	joins   []*oursSender
	leaves  []*oursSender
	running bool

	// Owned by the running goroutine.
	slots   [][]*oursSender
	active  int
	scratch []byte
	joined  []*oursSender
}

func (p *pacer) join(o *oursSender) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if o.state != stIdle {
		return
	}
	o.state, o.left = stJoining, make(chan struct{})
	p.joins = append(p.joins, o)
	if !p.running {
		p.running = true
		go p.run()
	}
}

// leave returns once the pacer no longer touches o.
func (p *pacer) leave(o *oursSender) {
	p.mu.Lock()
	switch o.state {
	case stJoining:
		for i, x := range p.joins {
			if x == o {
				p.joins = append(p.joins[:i], p.joins[i+1:]...)
				break
			}
		}
		o.state = stGone
	case stActive:
		o.state = stLeaving
		p.leaves = append(p.leaves, o)
	case stIdle:
		o.state = stGone // closed before it streamed: it never will
	}
	left, wait := o.left, o.state == stLeaving
	p.mu.Unlock()
	if wait {
		<-left
	}
}

func (p *pacer) run() {
	f := p.f
	if p.slots == nil {
		p.slots = make([][]*oursSender, f.slots)
	}
	tick := time.NewTicker(f.slotDur)
	defer tick.Stop()
	start, next := time.Now(), 0
	for {
		p.mu.Lock()
		for _, o := range p.leaves {
			p.remove(o)
			o.state = stGone
			close(o.left)
		}
		p.leaves = p.leaves[:0]
		p.joined = append(p.joined[:0], p.joins...)
		p.joins = p.joins[:0]
		for _, o := range p.joined {
			o.state = stActive
		}
		if p.active == 0 && len(p.joined) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()

		// The slots that are due, but at most maxCatchUp per tick: after a
		// stall (the core is shared) the backlog goes out at a few times
		// the nominal rate instead of in one burst that would overflow
		// the receiver's socket buffer. A pacer more than a frame
		// interval behind skips frames, as a ticker drops ticks.
		due := int(time.Since(start) / f.slotDur)
		if due-next >= f.slots {
			f.late.Add(uint64(due - next - f.slots + 1))
			next = due - f.slots + 1
		}
		for end := min(due, next+maxCatchUp-1); next <= end; next++ {
			for _, o := range p.slots[next%f.slots] {
				p.send(o)
			}
		}
		// A new sender sends its first frame (a keyframe) at once, as a
		// pion sender does, then keeps the least loaded slot, preferring
		// the one just sent (a full interval away).
		for _, o := range p.joined {
			best := -1
			for k := range f.slots {
				s := ((next-1-k)%f.slots + f.slots) % f.slots
				if best < 0 || len(p.slots[s]) < len(p.slots[best]) {
					best = s
				}
			}
			o.slot, o.idx = best, len(p.slots[best])
			p.slots[best] = append(p.slots[best], o)
			p.active++
			p.send(o)
		}
		<-tick.C
	}
}

func (p *pacer) remove(o *oursSender) {
	s := p.slots[o.slot]
	last := s[len(s)-1]
	s[o.idx], last.idx = last, o.idx
	s[len(s)-1] = nil
	p.slots[o.slot] = s[:len(s)-1]
	p.active--
}

// send writes o's next frame: the shared packets with o's header fields,
// protected in the scratch buffer. No allocation.
func (p *pacer) send(o *oursSender) {
	var sent uint64
	for _, t := range p.f.frames[o.frame] {
		b := p.scratch[:len(t)]
		copy(b, t)
		binary.BigEndian.PutUint16(b[2:4], o.seq)
		binary.BigEndian.PutUint32(b[4:8], o.ts)
		binary.BigEndian.PutUint32(b[8:12], o.ssrc)
		b[picOffset] = 0x80 | byte(o.pic>>8)
		b[picOffset+1] = byte(o.pic)
		o.seq++
		enc, err := o.out.EncryptRTP(b[:0], b, nil)
		if err == nil {
			_, err = o.conn.WriteToUDPAddrPort(enc, o.to)
		}
		if err != nil {
			p.f.failed.Add(1)
			continue
		}
		sent++
	}
	if sent > 0 {
		if o.s.firstRTP.IsZero() {
			o.s.firstRTP = time.Now()
		}
		o.s.sent.Add(sent)
	}
	o.ts += p.f.step
	o.pic = (o.pic + 1) & 0x7fff
	o.frame = (o.frame + 1) % len(p.f.frames)
}
