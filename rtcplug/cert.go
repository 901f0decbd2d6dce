package rtcplug

import (
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
)

// certRenewBefore is how long before its expiry the DTLS certificate is
// replaced for new peers. Certificates are made valid for 30 days
// (dtls.GenerateCertificate); peers already connected keep theirs, which
// WebRTC checks only by fingerprint (RFC 8827 §6.5), for as long as they
// stay.
const certRenewBefore = 10 * 24 * time.Hour

// certStore hands out the current certificate and makes a new one ahead of
// the current one's expiry.
type certStore struct {
	mu       sync.Mutex
	cur      *dtls.Certificate
	notAfter time.Time
}

func (s *certStore) generate(rand io.Reader, now time.Time) (*dtls.Certificate, error) {
	c, err := dtls.GenerateCertificate(rand, now)
	if err != nil {
		return nil, err
	}
	x, err := x509.ParseCertificate(c.DER)
	if err != nil {
		return nil, fmt.Errorf("rtcplug: own certificate: %w", err)
	}
	s.cur, s.notAfter = c, x.NotAfter
	return c, nil
}

// get returns the certificate for a peer joining at now, renewed when the
// current one expires within certRenewBefore. A failed renewal keeps the
// old certificate (and is retried on the next join).
func (s *certStore) get(rand io.Reader, now time.Time, log *slog.Logger) *dtls.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && now.Before(s.notAfter.Add(-certRenewBefore)) {
		return s.cur
	}
	old := s.cur
	c, err := s.generate(rand, now)
	if err != nil {
		log.Error("DTLS certificate renewal failed; the old one stays", "err", err)
		return old
	}
	log.Info("DTLS certificate renewed for new peers", "fingerprint", c.Fingerprint(), "notAfter", s.notAfter)
	return c
}
