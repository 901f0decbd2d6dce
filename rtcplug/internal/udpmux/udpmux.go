// Package udpmux owns the one UDP socket every peer shares. A single read loop
// (on Linux reading up to 64 datagrams per recvmmsg(2) call, into a 4 MiB
// kernel buffer) copies each datagram out of the read buffer, classifies it by its first
// byte (RFC 7983) and routes it: a source address ICE has bound goes to its
// peer; otherwise a STUN request finds its peer by the local ufrag in
// USERNAME; anything else from an unbound address is dropped. Each peer runs
// in its own goroutine (Loop), fed through a bounded inbox that drops when
// full. Under load the reads are spaced (coalesce.go), so that each returns
// many datagrams and the process wakes once per read, not per datagram.
package udpmux

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/ice"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"

	"github.com/nutsbolts/webrtc/rtcplug/internal/demux"
)

// Sizes.
const (
	// readBufSize is larger than any datagram we accept so that an oversized
	// one is seen as such (and dropped) rather than silently truncated.
	readBufSize = 2048
	// batchSize is how many datagrams one batched read may return.
	batchSize = 64
	// MaxDatagram is the largest datagram routed to a peer: the peer's bound.
	MaxDatagram = peer.MaxDatagram
	// SocketBuffer is the kernel buffer size asked for, to absorb bursts of
	// video packets (a keyframe is dozens of packets at once) and the moments
	// the reader waits for a core: 4 MiB holds about 1,800 full-size
	// datagrams with the kernel's per-packet overhead.
	SocketBuffer = 4 << 20
)

// Endpoint receives the datagrams routed to one peer.
type Endpoint interface {
	// Deliver hands over b (owned by the endpoint from now on, to be
	// returned with Release) without blocking; false means it was dropped.
	Deliver(src netip.AddrPort, b *Buffer) bool
}

// Router finds the endpoint of a datagram.
type Router interface {
	ByAddr(netip.AddrPort) (Endpoint, bool)
	// ByUfrag finds the peer whose local ICE ufrag is u. u points into the
	// read buffer: look it up (m[string(u)] does not allocate), do not keep it.
	ByUfrag(u []byte) (Endpoint, bool)
}

// Tap sees datagrams from unbound addresses before ufrag routing (STUN
// discovery responses); it returns true when it consumed b. It runs on the
// read loop and must not block or keep b.
type Tap func(src netip.AddrPort, b []byte) bool

// Buffer is one datagram, copied out of the read buffer. A Binding request
// also comes decoded (the read loop decodes it to find its peer by USERNAME),
// so that the peer does not decode it again.
type Buffer struct {
	B   []byte
	arr [MaxDatagram]byte

	msg     stun.Message
	binding bool // msg holds B, a Binding request
}

// Binding returns the decoded Binding request B holds, if it is one.
func (b *Buffer) Binding() (*stun.Message, bool) { return &b.msg, b.binding }

var bufPool = sync.Pool{New: func() any { return new(Buffer) }}

func getBuffer(b []byte) *Buffer {
	buf := bufPool.Get().(*Buffer)
	buf.B = buf.arr[:copy(buf.arr[:], b)]
	buf.binding = false
	return buf
}

// Release returns the buffer to the pool; b must not be used afterwards.
func (b *Buffer) Release() {
	b.B = nil
	bufPool.Put(b)
}

// Stats counts the read loop's work.
type Stats struct {
	// Reads counts the socket reads, Received the datagrams they returned
	// (a spaced read may return none).
	Reads                                          uint64
	Received, Routed, Dropped, Unrouted, Oversized uint64
}

// PacketConn is what the mux needs of its socket; *net.UDPConn has it, and
// tests use an in-memory one.
type PacketConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	Close() error
}

// Mux is the socket and its read loop.
type Mux struct {
	conn PacketConn
	addr netip.AddrPort
	log  *slog.Logger

	tap    atomic.Pointer[Tap]
	routes *Table
	// single turns batched reads off (benchmarks compare the two).
	single bool
	// co spaces batched reads under load (coalesce.go).
	co coalescer

	reads, received, routed, dropped, unrouted, oversized atomic.Uint64
}

// Listen binds the UDP port on every address, IPv4 and IPv6 when the system
// has both ("udp" is dual-stack); port 0 picks a free port.
func Listen(port int, log *slog.Logger) (*Mux, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("udpmux: bad port %d", port)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: port})
	if err != nil {
		return nil, fmt.Errorf("udpmux: %w", err)
	}
	m := New(conn, conn.LocalAddr().(*net.UDPAddr).AddrPort(), log)
	rcv, forced := setBuffers(conn, SocketBuffer)
	// The kernel reports twice what it grants (its bookkeeping included).
	m.log.Info("udp socket buffer", "asked", SocketBuffer, "effective", rcv, "forced", forced)
	if rcv < SocketBuffer {
		m.log.Info("udp socket buffer below what was asked: raise net.core.rmem_max or grant CAP_NET_ADMIN",
			"effective", rcv)
	}
	return m, nil
}

// New wraps an open socket whose local address is addr.
func New(conn PacketConn, addr netip.AddrPort, log *slog.Logger) *Mux {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Mux{conn: conn, addr: addr, log: log, routes: NewTable(),
		co: coalescer{now: time.Now, yield: runtime.Gosched, sleep: pauseReads}}
}

// Routes is the mux's routing table; the peers' loops keep it up to date and
// Run is normally given it as the Router.
func (m *Mux) Routes() *Table { return m.routes }

// LocalAddr is the bound address (the wildcard address and the port).
func (m *Mux) LocalAddr() netip.AddrPort { return m.addr }

// Port is the bound port.
func (m *Mux) Port() uint16 { return m.addr.Port() }

// SetTap installs (or with nil removes) the tap.
func (m *Mux) SetTap(t Tap) {
	if t == nil {
		m.tap.Store(nil)
		return
	}
	m.tap.Store(&t)
}

// WriteTo sends one datagram.
func (m *Mux) WriteTo(b []byte, to netip.AddrPort) error {
	_, err := m.conn.WriteToUDPAddrPort(b, to)
	return err
}

// Close closes the socket; Run returns.
func (m *Mux) Close() error { return m.conn.Close() }

// Stats returns the counters.
func (m *Mux) Stats() Stats {
	return Stats{Reads: m.reads.Load(), Received: m.received.Load(), Routed: m.routed.Load(), Dropped: m.dropped.Load(),
		Unrouted: m.unrouted.Load(), Oversized: m.oversized.Load()}
}

// Run reads until the socket is closed (by Close, or when ctx ends).
func (m *Mux) Run(ctx context.Context, r Router) error {
	stop := context.AfterFunc(ctx, func() { _ = m.conn.Close() })
	defer stop()
	if !m.single {
		if br := newBatchReader(m.conn); br != nil {
			return m.runBatch(ctx, r, br)
		}
	}
	buf := make([]byte, readBufSize)
	for {
		n, src, err := m.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			// ICMP errors surface as read errors on some systems; keep going.
			m.log.Debug("udp read", "err", err)
			continue
		}
		m.reads.Add(1)
		m.received.Add(1)
		// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; routing keys
		// are the plain form.
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		m.route(r, src, buf[:n])
	}
}

// batchReader reads several datagrams per system call.
type batchReader interface {
	// read returns the datagrams waiting; with wait, it waits for one,
	// otherwise it may return none.
	read(wait bool) (int, error)
	datagram(i int) ([]byte, netip.AddrPort, error)
}

func (m *Mux) runBatch(ctx context.Context, r Router, br batchReader) error {
	for {
		m.co.wait()
		n, err := br.read(!m.co.spacing())
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			m.log.Debug("udp read", "err", err)
			continue
		}
		m.co.read(n, batchSize)
		m.reads.Add(1)
		m.received.Add(uint64(n))
		for i := range n {
			b, src, err := br.datagram(i)
			if err != nil {
				m.unrouted.Add(1)
				continue
			}
			m.route(r, netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), b)
		}
	}
}

func (m *Mux) route(r Router, src netip.AddrPort, b []byte) {
	if len(b) > MaxDatagram {
		m.oversized.Add(1)
		return
	}
	kind := demux.Classify(b)
	if kind == demux.KindUnknown {
		m.unrouted.Add(1)
		return
	}
	// A Binding request goes to the peer its USERNAME names, even from an
	// address bound to another peer: a NAT may give a released mapping to a
	// new client. That peer verifies MESSAGE-INTEGRITY and only then binds
	// (takes over) src; a check that fails changes nothing.
	var buf *Buffer
	if kind == demux.KindSTUN {
		buf = getBuffer(b)
		if ep, ok := byUsername(r, buf); ok {
			m.deliver(ep, src, buf)
			return
		}
	}
	if ep, ok := r.ByAddr(src); ok {
		if buf == nil {
			buf = getBuffer(b)
		}
		m.deliver(ep, src, buf)
		return
	}
	if buf != nil {
		buf.Release()
	}
	if t := m.tap.Load(); t != nil && (*t)(src, b) {
		return
	}
	// DTLS and SRTP only from addresses an ICE check has bound; STUN only for
	// a live peer.
	m.unrouted.Add(1)
}

// byUsername decodes buf as a Binding request and finds the peer it is for,
// without allocating.
func byUsername(r Router, buf *Buffer) (Endpoint, bool) {
	if err := buf.msg.Decode(buf.B); err != nil || buf.msg.Type != stun.TypeBindingRequest {
		return nil, false
	}
	buf.binding = true
	ufrag, ok := ice.LocalUfragBytes(&buf.msg)
	if !ok {
		return nil, false
	}
	return r.ByUfrag(ufrag)
}

func (m *Mux) deliver(ep Endpoint, src netip.AddrPort, buf *Buffer) {
	if !ep.Deliver(src, buf) {
		buf.Release()
		m.dropped.Add(1)
		return
	}
	m.routed.Add(1)
}
