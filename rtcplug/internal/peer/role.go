package peer

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
)

// NominationWait is how long, as the DTLS client, we wait after the first
// authenticated ICE check for one carrying USE-CANDIDATE before starting
// the handshake toward the first checked address anyway. A controlling
// agent with regular nomination (RFC 8445 §8.1.1) nominates right after its
// first check succeeds; this covers one that never does.
const NominationWait = 500 * time.Millisecond

// dtlsRole is which end of DTLS we are, from the peer's a=setup.
type dtlsRole struct {
	client     bool      // the peer is passive: we send the ClientHello
	firstCheck time.Time // first authenticated check, while no nomination came
}

// roleFor maps the peer's a=setup (RFC 4145 §4, RFC 5763 §5, RFC 8842
// §5.3) to our role. "active", or nothing (RFC 8842 §5.3: an answer without
// a=setup means active), makes the peer the client and us the server;
// "actpass" in an answer is not valid, and is read as our long-standing
// server role. "passive" makes us the client. "holdconn" opens nothing.
func roleFor(setup string) (client bool, err error) {
	switch setup {
	case "", "active", "actpass":
		return false, nil
	case "passive":
		return true, nil
	}
	return false, fmt.Errorf("peer: a=setup:%s leaves no DTLS connection to make", setup)
}

// roleName is for logs.
func (r dtlsRole) String() string {
	if r.client {
		return "client"
	}
	return "server"
}

// onChecked runs after each authenticated ICE check. As the DTLS client we
// start the handshake at the first check that nominates its address
// (USE-CANDIDATE; ICE-lite, RFC 8445 §7.3.1.5 and §8.2), or remember the
// first check to fall back on after NominationWait.
func (p *Peer) onChecked(now time.Time, src netip.AddrPort, nominated bool) {
	if !p.role.client || p.dtls != nil || !p.remoteSet {
		return
	}
	if p.role.firstCheck.IsZero() {
		p.role.firstCheck = now
	}
	if nominated {
		p.startClient(now, src, fmt.Sprintf("nominated %s after the first check", now.Sub(p.role.firstCheck)))
	}
}

// onRemoteSet runs once the answer is applied. The peer starts its checks
// as soon as it has our offer, so they may have come first: a nomination
// already made starts the client now, and an address already checked
// starts the wait for one now.
func (p *Peer) onRemoteSet(now time.Time) {
	if !p.role.client || p.dtls != nil {
		return
	}
	if a := p.nominated; a.IsValid() && p.isBound(a) {
		p.startClient(now, a, "nominated before the answer was applied")
		return
	}
	if p.dest.IsValid() {
		p.role.firstCheck = now
	}
}

// roleDeadline is when the nomination fallback is due; zero when none.
func (p *Peer) roleDeadline() time.Time {
	if !p.role.client || p.dtls != nil || p.role.firstCheck.IsZero() {
		return time.Time{}
	}
	return p.role.firstCheck.Add(NominationWait)
}

// roleTimeout starts the client toward the checked address when no
// nomination came in time.
func (p *Peer) roleTimeout(now time.Time) {
	if d := p.roleDeadline(); !d.IsZero() && !now.Before(d) && p.dest.IsValid() {
		p.startClient(now, p.dest, fmt.Sprintf("no nomination within %s", NominationWait))
	}
}

// startClient creates the DTLS client and sends its first flight to dst.
func (p *Peer) startClient(now time.Time, dst netip.AddrPort, why string) {
	c, err := dtls.NewClient(p.dtlsConfig(), now)
	if err != nil {
		p.fail(fmt.Errorf("peer: dtls: %w", err))
		return
	}
	p.dtls = c
	p.dest = dst
	p.logf("ICE check from %s (%s): the answer is passive, DTLS client started; ClientHello sent", dst, why)
	p.drainDTLS(now)
}

// startServer creates the DTLS server at the client's first record. As the
// client we never answer a record before our own hello: it is dropped.
func (p *Peer) startServer(src netip.AddrPort) bool {
	if p.role.client {
		return false
	}
	s, err := dtls.NewServer(p.dtlsConfig(), src)
	if err != nil {
		p.fail(fmt.Errorf("peer: dtls: %w", err))
		return false
	}
	p.dtls = s
	p.dest = src
	p.logf("first DTLS record from %s: DTLS server started", src)
	return true
}

// srtpKeys orders the exported keys (RFC 5764 §4.2): we read what the peer
// writes with its half and write with ours. The client's half comes first.
func (p *Peer) srtpKeys(ck, cs, sk, ss []byte) (inKey, inSalt, outKey, outSalt []byte) {
	if p.role.client {
		return sk, ss, ck, cs
	}
	return ck, cs, sk, ss
}

// dtlsConfig is the same for both roles: our certificate, and the peer's
// fingerprints from its SDP.
func (p *Peer) dtlsConfig() dtls.Config {
	return dtls.Config{
		Certificate:          p.cfg.Certificate,
		Rand:                 p.cfg.Rand,
		ExpectedFingerprints: p.expected,
		Progress:             true, // narrated in Log events
	}
}
