package sdp

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// Candidate types (RFC 8839 §5.1).
const (
	CandidateHost  = "host"
	CandidateSrflx = "srflx"
	CandidatePrflx = "prflx"
	CandidateRelay = "relay"
)

// Candidate is an a=candidate attribute (RFC 8839 §5.1).
//
// When building, zero fields take defaults: Component 1, Protocol "udp",
// Type "host". Foundation and Priority are the caller's: package ice computes
// both (RFC 8445 §5.1.1.3, §5.1.2.1); zero ones are written as "0" and 0 so
// that the line stays valid.
type Candidate struct {
	Foundation string
	Component  int
	Protocol   string // lower-cased: "udp", "tcp"
	Priority   uint32
	Addr       netip.AddrPort
	Type       string // host, srflx, prflx, relay
	// Related is rel-addr/rel-port (RFC 8839 §5.1), present for srflx,
	// prflx and relay candidates; written as 0.0.0.0:0 when unknown.
	Related netip.AddrPort
	TCPType string // RFC 6544 §4.5: active, passive, so; "" for UDP
	// Extensions holds the remaining name/value pairs in order, e.g.
	// generation 0, network-id 1.
	Extensions []CandidateExt
}

// CandidateExt is one cand-extension name/value pair.
type CandidateExt struct {
	Name, Value string
}

// Limits from RFC 8839 §5.1.
const (
	maxFoundationLen = 32
	maxComponentID   = 256
)

var errCandidate = errors.New("sdp: malformed candidate")

// ParseCandidate parses an a=candidate attribute value (without the
// "candidate:" prefix). A candidate whose address is not an IP literal, such
// as an mDNS name, is an error: the server cannot use it.
func ParseCandidate(v string) (Candidate, error) {
	f := strings.Fields(v)
	if len(f) < 8 || f[6] != "typ" || (len(f)-8)%2 != 0 {
		return Candidate{}, errCandidate
	}
	var c Candidate
	if n := len(f[0]); n == 0 || n > maxFoundationLen || !isICEChars(f[0]) {
		return Candidate{}, errCandidate
	}
	c.Foundation = f[0]
	comp, err := strconv.Atoi(f[1])
	if err != nil || comp < 1 || comp > maxComponentID {
		return Candidate{}, errCandidate
	}
	c.Component = comp
	if !isToken(f[2]) {
		return Candidate{}, errCandidate
	}
	c.Protocol = strings.ToLower(f[2])
	prio, err := strconv.ParseUint(f[3], 10, 32)
	if err != nil {
		return Candidate{}, errCandidate
	}
	c.Priority = uint32(prio)
	if c.Addr, err = parseAddrPort(f[4], f[5]); err != nil {
		return Candidate{}, err
	}
	if !isToken(f[7]) {
		return Candidate{}, errCandidate
	}
	c.Type = f[7]
	var raddr, rport string
	for i := 8; i+1 < len(f); i += 2 {
		name, val := f[i], f[i+1]
		switch name {
		case "raddr":
			raddr = val
		case "rport":
			rport = val
		case "tcptype":
			c.TCPType = val
		default:
			c.Extensions = append(c.Extensions, CandidateExt{Name: name, Value: val})
		}
	}
	if raddr != "" || rport != "" {
		if c.Related, err = parseAddrPort(raddr, rport); err != nil {
			return Candidate{}, err
		}
	}
	return c, nil
}

func parseAddrPort(addr, port string) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, errCandidate
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, errCandidate
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}

// String is the attribute value without the "candidate:" prefix. Zero
// fields take the defaults described on Candidate; characters that cannot
// appear in a token are dropped so the result is always one valid line.
func (c Candidate) String() string {
	b := make([]byte, 0, 128)
	b = c.AppendTo(b)
	return string(b)
}

// AppendTo appends String's result to b.
func (c Candidate) AppendTo(b []byte) []byte {
	typ := sanitizeToken(c.Type)
	if typ == "" {
		typ = CandidateHost
	}
	proto := strings.ToLower(sanitizeToken(c.Protocol))
	if proto == "" {
		proto = "udp"
	}
	comp := c.Component
	if comp < 1 || comp > maxComponentID {
		comp = 1
	}
	foundation := sanitizeICEChars(c.Foundation)
	if len(foundation) > maxFoundationLen {
		foundation = foundation[:maxFoundationLen]
	}
	if foundation == "" {
		foundation = "0"
	}
	prio := c.Priority
	b = append(b, foundation...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(comp), 10)
	b = append(b, ' ')
	b = append(b, proto...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(prio), 10)
	b = append(b, ' ')
	b = appendAddrPort(b, c.Addr)
	b = append(b, " typ "...)
	b = append(b, typ...)
	if typ != CandidateHost || c.Related.IsValid() {
		b = append(b, " raddr "...)
		rel := c.Related
		if !rel.IsValid() {
			// RFC 8839 §5.1: rel-addr/rel-port are mandatory for these
			// types; browsers write 0.0.0.0 0 when they hide the base.
			rel = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
			if a := c.Addr.Addr().Unmap(); a.Is6() {
				rel = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
			}
		}
		b = rel.Addr().WithZone("").Unmap().AppendTo(b)
		b = append(b, " rport "...)
		b = strconv.AppendUint(b, uint64(rel.Port()), 10)
	}
	if t := sanitizeToken(c.TCPType); t != "" {
		b = append(b, " tcptype "...)
		b = append(b, t...)
	}
	for _, e := range c.Extensions {
		n, v := sanitizeToken(e.Name), sanitizeToken(e.Value)
		if n == "" || v == "" || reservedCandidateName(n) {
			// A name that sanitizes to one of the fields written above
			// would repeat it and make the line ambiguous.
			continue
		}
		b = append(b, ' ')
		b = append(b, n...)
		b = append(b, ' ')
		b = append(b, v...)
	}
	return b
}

// reservedCandidateName reports whether n names a field that AppendTo
// writes itself (RFC 8839 §5.1).
func reservedCandidateName(n string) bool {
	switch n {
	case "typ", "raddr", "rport", "tcptype":
		return true
	}
	return false
}

func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr().WithZone("").Unmap()
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	b = a.AppendTo(b)
	b = append(b, ' ')
	return strconv.AppendUint(b, uint64(ap.Port()), 10)
}

// isICEChars reports whether s is made of ice-char (RFC 8839 §5.4:
// ALPHA / DIGIT / "+" / "/").
func isICEChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isICEChar(s[i]) {
			return false
		}
	}
	return true
}

func isICEChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

func sanitizeICEChars(s string) string {
	if isICEChars(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if isICEChar(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// isToken reports whether s is a non-empty RFC 8866 §9 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isTokenChar is RFC 8866 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E /
// %x30-39 / %x41-5A / %x5E-7E.
func isTokenChar(c byte) bool {
	switch {
	case c == 0x21, 0x23 <= c && c <= 0x27, c == 0x2a, c == 0x2b, c == 0x2d, c == 0x2e,
		'0' <= c && c <= '9', 'A' <= c && c <= 'Z', 0x5e <= c && c <= 0x7e:
		return true
	}
	return false
}

func sanitizeToken(s string) string {
	if s == "" || isToken(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if isTokenChar(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}
