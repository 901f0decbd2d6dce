package dtls

import (
	"bytes"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	piondtls "github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/elliptic"
)

func srtpKMLen(p uint16) int {
	switch p {
	case SRTP_AEAD_AES_128_GCM:
		return 56
	case SRTP_AEAD_AES_256_GCM:
		return 88
	}
	return 60
}

// TestPionInterop: every suite × every SRTP profile × both groups completes
// against pion/dtls as the client, and both sides export the same keys.
func TestPionInterop(t *testing.T) {
	suites := []uint16{TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
	profiles := []uint16{SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM, SRTP_AES128_CM_HMAC_SHA1_80,
		SRTP_AES128_CM_HMAC_SHA1_32}
	curves := []elliptic.Curve{elliptic.X25519, elliptic.P256}
	serverCert, _ := testIdentity(t)
	clientCert, clientTLS := testIdentity(t)
	for _, suite := range suites {
		for _, prof := range profiles {
			for _, curve := range curves {
				name := fmt.Sprintf("%04x/%d/%s", suite, prof, curve)
				t.Run(name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						cc := baseClientConfig(clientTLS, serverCert.Fingerprint())
						cc.CipherSuites = []piondtls.CipherSuiteID{piondtls.CipherSuiteID(suite)}
						cc.SRTPProtectionProfiles = []piondtls.SRTPProtectionProfile{piondtls.SRTPProtectionProfile(prof)}
						cc.EllipticCurves = []elliptic.Curve{curve}
						r := runPipe(t, pipeOptions{
							clientCfg: cc,
							serverCfg: Config{Certificate: serverCert,
								ExpectedFingerprints: []Fingerprint{mustFingerprint(t, clientCert)}},
							ekmLen: srtpKMLen(prof),
							afterHandshake: func(t *testing.T, r *pipeResult) {
								checkAppData(t, r)
							},
						})
						if r.clientErr != nil {
							t.Fatalf("client handshake: %v (server err %v, events %v)", r.clientErr, r.serverErr, r.events)
						}
						ev, ok := r.event(HandshakeComplete)
						if !ok {
							t.Fatalf("no HandshakeComplete: %v", r.events)
						}
						if ev.CipherSuite != suite || uint16(ev.SRTPProfile) != prof || r.clientSRTP != prof {
							t.Fatalf("negotiated %04x/%d, client %d", ev.CipherSuite, ev.SRTPProfile, r.clientSRTP)
						}
						if !bytes.Equal(ev.PeerCertificate, clientCert.DER) {
							t.Fatal("peer certificate differs")
						}
						if r.server.group != uint16(curve) {
							t.Fatalf("group %d", r.server.group)
						}
						if _, ok := r.event(Closed); !ok {
							t.Error("client's close_notify not reported")
						}
						if len(r.serverEKM) != srtpKMLen(prof) || !bytes.Equal(r.clientEKM, r.serverEKM) {
							t.Fatalf("keying material differs:\n%x\n%x", r.clientEKM, r.serverEKM)
						}
					})
				})
			}
		}
	}
}

// checkAppData sends application data both ways over the established
// association.
func checkAppData(t *testing.T, r *pipeResult) {
	t.Helper()
	if _, err := r.client.Write([]byte("ping from pion")); err != nil {
		t.Fatalf("client write: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	ev, ok := r.event(ApplicationData)
	if !ok || string(ev.Data) != "ping from pion" {
		t.Fatalf("server did not get the client's data: %v", r.eventsCopy())
	}
	var werr error
	r.do(func(s *Server) { werr = s.WriteApplicationData([]byte("pong from rtcplug")) })
	if werr != nil {
		t.Fatal(werr)
	}
	buf := make([]byte, 100)
	if err := r.client.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := r.client.Read(buf)
	if err != nil || string(buf[:n]) != "pong from rtcplug" {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}
}
