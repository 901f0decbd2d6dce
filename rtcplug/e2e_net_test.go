package rtcplug_test

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
)

// lossyPath relays UDP between pion and the plugin like a NAT, dropping
// every dropEvery-th RTP packet from the sender and swapping every
// swapEvery-th with the one after it.
type lossyPath struct {
	front, back *net.UDPConn
	server      netip.AddrPort
	client      atomic.Pointer[netip.AddrPort]
	dropped     atomic.Int64
	wg          sync.WaitGroup
}

func newLossyPath(t *testing.T, server netip.AddrPort, dropEvery, swapEvery int) *lossyPath {
	t.Helper()
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	front, err := net.ListenUDP("udp4", lo)
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.ListenUDP("udp4", lo)
	if err != nil {
		t.Fatal(err)
	}
	l := &lossyPath{front: front, back: back, server: server}
	l.wg.Add(2)
	go func() { // sender → plugin, with loss and reordering of RTP
		defer l.wg.Done()
		buf := make([]byte, 2048)
		var held []byte
		n := 0
		for {
			m, src, err := front.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			l.client.Store(&src)
			b := buf[:m]
			if b[0] >= 128 && b[0] <= 191 && (b[1] < 192 || b[1] > 223) { // RTP, not RTCP
				n++
				if n%dropEvery == 0 {
					l.dropped.Add(1)
					continue
				}
				if n%swapEvery == 0 && held == nil {
					held = append([]byte(nil), b...)
					continue
				}
			}
			_, _ = back.WriteToUDPAddrPort(b, server)
			if held != nil {
				_, _ = back.WriteToUDPAddrPort(held, server)
				held = nil
			}
		}
	}()
	relayBack(t, &l.wg, front, back, &l.client)
	return l
}

// relayBack forwards what the plugin sends (on back) to the sender's address
// (client, once known) through front, and closes both sockets at the end of
// the test. wg counts every relay goroutine of the path.
func relayBack(t *testing.T, wg *sync.WaitGroup, front, back *net.UDPConn, client *atomic.Pointer[netip.AddrPort]) {
	go func() { // plugin → sender
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, _, err := back.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if c := client.Load(); c != nil {
				_, _ = front.WriteToUDPAddrPort(buf[:n], *c)
			}
		}
	}()
	t.Cleanup(func() {
		front.Close()
		back.Close()
		wg.Wait()
	})
}

func (l *lossyPath) port() uint16 { return l.front.LocalAddr().(*net.UDPAddr).AddrPort().Port() }

// TestLossAndReordering: with packets lost and reordered on the way, NACKs
// and PLIs keep keyframes coming (pion answers NACKs with retransmissions).
func TestLossAndReordering(t *testing.T) {
	s := newServer(t)
	port := s.plugin.UDPAddr().Port()
	path := newLossyPath(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), 17, 11)
	w := dial(t, s.wsURL())
	p := connectWith(t, w, "lossy", pionConfig{profile: piondtls.SRTP_AES128_CM_HMAC_SHA1_80, interceptors: true},
		func(offer string) string {
			from := fmt.Sprintf("127.0.0.1 %d typ host", port)
			if !strings.Contains(offer, from) {
				t.Fatalf("no %q in\n%s", from, offer)
			}
			return strings.ReplaceAll(offer, from, fmt.Sprintf("127.0.0.1 %d typ host", path.port()))
		}, nil)
	waitConnected(t, p)
	p.stream(t, 3*time.Second)
	s.awaitKeyframes("keyframes despite loss", func() bool { return len(s.keyframesOf("lossy", p.id)) >= 2 })
	st := s.plugin.Stats()
	t.Logf("dropped on the path: %d; stats %+v", path.dropped.Load(), st)
	if path.dropped.Load() == 0 || st.NACKs == 0 {
		t.Fatalf("the path dropped %d, the plugin sent %d NACKs", path.dropped.Load(), st.NACKs)
	}
	for _, f := range s.files() {
		checkJPEG(t, s.dir+"/"+f)
	}
}
