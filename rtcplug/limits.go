package rtcplug

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
)

// WithMaxPendingPerSource bounds the peers one source may have joined but
// not yet connected (default: a quarter of WithMaxPending, at least 1), so
// that a source refilling pending slots as fast as they free cannot lock
// out everyone else. A source is the client's IP address from
// http.Request.RemoteAddr (an IPv6 client by its /64): behind a reverse
// proxy, rewrite RemoteAddr from the proxy's header (chi's
// middleware.RealIP) or every client is one source.
func WithMaxPendingPerSource(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("rtcplug: max pending per source %d < 1", n)
		}
		c.maxPendingPerSource = n
		return nil
	}
}

// sourceOf is the per-source key of a request: its IPv4 address, or the /64
// of an IPv6 address (one subscriber usually holds a whole /64).
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host // whatever a middleware put there: still one key per value
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}
