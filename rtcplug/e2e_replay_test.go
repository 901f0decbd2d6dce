package rtcplug_test

import (
	"bytes"
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

// tapPath relays UDP between pion and the plugin, keeping a copy of the
// latest Binding request that went through: what an attacker on the path
// captures.
type tapPath struct {
	front, back *net.UDPConn
	client      atomic.Pointer[netip.AddrPort]
	mu          sync.Mutex
	check       []byte
	wg          sync.WaitGroup
}

func newTapPath(t *testing.T, server netip.AddrPort) *tapPath {
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
	tp := &tapPath{front: front, back: back}
	tp.wg.Add(2)
	go func() {
		defer tp.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, src, err := front.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			tp.client.Store(&src)
			if n >= 20 && buf[0] == 0x00 && buf[1] == 0x01 { // Binding request
				tp.mu.Lock()
				tp.check = bytes.Clone(buf[:n])
				tp.mu.Unlock()
			}
			_, _ = back.WriteToUDPAddrPort(buf[:n], server)
		}
	}()
	relayBack(t, &tp.wg, front, back, &tp.client)
	return tp
}

func (tp *tapPath) captured() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.check
}

// issue: one captured check replayed from 16 addresses at 2k/s bound every
// address, evicted the sender's, and the stream lost most of its keyframes.
// Now the replays get the old response and nothing else: no media feedback
// goes to a replaying address, and keyframes keep coming.
func TestReplayedCheckFromManyAddresses(t *testing.T) {
	s := newServer(t)
	server := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), s.plugin.UDPAddr().Port())
	tp := newTapPath(t, server)
	w := dial(t, s.wsURL())
	p := connectWith(t, w, "replay", pionConfig{profile: piondtls.SRTP_AEAD_AES_128_GCM}, func(offer string) string {
		from := fmt.Sprintf("127.0.0.1 %d typ host", server.Port())
		return strings.ReplaceAll(offer, from, fmt.Sprintf("127.0.0.1 %d typ host", tp.front.LocalAddr().(*net.UDPAddr).Port))
	}, nil)
	waitConnected(t, p)
	check := tp.captured()
	if check == nil {
		t.Fatal("no check captured")
	}

	// 16 attackers replay the check while pion streams; each counts what
	// the plugin sends it besides STUN.
	var media atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 16; i++ {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			buf := make([]byte, 2048)
			for {
				n, _, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				if n > 0 && buf[0] > 3 {
					media.Add(1)
				}
			}
		}()
		go func() {
			defer wg.Done()
			defer c.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = c.WriteToUDPAddrPort(check, server)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	p.stream(t, 3*time.Second)
	close(stop)
	wg.Wait()
	waitFor(t, "keyframes despite the replays", 10*time.Second, func() bool { return len(s.keyframesOf("replay", p.id)) >= 2 })
	if n := media.Load(); n != 0 {
		t.Fatalf("%d datagrams other than STUN went to replaying addresses", n)
	}
	if st := s.plugin.Stats(); st.Peers != 1 || st.Reports == 0 {
		t.Fatalf("stats %+v", st)
	}
}
