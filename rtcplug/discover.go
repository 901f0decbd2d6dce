package rtcplug

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/discover"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
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

// transact runs one Binding transaction to its end.
func (p *Plugin) transact(c *discover.Client, server netip.AddrPort, inbox <-chan stunResponse) (netip.AddrPort, bool) {
	req, err := c.Start(time.Now(), server)
	if err != nil {
		return netip.AddrPort{}, false
	}
	_ = p.mux.WriteTo(req, server)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		if f, failed := c.Failed(); failed {
			p.log.Debug("STUN transaction failed", "server", f.Server.String(), "err", f.Err)
			return netip.AddrPort{}, false
		}
		if c.Pending() == 0 {
			return netip.AddrPort{}, false
		}
		if d := c.Deadline(); !d.IsZero() {
			t.Reset(max(time.Until(d), 0))
		}
		select {
		case <-p.ctx.Done():
			return netip.AddrPort{}, false
		case r := <-inbox:
			if mapped, ok := c.Handle(time.Now(), r.src, r.b); ok {
				return netip.AddrPortFrom(mapped.Addr().Unmap(), mapped.Port()), true
			}
		case <-t.C:
			c.HandleTimeout(time.Now())
			for to, b, ok := c.PollTransmit(); ok; to, b, ok = c.PollTransmit() {
				_ = p.mux.WriteTo(b, to)
			}
		}
	}
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
