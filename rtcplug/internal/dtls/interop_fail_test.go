package dtls

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"testing/synctest"
	"time"

	piondtls "github.com/pion/dtls/v3"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

func serverConfigFor(t *testing.T, serverCert, expected *Certificate) Config {
	return Config{Certificate: serverCert, ExpectedFingerprints: []Fingerprint{mustFingerprint(t, expected)}}
}

// expectLocalAlert checks that the server failed with the alert it sent.
func expectLocalAlert(t *testing.T, r *pipeResult, want uint8) {
	t.Helper()
	ev, ok := r.event(Failed)
	if !ok {
		t.Fatalf("no Failed event: %v", r.events)
	}
	var ae *AlertError
	if !errors.As(ev.Err, &ae) || ae.Remote || ae.Description != want {
		t.Fatalf("failed with %v, want local alert %d", ev.Err, want)
	}
	if _, ok := r.event(HandshakeComplete); ok {
		t.Fatal("handshake completed")
	}
	if r.serverEKM != nil {
		t.Fatal("keying material exported after failure")
	}
	if _, err := r.server.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 60); err == nil {
		t.Fatal("export works after failure")
	}
}

// TestPionWrongClientCertificate: a client certificate that is not the one
// the SDP named ends the handshake with bad_certificate; no keys.
func TestPionWrongClientCertificate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		serverCert, _ := testIdentity(t)
		expected, _ := testIdentity(t)
		_, otherTLS := testIdentity(t)
		r := runPipe(t, pipeOptions{
			clientCfg: baseClientConfig(otherTLS, serverCert.Fingerprint()),
			serverCfg: serverConfigFor(t, serverCert, expected),
			ekmLen:    56,
			timeout:   10 * time.Second,
		})
		if r.clientErr == nil {
			t.Fatal("pion completed the handshake")
		}
		t.Logf("pion: %v", r.clientErr)
		expectLocalAlert(t, r, AlertBadCertificate)
	})
}

// TestPionWithoutExtendedMasterSecret: EMS is required.
func TestPionWithoutExtendedMasterSecret(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		serverCert, _ := testIdentity(t)
		clientCert, clientTLS := testIdentity(t)
		cc := baseClientConfig(clientTLS, serverCert.Fingerprint())
		cc.ExtendedMasterSecret = piondtls.DisableExtendedMasterSecret
		r := runPipe(t, pipeOptions{clientCfg: cc, serverCfg: serverConfigFor(t, serverCert, clientCert),
			timeout: 10 * time.Second})
		if r.clientErr == nil {
			t.Fatal("pion completed the handshake")
		}
		expectLocalAlert(t, r, AlertHandshakeFailure)
	})
}

// TestPionNoCommonSRTPProfile: no SRTP, no WebRTC.
func TestPionNoCommonSRTPProfile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		serverCert, _ := testIdentity(t)
		clientCert, clientTLS := testIdentity(t)
		cc := baseClientConfig(clientTLS, serverCert.Fingerprint())
		cc.SRTPProtectionProfiles = []piondtls.SRTPProtectionProfile{piondtls.SRTP_AES128_CM_HMAC_SHA1_32}
		sc := serverConfigFor(t, serverCert, clientCert)
		sc.SRTPProfiles = []srtp.Profile{srtp.AEADAES128GCM}
		r := runPipe(t, pipeOptions{clientCfg: cc, serverCfg: sc, timeout: 10 * time.Second})
		if r.clientErr == nil {
			t.Fatal("pion completed the handshake")
		}
		expectLocalAlert(t, r, AlertHandshakeFailure)
	})
}

// TestPionRSAClientCertificate: an RSA client key is verified too.
func TestPionRSAClientCertificate(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "rsa"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4e9, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		serverCert, _ := testIdentity(t)
		clientCert := &Certificate{DER: der}
		cc := baseClientConfig(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, serverCert.Fingerprint())
		r := runPipe(t, pipeOptions{clientCfg: cc, serverCfg: serverConfigFor(t, serverCert, clientCert), ekmLen: 56})
		if r.clientErr != nil {
			t.Fatalf("client: %v; server %v", r.clientErr, r.events)
		}
		if _, ok := r.event(HandshakeComplete); !ok {
			t.Fatal("no HandshakeComplete")
		}
	})
}

// TestPionSmallMTU: with a small MTU our flight 4 is fragmented across
// datagrams and pion reassembles it.
func TestPionSmallMTU(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		serverCert, _ := testIdentity(t)
		clientCert, clientTLS := testIdentity(t)
		sc := serverConfigFor(t, serverCert, clientCert)
		sc.MTU = minMTU
		r := runPipe(t, pipeOptions{clientCfg: baseClientConfig(clientTLS, serverCert.Fingerprint()),
			serverCfg: sc, ekmLen: 56})
		if r.clientErr != nil {
			t.Fatalf("client: %v", r.clientErr)
		}
		if r.serverDgram < 4 {
			t.Errorf("flight 4 in %d datagrams at MTU %d", r.serverDgram, minMTU)
		}
	})
}

// TestRepeatedFlight5 replays the client's final flight after the
// handshake: the server answers with CCS+Finished again (RFC 6347 §4.2.4),
// and stays established.
func TestRepeatedFlight5(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		serverCert, _ := testIdentity(t)
		clientCert, clientTLS := testIdentity(t)
		r := runPipe(t, pipeOptions{
			clientCfg: baseClientConfig(clientTLS, serverCert.Fingerprint()),
			serverCfg: serverConfigFor(t, serverCert, clientCert),
			afterHandshake: func(t *testing.T, r *pipeResult) {
				// The client's flight 5 is the last datagram it sent that
				// carries a ChangeCipherSpec record.
				var f5 []byte
				for _, d := range r.c2s {
					for b := d; len(b) > 0; {
						h, _, rest, ok := parseRecord(b)
						if !ok {
							break
						}
						if h.typ == contentChangeCipherSpec {
							f5 = d
						}
						b = rest
					}
				}
				if f5 == nil {
					t.Fatal("no flight 5 seen")
				}
				var out [][]byte
				r.do(func(s *Server) {
					// Records repeated verbatim are replays: the client's
					// retransmission uses new record numbers, so renumber.
					if err := s.handleDatagram(time.Now(), renumber(f5, 1000)); err != nil {
						t.Errorf("repeat: %v", err)
					}
					out = drain(s)
				})
				var ccs, fin bool
				for _, d := range out {
					for b := d; len(b) > 0; {
						h, _, rest, ok := parseRecord(b)
						if !ok {
							break
						}
						ccs = ccs || h.typ == contentChangeCipherSpec
						fin = fin || (h.typ == contentHandshake && h.epoch == 1)
						b = rest
					}
				}
				if !ccs || !fin {
					t.Fatalf("repeated flight 5 answered with %d datagrams (ccs %v finished %v)", len(out), ccs, fin)
				}
				checkAppData(t, r)
			},
		})
		if r.clientErr != nil {
			t.Fatal(r.clientErr)
		}
	})
}

// renumber rewrites the record sequence numbers of the epoch-0 records in a
// datagram (epoch-1 records would fail authentication if changed, and are
// dropped as replays, which is what a receiver does with them).
func renumber(d []byte, base uint64) []byte {
	out := append([]byte(nil), d...)
	for off := 0; off+recordHeaderLen <= len(out); {
		h, _, _, ok := parseRecord(out[off:])
		if !ok {
			break
		}
		if h.epoch == 0 {
			s := base + h.seq
			for i := range 6 {
				out[off+5+i] = byte(s >> (8 * (5 - i)))
			}
		}
		off += recordHeaderLen + int(h.length)
	}
	return out
}
