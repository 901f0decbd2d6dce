package dtls

import (
	"context"
	"crypto/tls"
	"net/netip"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
)

// BenchmarkHandshake runs one full handshake per iteration with the same
// pion/dtls client against our server (ours) and against pion/dtls's
// server (pion), over an in-memory pipe with the real clock and no loss,
// so no timer fires. ns/op is the whole handshake, client included; the
// client is identical in both, so the difference is the servers'. For
// ours, server-ns/op is the time spent inside handleDatagram alone.
func BenchmarkHandshake(b *testing.B) {
	serverCert, serverTLS := testIdentity(b)
	clientCert, clientTLS := testIdentity(b)
	clientCfg := func() *piondtls.Config {
		c := baseClientConfig(clientTLS, serverCert.Fingerprint())
		c.CipherSuites = []piondtls.CipherSuiteID{piondtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		return c
	}
	fp := mustFingerprint(b, clientCert)

	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		var inServer time.Duration
		for b.Loop() {
			inbox := make(chan []byte, 64)
			cc := newMemConn(func(p []byte) { inbox <- p })
			srv, err := NewServer(Config{Certificate: serverCert, ExpectedFingerprints: []Fingerprint{fp}},
				netip.MustParseAddrPort("192.0.2.1:1"))
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			finished := make(chan struct{})
			go func() {
				defer close(finished)
				for {
					select {
					case d := <-inbox:
						t0 := time.Now()
						srv.handleDatagram(t0, d)
						for out := srv.pollTransmit(); out != nil; out = srv.pollTransmit() {
							cc.deliver(append([]byte(nil), out...))
						}
						inServer += time.Since(t0)
					case <-done:
						return
					}
				}
			}()
			client, err := piondtls.Client(cc, cc.peer, clientCfg())
			if err != nil {
				b.Fatal(err)
			}
			if err := client.HandshakeContext(context.Background()); err != nil {
				b.Fatal(err)
			}
			close(done)
			<-finished
			client.Close()
		}
		b.ReportMetric(float64(inServer.Nanoseconds())/float64(b.N), "server-ns/op")
	})

	b.Run("pion", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var sc *memConn
			cc := newMemConn(func(p []byte) { sc.deliver(p) })
			sc = newMemConn(func(p []byte) { cc.deliver(p) })
			sc.local, sc.peer = memAddr("server"), memAddr("client")
			errc := make(chan error, 1)
			go func() {
				s, err := piondtls.Server(sc, sc.peer, &piondtls.Config{
					Certificates:           []tls.Certificate{serverTLS},
					ExtendedMasterSecret:   piondtls.RequireExtendedMasterSecret,
					ClientAuth:             piondtls.RequireAnyClientCert,
					SRTPProtectionProfiles: []piondtls.SRTPProtectionProfile{piondtls.SRTP_AEAD_AES_128_GCM},
					CipherSuites:           []piondtls.CipherSuiteID{piondtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
				})
				if err == nil {
					err = s.HandshakeContext(context.Background())
					defer s.Close()
				}
				errc <- err
			}()
			client, err := piondtls.Client(cc, cc.peer, clientCfg())
			if err != nil {
				b.Fatal(err)
			}
			if err := client.HandshakeContext(context.Background()); err != nil {
				b.Fatal(err)
			}
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
			client.Close()
		}
	})
}

// BenchmarkServerHelloFlights measures our server alone on the captured
// Chromium hello: HelloVerifyRequest for frames 3-4, then flight 4 (ECDHE
// key generation and the ECDSA signature) for the cookie retry. It does not
// include flight 5 (ECDHE, CertificateVerify check, Finished).
func BenchmarkServerHelloFlights(b *testing.B) {
	frames := captureFrames(b)
	cfg := testServerConfig(b)
	now := time.Unix(1_700_000_000, 0)
	s := newTestServerFrom(b, cfg, 0)
	s.handleDatagram(now, frames[3])
	s.handleDatagram(now, frames[4])
	_, fr, _, _ := parseRecord(s.pollTransmit())
	hh, _, _ := parseHandshake(fr)
	retry := fragmentHello(insertCookie(chromiumHelloF(b, frames), hh.fragment[3:]), 1, 2)
	b.ReportAllocs()
	for b.Loop() {
		s := newTestServerFrom(b, cfg, 0)
		s.handleDatagram(now, frames[3])
		s.handleDatagram(now, frames[4])
		s.pollTransmit()
		s.handleDatagram(now, retry[0])
		s.handleDatagram(now, retry[1])
		if s.pollTransmit() == nil {
			b.Fatal("no flight 4")
		}
	}
}

// BenchmarkRecordOpen is the per-record cost of authenticating and
// decrypting application data (the steady-state path): no allocation.
func BenchmarkRecordOpen(b *testing.B) {
	s, _ := suiteByID(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	c, _ := newRecordCipher(s, make([]byte, 16), make([]byte, 4))
	rec := c.seal(nil, contentApplicationData, 1, 5, make([]byte, 1000))
	h, frag, _, _ := parseRecord(rec)
	dst := make([]byte, 0, maxPlaintext)
	b.SetBytes(int64(len(frag)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.open(dst[:0], h, frag); err != nil {
			b.Fatal(err)
		}
	}
}
