package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// selfSignedValidity is how long a certificate made by -tls is valid. It is
// made anew at every start.
const selfSignedValidity = 30 * 24 * time.Hour

// loadOrMakeCertificate loads -tls-cert/-tls-key, or makes a self-signed
// certificate for -tls and logs its fingerprint, so that a user can compare it
// with what the browser shows before accepting the warning.
func loadOrMakeCertificate(cfg config, l zerolog.Logger) (tls.Certificate, error) {
	if cfg.TLSCert != "" {
		c, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("load TLS certificate: %w", err)
		}
		return c, nil
	}
	hosts := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		hosts = append(hosts, h)
	}
	ips := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	ips = append(ips, lanAddrs()...)
	ips = append(ips, cfg.PublicIPs...)
	c, fp, err := selfSignedCertificate(hosts, ips, time.Now())
	if err != nil {
		return tls.Certificate{}, err
	}
	l.Info().Str("sha256", fp).Strs("names", hosts).Str("ips", joinAddrs(ips)).
		Msg("self-signed TLS certificate made; the browser will warn once, check this fingerprint")
	return c, nil
}

// selfSignedCertificate makes an ECDSA P-256 certificate for the given names
// and addresses and returns it with its SHA-256 fingerprint ("AB:CD:...").
func selfSignedCertificate(hosts []string, ips []netip.Addr, now time.Time) (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "rtcplug demoapp", Organization: []string{"rtcplug demoapp (self-signed)"}},
		NotBefore:             now.Add(-time.Hour), // tolerate a clock a little behind ours
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              hosts,
	}
	seen := map[netip.Addr]bool{}
	for _, a := range ips {
		a = a.Unmap()
		if a.IsValid() && !seen[a] {
			seen[a] = true
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(a.AsSlice()))
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	sum := sha256.Sum256(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, colonHex(sum[:]), nil
}

func colonHex(b []byte) string {
	h := strings.ToUpper(hex.EncodeToString(b))
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

func joinAddrs(a []netip.Addr) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}
