package rtcplug

import (
	"net/http"
	"testing"
)

// A source is an IPv4 address or an IPv6 /64; a v4-mapped address is its
// IPv4 address.
func TestSourceOf(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.7:5000":                  "192.0.2.7",
		"[::ffff:192.0.2.7]:5000":         "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:443":      "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9]:443":      "2001:db8:1:2::/64",
		"[fe80::1%eth0]:1":                "fe80::/64",
		"203.0.113.5":                     "203.0.113.5", // a middleware that dropped the port
		"not an address":                  "not an address",
		"[2001:db8:1:3::1]:443":           "2001:db8:1:3::/64",
		"[2001:db8:ffff:ffff:1::1]:65535": "2001:db8:ffff:ffff::/64",
	} {
		if got := sourceOf(&http.Request{RemoteAddr: remote}); got != want {
			t.Errorf("%s: %s, want %s", remote, got, want)
		}
	}
}
