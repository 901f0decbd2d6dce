package dtls

import (
	"context"
	"net/netip"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
)

// BenchmarkClientHandshake runs one full handshake of our client per
// iteration (HelloVerifyRequest included, AES-128-GCM, X25519, ECDSA
// P-256 both ways): against our server in one goroutine (ours), and against
// pion/dtls's server over the in-memory pipe (pion). client-ns/op is the
// time spent inside the client's calls alone.
func BenchmarkClientHandshake(b *testing.B) {
	cc, sc := ourConfigs(b)
	cc.CipherSuites = []uint16{TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	now := time.Unix(1_700_000_000, 0)

	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		var inClient time.Duration
		for b.Loop() {
			s, err := NewServer(sc, netip.MustParseAddrPort("192.0.2.7:4000"))
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			c, err := NewClient(cc, now)
			if err != nil {
				b.Fatal(err)
			}
			inClient += time.Since(t0)
			for range 4 {
				t0 := time.Now()
				out := collect(c)
				inClient += time.Since(t0)
				feedAll(now, s, out)
				in := collect(s)
				t0 = time.Now()
				feedAll(now, c, in)
				inClient += time.Since(t0)
			}
			if c.state != established {
				b.Fatalf("state %d", c.state)
			}
		}
		b.ReportMetric(float64(inClient.Nanoseconds())/float64(b.N), "client-ns/op")
	})

	b.Run("pion", func(b *testing.B) {
		_, serverTLS := testIdentity(b)
		cfg := cc
		cfg.ExpectedFingerprints = []Fingerprint{mustFingerprint(b, &Certificate{DER: serverTLS.Certificate[0]})}
		b.ReportAllocs()
		for b.Loop() {
			c, err := NewClient(cfg, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			inbox := make(chan []byte, 64)
			sc := newMemConn(func(p []byte) { inbox <- p })
			sc.local, sc.peer = memAddr("server"), memAddr("client")
			srv, err := piondtls.Server(sc, sc.peer, basePionServerConfig(serverTLS, cc.Certificate.Fingerprint()))
			if err != nil {
				b.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- srv.HandshakeContext(context.Background()) }()
			for c.state != established {
				for d := c.pollTransmit(); d != nil; d = c.pollTransmit() {
					sc.deliver(append([]byte(nil), d...))
				}
				if err := c.handleDatagram(time.Now(), <-inbox); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
			_ = srv.Close()
		}
	})
}
