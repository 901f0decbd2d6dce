package rtcplug

import (
	"crypto/x509"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// fakeClock is the plugin's clock in virtual time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func withClock(now func() time.Time) Option {
	return func(c *config) error {
		c.now = now
		return nil
	}
}

func validAt(t *testing.T, der []byte, now time.Time) bool {
	t.Helper()
	x, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return !now.Before(x.NotBefore) && !now.After(x.NotAfter)
}

// A host that runs for months: a peer joining after the first certificate's
// expiry gets a valid one (with its fingerprint in the offer), and a peer
// that joined before keeps its own.
func TestCertificateRenewal(t *testing.T) {
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	p, err := Mount(chi.NewRouter(), WithUDPPort(0), withClock(clock.Now),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	h1, offer1, err := p.join("room", "", "127.0.0.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	first := h1.cert
	if !validAt(t, first.DER, clock.Now()) || !strings.Contains(offer1, first.Fingerprint()) {
		t.Fatal("first certificate not valid now or not offered")
	}
	// Within its life: the same certificate for the next peer.
	clock.Advance(15 * 24 * time.Hour)
	h2, _, err := p.join("room", "", "127.0.0.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if h2.cert != first {
		t.Fatal("renewed too early")
	}
	// Past the first certificate's expiry (30 days).
	clock.Advance(16 * 24 * time.Hour)
	if validAt(t, first.DER, clock.Now()) {
		t.Fatal("the test clock did not pass the expiry")
	}
	h3, offer3, err := p.join("room", "", "127.0.0.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if h3.cert == first || !validAt(t, h3.cert.DER, clock.Now()) {
		t.Fatal("a peer joining after expiry got no valid certificate")
	}
	if !strings.Contains(offer3, h3.cert.Fingerprint()) || strings.Contains(offer3, first.Fingerprint()) {
		t.Fatal("the offer does not name the new certificate")
	}
	if h1.cert != first || h2.cert != first {
		t.Fatal("a peer's certificate changed under it")
	}
	// Renewal happens ahead of expiry: a month on, the next peer's
	// certificate still has days left.
	clock.Advance(21 * 24 * time.Hour)
	h4, _, err := p.join("room", "", "127.0.0.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if h4.cert == h3.cert || !validAt(t, h4.cert.DER, clock.Now().Add(certRenewBefore)) {
		t.Fatal("not renewed ahead of expiry")
	}
}
