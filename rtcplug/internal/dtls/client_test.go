package dtls

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// endpoint is either of our roles, as the peer package drives them.
type endpoint interface {
	handleDatagram(now time.Time, b []byte) error
	HandleTimeout(now time.Time)
	Deadline() time.Time
	pollTransmit() []byte
	pollEvent() (Event, bool)
	ExportKeyingMaterial(label string, context []byte, n int) ([]byte, error)
	WriteApplicationData(b []byte) error
	Close()
}

var (
	_ endpoint = (*Client)(nil)
	_ endpoint = (*Server)(nil)
)

// ourPair is our client and our server, each expecting the other's
// certificate.
func ourPair(t testing.TB, now time.Time, tweak func(cc, sc *Config)) (*Client, *Server) {
	t.Helper()
	cc, sc := ourConfigs(t)
	if tweak != nil {
		tweak(&cc, &sc)
	}
	s, err := NewServer(sc, netip.MustParseAddrPort("192.0.2.7:4000"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(cc, now)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func ourConfigs(t testing.TB) (cc, sc Config) {
	t.Helper()
	clientCert, _ := testIdentity(t)
	serverCert, _ := testIdentity(t)
	return Config{Certificate: clientCert, ExpectedFingerprints: []Fingerprint{mustFingerprint(t, serverCert)}},
		Config{Certificate: serverCert, ExpectedFingerprints: []Fingerprint{mustFingerprint(t, clientCert)}}
}

// exchange moves datagrams between a and b until neither has anything to
// send, and returns the events each produced.
func exchange(t testing.TB, now time.Time, a, b endpoint) (evA, evB []Event) {
	t.Helper()
	for range 100 {
		moved := false
		for d := a.pollTransmit(); d != nil; d = a.pollTransmit() {
			moved = true
			_ = b.handleDatagram(now, append([]byte(nil), d...))
		}
		for d := b.pollTransmit(); d != nil; d = b.pollTransmit() {
			moved = true
			_ = a.handleDatagram(now, append([]byte(nil), d...))
		}
		for ev, ok := a.pollEvent(); ok; ev, ok = a.pollEvent() {
			evA = append(evA, ev)
		}
		for ev, ok := b.pollEvent(); ok; ev, ok = b.pollEvent() {
			evB = append(evB, ev)
		}
		if !moved {
			return evA, evB
		}
	}
	t.Fatal("endpoints never went quiet")
	return nil, nil
}

// TestClientAgainstOurServer: both roles of our stack, in memory, for every
// suite × profile × group: the same keys, and application data both ways.
func TestClientAgainstOurServer(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, suite := range DefaultCipherSuites() {
		for _, prof := range DefaultSRTPProfiles() {
			for _, group := range []uint16{groupX25519, groupP256} {
				t.Run(fmt.Sprintf("%04x/%d/%d", suite, prof, group), func(t *testing.T) {
					c, s := ourPair(t, now, func(cc, sc *Config) {
						cc.CipherSuites = []uint16{suite}
						sc.SRTPProfiles = []srtp.Profile{prof}
					})
					c.hello.supportedGroups = []uint16{group}
					// Rebuild flight 1 with the one group.
					c.tx, c.sendSeq = nil, 0
					c.sendHello(now)
					evC, evS := exchange(t, now, c, s)
					if !hasEvent(evC, HandshakeComplete) || !hasEvent(evS, HandshakeComplete) {
						t.Fatalf("client %v server %v", evC, evS)
					}
					if c.suite.id != suite || s.suite.id != suite || c.srtpProfile != uint16(prof) || s.group != group {
						t.Fatalf("negotiated %04x %d %d", s.suite.id, c.srtpProfile, s.group)
					}
					n := srtpKMLen(uint16(prof))
					kc, err1 := c.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, n)
					ks, err2 := s.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, n)
					if err1 != nil || err2 != nil || !bytes.Equal(kc, ks) {
						t.Fatalf("keys differ: %v %v", err1, err2)
					}
					if !bytes.Equal(evC[0].PeerCertificate, s.cfg.Certificate.DER) {
						t.Fatal("client reports the wrong server certificate")
					}
					if err := c.WriteApplicationData([]byte("up")); err != nil {
						t.Fatal(err)
					}
					if err := s.WriteApplicationData([]byte("down")); err != nil {
						t.Fatal(err)
					}
					evC, evS = exchange(t, now, c, s)
					if len(evC) != 1 || string(evC[0].Data) != "down" || len(evS) != 1 || string(evS[0].Data) != "up" {
						t.Fatalf("application data: %v %v", evC, evS)
					}
					c.Close()
					_, evS = exchange(t, now, c, s)
					if !hasEvent(evS, Closed) {
						t.Fatalf("close_notify not seen: %v", evS)
					}
				})
			}
		}
	}
}

// TestClientWrongServerFingerprint: a server certificate that is not the
// one in the SDP ends the handshake with bad_certificate before any key
// exchange: no ClientKeyExchange is ever sent.
func TestClientWrongServerFingerprint(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	other, _ := testIdentity(t)
	c, s := ourPair(t, now, func(cc, sc *Config) {
		cc.ExpectedFingerprints = []Fingerprint{mustFingerprint(t, other)}
	})
	evC, evS := exchange(t, now, c, s)
	if c.ecdhKey != nil || c.master != nil || c.writeCipher != nil {
		t.Fatal("keys made for an unauthenticated server")
	}
	var ae *AlertError
	if len(evC) != 1 || evC[0].Kind != Failed || !errors.As(evC[0].Err, &ae) || ae.Description != AlertBadCertificate || ae.Remote {
		t.Fatalf("client events %v", evC)
	}
	if len(evS) != 2 || evS[1].Kind != Failed {
		t.Fatalf("server events %v", evS)
	}
}

// TestClientRetransmits: every flight of the client is resent on its timer
// with exponential backoff from 1 s (RFC 6347 §4.2.4.1), and the handshake
// fails after the last one.
func TestClientRetransmits(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c, _ := ourPair(t, now, nil)
	first := c.pollTransmit()
	var gaps []time.Duration
	at := now
	for c.Deadline() != (time.Time{}) {
		d := c.Deadline()
		gaps = append(gaps, d.Sub(at))
		at = d
		c.HandleTimeout(d)
		if again := c.pollTransmit(); again != nil && !bytes.Equal(again[recordHeaderLen:], first[recordHeaderLen:]) {
			t.Fatal("resent hello differs")
		}
	}
	checkBackoff(t, gaps)
	if ev, ok := c.pollEvent(); !ok || ev.Kind != Failed {
		t.Fatalf("no failure after the last resend: %v", ev)
	}
}

// checkBackoff checks the gaps between a flight and its resends: 1 s
// doubling (RFC 6347 §4.2.4.1), five resends, then the end.
func checkBackoff(t *testing.T, gaps []time.Duration) {
	t.Helper()
	want := []time.Duration{1, 2, 4, 8, 16, 32}
	if len(gaps) != len(want) {
		t.Fatalf("gaps %v", gaps)
	}
	for i := range want {
		if gaps[i] != want[i]*time.Second {
			t.Fatalf("gaps %v", gaps)
		}
	}
}
