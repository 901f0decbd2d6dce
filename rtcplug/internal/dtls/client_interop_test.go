package dtls

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	piondtls "github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/elliptic"
)

// TestClientPionInterop: our client against pion/dtls as the server, for
// every suite × SRTP profile × group we offer (pion restricted to one of
// each): both sides export the same keys and see each other's data.
func TestClientPionInterop(t *testing.T) {
	curves := map[uint16]elliptic.Curve{groupX25519: elliptic.X25519, groupP256: elliptic.P256}
	serverCert, serverTLS := testIdentity(t)
	clientCert, _ := testIdentity(t)
	for _, suite := range DefaultCipherSuites() {
		for _, prof := range DefaultSRTPProfiles() {
			for _, group := range []uint16{groupX25519, groupP256} {
				t.Run(fmt.Sprintf("%04x/%d/%d", suite, prof, group), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						sc := basePionServerConfig(serverTLS, clientCert.Fingerprint())
						sc.CipherSuites = []piondtls.CipherSuiteID{piondtls.CipherSuiteID(suite)}
						sc.SRTPProtectionProfiles = []piondtls.SRTPProtectionProfile{piondtls.SRTPProtectionProfile(prof)}
						sc.EllipticCurves = []elliptic.Curve{curves[group]}
						r := runClientPipe(t, clientPipeOptions{
							serverCfg: sc,
							clientCfg: Config{Certificate: clientCert,
								ExpectedFingerprints: []Fingerprint{mustFingerprint(t, serverCert)}},
							ekmLen: srtpKMLen(uint16(prof)),
						})
						if r.serverErr != nil {
							t.Fatalf("pion server handshake: %v (client err %v, events %v)", r.serverErr, r.clientErr, r.events)
						}
						ev, ok := r.event(HandshakeComplete)
						if !ok {
							t.Fatalf("no HandshakeComplete: %v", r.events)
						}
						if ev.CipherSuite != suite || ev.SRTPProfile != prof || r.serverSRTP != uint16(prof) || r.client.group != group {
							t.Fatalf("negotiated %04x/%d/%d, server %d", ev.CipherSuite, ev.SRTPProfile, r.client.group, r.serverSRTP)
						}
						if !bytes.Equal(ev.PeerCertificate, serverCert.DER) {
							t.Fatal("peer certificate differs")
						}
						if len(r.clientEKM) != srtpKMLen(uint16(prof)) || !bytes.Equal(r.clientEKM, r.serverEKM) {
							t.Fatalf("keying material differs:\n%x\n%x", r.clientEKM, r.serverEKM)
						}
						if _, ok := r.event(Closed); !ok {
							t.Error("server's close_notify not reported")
						}
					})
				})
			}
		}
	}
}

// TestClientLossAndReordering: our client against pion's server over a
// pipe that drops 20% of datagrams each way and delays (reorders) 15% of
// the rest, 50 seeds, on synctest's fake clock. Every handshake completes
// with equal keys.
func TestClientLossAndReordering(t *testing.T) {
	serverCert, serverTLS := testIdentity(t)
	clientCert, _ := testIdentity(t)
	lossSeeds(t, "client", func(t *testing.T, seed int) lossRun {
		start := time.Now()
		r := runClientPipe(t, clientPipeOptions{
			serverCfg: basePionServerConfig(serverTLS, clientCert.Fingerprint()),
			clientCfg: Config{Certificate: clientCert,
				ExpectedFingerprints: []Fingerprint{mustFingerprint(t, serverCert)}},
			c2s:     newLossy(uint64(seed), 1, 0.2, 0.15),
			s2c:     newLossy(uint64(seed), 2, 0.2, 0.15),
			ekmLen:  56,
			timeout: 5 * time.Minute,
		})
		if r.serverErr != nil {
			t.Fatalf("seed %d: server: %v; client err %v events %v", seed, r.serverErr, r.clientErr, r.events)
		}
		if _, ok := r.event(HandshakeComplete); !ok {
			t.Fatalf("seed %d: client did not complete: %v", seed, r.events)
		}
		if !bytes.Equal(r.clientEKM, r.serverEKM) {
			t.Fatalf("seed %d: keying material differs", seed)
		}
		el := r.handshakeDone.Sub(start)
		t.Logf("seed %2d: client resends %d (timer %d), datagrams c>s %d (dropped %d) s>c %d (dropped %d), handshake %v",
			seed, r.clientResends, r.clientRetx, r.c2sTotal, r.c2sDropped, r.s2cTotal, r.s2cDropped, el)
		return lossRun{resends: r.clientResends, datagrams: r.c2sTotal + r.s2cTotal, elapsed: el}
	})
}

// TestClientPionWithoutCertificateRequest: a server that asks for no
// client certificate gets flight 5 without Certificate and
// CertificateVerify; one that presents the wrong certificate is refused
// with bad_certificate.
func TestClientPionWithoutCertificateRequest(t *testing.T) {
	serverCert, serverTLS := testIdentity(t)
	clientCert, _ := testIdentity(t)
	other, _ := testIdentity(t)
	synctest.Test(t, func(t *testing.T) {
		sc := basePionServerConfig(serverTLS, clientCert.Fingerprint())
		sc.ClientAuth = piondtls.NoClientCert
		sc.VerifyPeerCertificate = nil
		r := runClientPipe(t, clientPipeOptions{
			serverCfg: sc,
			clientCfg: Config{Certificate: clientCert, ExpectedFingerprints: []Fingerprint{mustFingerprint(t, serverCert)}},
			ekmLen:    56,
		})
		if r.serverErr != nil || !bytes.Equal(r.clientEKM, r.serverEKM) || r.client.certRequest {
			t.Fatalf("server %v, events %v", r.serverErr, r.events)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		r := runClientPipe(t, clientPipeOptions{
			serverCfg: basePionServerConfig(serverTLS, clientCert.Fingerprint()),
			clientCfg: Config{Certificate: clientCert, ExpectedFingerprints: []Fingerprint{mustFingerprint(t, other)}},
			timeout:   10 * time.Second,
		})
		ev, ok := r.event(Failed)
		var ae *AlertError
		if r.serverErr == nil || !ok || !errors.As(ev.Err, &ae) || ae.Description != AlertBadCertificate || ae.Remote {
			t.Fatalf("server %v, events %v", r.serverErr, r.events)
		}
	})
}
