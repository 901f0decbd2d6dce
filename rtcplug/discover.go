package rtcplug

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/discover"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"

	"github.com/nutsbolts/webrtc/rtcplug/internal/udpmux"
)

// Discovery timing: a transaction gives up after discover.DefaultTimeout
// (3 s); failures are retried with exponential backoff, and a known address
// is refreshed now and then (a NAT may rebind).
const (
	discoverBackoffMin = time.Second
	discoverBackoffMax = time.Minute
	discoverRefresh    = 5 * time.Minute
	// discoverInbox bounds responses waiting for the discovery goroutine.
	discoverInbox = 8
)

type stunResponse struct {
	src netip.AddrPort
	b   []byte
}

// discover learns the server-reflexive address of the UDP port from server,
// on the plugin's socket, in the background. The address found becomes a
// srflx candidate in later offers.
func (p *Plugin) discover(server string) {
	log := p.log.With("stun", server)
	inbox := make(chan stunResponse, discoverInbox)
	var target netip.AddrPort
	backoff := discoverBackoffMin
	timer := time.NewTimer(0)
	defer timer.Stop()
	c := discover.New(discover.Config{Rand: p.cfg.rand})
	defer p.mux.SetTap(nil)

	for {
		// Resolve (again) on every round: DNS may change, and a failure to
		// resolve is retried like a failure to answer.
		select {
		case <-p.ctx.Done():
			return
		case <-timer.C:
		}
		addr, err := resolveSTUN(p.ctx, server, p.mux.LocalAddr().Addr().Is6())
		if err != nil {
			log.Warn("STUN server not resolved", "err", err, "retry", backoff.String())
			timer.Reset(backoff)
			backoff = min(backoff*2, discoverBackoffMax)
			continue
		}
		if addr != target {
			target = addr
			tgt := addr
			p.mux.SetTap(func(src netip.AddrPort, b []byte) bool {
				if src != tgt || !stun.IsMessage(b) {
					return false
				}
				select {
				case inbox <- stunResponse{src, append([]byte(nil), b...)}:
				default:
				}
				return true
			})
		}
		mapped, ok := p.transact(c, addr, inbox)
		if p.ctx.Err() != nil {
			return
		}
		if !ok {
			log.Warn("STUN discovery failed", "retry", backoff.String())
			timer.Reset(backoff)
			backoff = min(backoff*2, discoverBackoffMax)
			continue
		}
		backoff = discoverBackoffMin
		if old := p.srflx.Load(); old == nil || *old != mapped {
			p.srflx.Store(&mapped)
			log.Info("server-reflexive address discovered", "addr", mapped.String())
		}
		timer.Reset(discoverRefresh)
	}
}

// transact runs one Binding transaction to its end, with the same driver as
// every peer.
func (p *Plugin) transact(c *discover.Client, server netip.AddrPort, inbox <-chan stunResponse) (netip.AddrPort, bool) {
	var mapped netip.AddrPort
	var done, ok bool
	d := udpmux.NewDriver[discover.Output](p.mux, c, func(o discover.Output) {
		switch o.Kind {
		case discover.Mapped:
			mapped, ok, done = netip.AddrPortFrom(o.Mapped.Addr().Unmap(), o.Mapped.Port()), true, true
		case discover.Failed:
			p.log.Debug("STUN transaction failed", "server", o.Failure.Server.String(), "err", o.Failure.Err)
			done = true
		}
	})
	defer d.Stop()
	if err := c.Start(time.Now(), server); err != nil {
		return netip.AddrPort{}, false
	}
	d.Flush()
	for !done && c.Pending() > 0 {
		d.Rearm(time.Now())
		select {
		case <-p.ctx.Done():
			return netip.AddrPort{}, false
		case r := <-inbox:
			d.Handle(time.Now(), r.src, r.b)
		case <-d.C():
			d.Timeout(time.Now())
		}
	}
	return mapped, ok
}

// resolveSTUN resolves host:port, preferring IPv4 (the usual NAT case), and
// IPv6 only when the socket can reach it.
func resolveSTUN(ctx context.Context, hostport string, v6 bool) (netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := net.DefaultResolver.LookupPort(ctx, "udp", portStr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, discover.DefaultTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var best netip.Addr
	for _, ip := range ips {
		ip = ip.Unmap()
		if ip.Is4() {
			best = ip
			break
		}
		if v6 && !best.IsValid() {
			best = ip
		}
	}
	if !best.IsValid() {
		return netip.AddrPort{}, &net.AddrError{Err: "no usable address", Addr: host}
	}
	return netip.AddrPortFrom(best, uint16(port)), nil
}
