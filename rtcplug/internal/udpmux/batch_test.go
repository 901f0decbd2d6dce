package udpmux

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// srcEndpoint records which source each datagram came from and its index.
type srcEndpoint struct {
	mu   sync.Mutex
	from map[netip.AddrPort][]uint32
}

func (e *srcEndpoint) Deliver(src netip.AddrPort, b *Buffer) bool {
	e.mu.Lock()
	e.from[src] = append(e.from[src], binary.BigEndian.Uint32(b.B[4:]))
	e.mu.Unlock()
	b.Release()
	return true
}

// TestBatchedReadsKeepSources: bursts from several sources, read many per
// system call, each reach the peer with its own source address, in order.
func TestBatchedReadsKeepSources(t *testing.T) {
	for _, single := range []bool{false, true} {
		m, err := Listen(0, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.single = single
		ep := &srcEndpoint{from: map[netip.AddrPort][]uint32{}}
		r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{}}
		var conns []*net.UDPConn
		for range 4 {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns = append(conns, c)
			r.addrs[c.LocalAddr().(*net.UDPAddr).AddrPort()] = ep
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = m.Run(ctx, r) }()
		to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), m.Port()))
		const per = 200
		pkt := make([]byte, 1200)
		pkt[0], pkt[1] = 0x80, 96 // RTP
		for i := range per {
			for _, c := range conns {
				binary.BigEndian.PutUint32(pkt[4:], uint32(i))
				if _, err := c.WriteToUDP(pkt, to); err != nil {
					t.Fatal(err)
				}
			}
		}
		eventually(t, "all routed", func() bool { return m.Stats().Routed == 4*per })
		ep.mu.Lock()
		for src, got := range ep.from {
			if len(got) != per {
				t.Errorf("single=%v: %v: %d datagrams", single, src, len(got))
			}
			for i, v := range got {
				if v != uint32(i) {
					t.Fatalf("single=%v: %v: datagram %d carries %d", single, src, i, v)
				}
			}
		}
		if len(ep.from) != 4 {
			t.Errorf("single=%v: %d sources", single, len(ep.from))
		}
		ep.mu.Unlock()
		cancel()
		<-done
	}
}

type logRecords struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Level >= slog.LevelInfo {
		l.msgs = append(l.msgs, r.Message)
	}
	return nil
}
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

// TestSocketBufferLogged: the effective kernel buffer is logged at Info.
func TestSocketBufferLogged(t *testing.T) {
	h := &logRecords{}
	m, err := Listen(0, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !strings.Contains(strings.Join(h.msgs, "\n"), "udp socket buffer") {
		t.Fatalf("logged %q", h.msgs)
	}
}

// countEndpoint releases and counts.
type countEndpoint struct{ n atomic.Int64 }

func (e *countEndpoint) Deliver(_ netip.AddrPort, b *Buffer) bool {
	e.n.Add(1)
	b.Release()
	return true
}

// BenchmarkSocketToPeer: one RTP-sized datagram from a loopback sender
// through the kernel, the read loop (batched or one per call), RFC 7983
// classification and address routing, to the peer's Deliver. The sender
// keeps at most 256 datagrams in flight so that nothing is lost; its own
// cost is part of the figure.
func BenchmarkSocketToPeer(b *testing.B) {
	for _, mode := range []struct {
		name   string
		single bool
	}{{"recvmmsg", false}, {"recvfrom", true}} {
		b.Run(mode.name, func(b *testing.B) {
			m, err := Listen(0, nil)
			if err != nil {
				b.Fatal(err)
			}
			m.single = mode.single
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ep := &countEndpoint{}
			r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{c.LocalAddr().(*net.UDPAddr).AddrPort(): ep}}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); _ = m.Run(ctx, r) }()
			to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), m.Port())
			pkt := make([]byte, 1200)
			pkt[0], pkt[1] = 0x80, 96
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				for int64(i)-ep.n.Load() > 256 {
					time.Sleep(20 * time.Microsecond)
				}
				if _, err := c.WriteToUDPAddrPort(pkt, to); err != nil {
					b.Fatal(err)
				}
			}
			for ep.n.Load() < int64(b.N) {
				if s := m.Stats(); s.Received < s.Routed {
					b.Fatal("counters")
				}
				time.Sleep(50 * time.Microsecond)
			}
			b.StopTimer()
			if c := cpuTime() - c0; c > 0 {
				b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
			cancel()
			<-done
		})
	}
}

// BenchmarkReadLoopDrain is the read loop's own cost per datagram: 512
// RTP-sized datagrams wait in the socket buffer (written with the timer
// stopped), then the loop's reader drains and routes them to the peer's
// Deliver: batched (recvmmsg) against one read per datagram.
func BenchmarkReadLoopDrain(b *testing.B) {
	for _, mode := range []struct {
		name   string
		single bool
	}{{"recvmmsg", false}, {"recvfrom", true}} {
		b.Run(mode.name, func(b *testing.B) {
			m, err := Listen(0, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ep := &countEndpoint{}
			r := &fakeRouter{addrs: map[netip.AddrPort]Endpoint{c.LocalAddr().(*net.UDPAddr).AddrPort(): ep}}
			to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), m.Port())
			pkt := make([]byte, 1200)
			pkt[0], pkt[1] = 0x80, 96
			var br batchReader
			if !mode.single {
				if br = newBatchReader(m.conn); br == nil {
					b.Skip("no batched reads on this system")
				}
			}
			buf := make([]byte, readBufSize)
			const chunk = 512
			var cpu time.Duration
			b.ReportAllocs()
			for done := 0; done < b.N; done += chunk {
				b.StopTimer()
				for range chunk {
					if _, err := c.WriteToUDPAddrPort(pkt, to); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				c0 := cpuTime()
				for got := 0; got < chunk; {
					if br != nil {
						n, err := br.read(true)
						if err != nil {
							b.Fatal(err)
						}
						for i := range n {
							d, src, _ := br.datagram(i)
							m.route(r, netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), d)
						}
						got += n
						continue
					}
					n, src, err := m.conn.ReadFromUDPAddrPort(buf)
					if err != nil {
						b.Fatal(err)
					}
					m.route(r, netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), buf[:n])
					got++
				}
				cpu += cpuTime() - c0
			}
			b.StopTimer()
			// b.N rounded up to whole chunks: report per datagram.
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ep.n.Load()), "ns/datagram")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(ep.n.Load()), "cpu-ns/datagram")
		})
	}
}

// eventually waits for cond, which the socket's read loop makes true; the
// limit only guards against a hang (UDP on loopback gives no event to wait on).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
