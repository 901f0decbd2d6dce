// Package sdp reads and writes the part of SDP (RFC 8866) that WebRTC
// endpoints exchange under JSEP (RFC 8829): BUNDLE (RFC 8843), ICE attributes
// (RFC 8839), DTLS fingerprints and roles (RFC 8122, RFC 4145), header
// extensions (RFC 8285), RTP payload maps and feedback.
//
// The parser is typed but tolerant: every line it does not model is kept,
// in order, in an Unknown list, so nothing a browser sends is lost. It only
// rejects input that cannot be a session description: a missing "v=0" first
// line, a malformed m= line, duplicate mids, or more than the bounded number
// of bytes, lines, media sections or payload formats.
//
// The builders write the server's side: BuildOffer for the WebSocket flow
// (the server offers, the browser answers) and BuildAnswer for WHIP
// (RFC 9725, the sender offers). Session.Remote extracts and validates what
// the server needs from the peer's description.
package sdp

// Bounds on what a description may contain. A browser's offer with audio,
// video and a few candidates is about 6 KiB, 150 lines and 2 sections.
const (
	// MaxSize is the largest description Parse accepts, in bytes.
	MaxSize = 64 << 10
	// MaxLines is the most non-blank lines Parse accepts.
	MaxLines = 4096
	// MaxMedia is the most m= sections Parse accepts.
	MaxMedia = 32
	// MaxFormats is the most formats on one m= line; RTP has 128 payload
	// types (RFC 3550 §5.1), so an RTP section cannot usefully list more.
	MaxFormats = 128
	// MaxCandidates is the most a=candidate lines kept per section.
	MaxCandidates = 128
	// MaxSSRCs is the most distinct SSRCs described per section (RFC 5576).
	MaxSSRCs = 64
	// MaxGroupMids is the most mids one a=group line may list.
	MaxGroupMids = MaxMedia
)

// Media directions (RFC 8866 §6.7). A section without one is sendrecv.
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// DTLS roles of a=setup (RFC 4145 §4, RFC 5763 §5).
const (
	SetupActive   = "active"
	SetupPassive  = "passive"
	SetupActPass  = "actpass"
	SetupHoldConn = "holdconn"
)

// Media kinds.
const (
	KindAudio = "audio"
	KindVideo = "video"
)

// Session is a parsed session description. Session-level ICE credentials,
// ice-options, fingerprints, setup and direction are also copied into every
// media section that does not carry its own, so a caller can read a Media on
// its own.
type Session struct {
	Origin Origin
	Name   string // s=
	Timing string // t=, as written
	// Connection is the session-level c= value, as written.
	Connection string

	ICELite      bool
	ICEUfrag     string
	ICEPwd       string
	ICEOptions   []string
	Fingerprints []Fingerprint
	Setup        string // lower-cased; "" when absent
	Direction    string // session-level direction attribute; "" when absent

	Groups           []Group  // a=group (RFC 5888), e.g. BUNDLE
	MsidSemantic     string   // a=msid-semantic value, as written
	ExtmapAllowMixed bool     // a=extmap-allow-mixed (RFC 8285 §6)
	Extmaps          []Extmap // session-level a=extmap

	// Unknown holds the session-level lines that are not modelled above,
	// whole ("b=AS:30", "a=foo:bar"), in the order they appeared.
	Unknown []string

	Media []Media
}

// Origin is the o= line (RFC 8866 §5.2).
type Origin struct {
	Username       string
	SessionID      string // decimal, kept as written
	SessionVersion string
	NetType        string
	AddrType       string
	Address        string
}

// Group is an a=group attribute (RFC 5888 §5).
type Group struct {
	Semantics string // "BUNDLE", "LS", ...
	Mids      []string
}

// Media is one m= section.
type Media struct {
	Kind    string   // "audio", "video", "application", ...
	Port    int      // 0 = rejected, unless BundleOnly
	Proto   string   // "UDP/TLS/RTP/SAVPF"
	Formats []string // the m= line's format list, in order
	// Connection is the media-level c= value, as written.
	Connection string

	Mid string
	// BundleOnly is a=bundle-only (RFC 8843 §6): port 0 but live, to be
	// used only on the BUNDLE transport.
	BundleOnly bool
	Direction  string // sendrecv when neither the section nor the session says

	ICEUfrag     string
	ICEPwd       string
	ICEOptions   []string
	Fingerprints []Fingerprint
	Setup        string // lower-cased; "" when absent
	RTCPMux      bool
	RTCPRsize    bool

	// Payloads has one entry per RTP format of the m= line, in the m= line's
	// (preference) order. Empty for non-RTP protocols.
	Payloads []Payload
	// RTCPFBAll holds a=rtcp-fb:* values, which apply to every payload.
	RTCPFBAll []string

	Extmaps    []Extmap
	SSRCs      []uint32 // distinct ids of a=ssrc lines, in order
	SSRCAttrs  []SSRCAttr
	SSRCGroups []SSRCGroup
	Msid       string // a=msid value, as written

	Candidates []Candidate
	// UnparsedCandidates holds a=candidate values that did not parse into a
	// Candidate, e.g. mDNS hostnames (RFC 8839 allows an FQDN), as written.
	UnparsedCandidates []string
	EndOfCandidates    bool

	// Unknown holds the section's lines that are not modelled above, whole,
	// in order.
	Unknown []string
}

// Payload is one RTP payload type of a section.
type Payload struct {
	Type      uint8
	Name      string // encoding name as written, e.g. "VP8", "opus"; "" without rtpmap
	ClockRate int
	Channels  int      // as written in rtpmap; 0 when absent
	Fmtp      string   // a=fmtp parameters, as written
	RTCPFB    []string // a=rtcp-fb values for this type, e.g. "nack", "nack pli", "ccm fir"
}

// Extmap is an a=extmap attribute (RFC 8285 §8).
type Extmap struct {
	ID        uint16
	Direction string // "" when absent
	URI       string
	Attrs     string // extension attributes after the URI, as written
}

// SSRCAttr is one a=ssrc line (RFC 5576 §4.1): "cname", "msid", ...
type SSRCAttr struct {
	ID    uint32
	Name  string
	Value string
}

// SSRCGroup is an a=ssrc-group attribute (RFC 5576 §4.2), e.g. FID.
type SSRCGroup struct {
	Semantics string
	SSRCs     []uint32
}

// Bundle returns the mids of the first BUNDLE group, nil if there is none.
func (s *Session) Bundle() []string {
	for _, g := range s.Groups {
		if g.Semantics == "BUNDLE" {
			return g.Mids
		}
	}
	return nil
}

// MediaByMid returns the section with the given mid.
func (s *Session) MediaByMid(mid string) (*Media, bool) {
	if mid == "" {
		return nil, false
	}
	for i := range s.Media {
		if s.Media[i].Mid == mid {
			return &s.Media[i], true
		}
	}
	return nil, false
}

// live reports whether the section is in use (RFC 8843 §7.5: a bundle-only
// section has port 0 but is not rejected).
func (m *Media) live() bool { return m.Port != 0 || m.BundleOnly }

// Payload returns the payload with type pt.
func (m *Media) Payload(pt uint8) (*Payload, bool) {
	for i := range m.Payloads {
		if m.Payloads[i].Type == pt {
			return &m.Payloads[i], true
		}
	}
	return nil, false
}

// Codec returns the first payload, in preference order, whose rtpmap is
// name/clockRate[/channels]. Encoding names compare case-insensitively
// (RFC 4855 §3); channels 0 matches any channel count.
func (m *Media) Codec(name string, clockRate, channels int) (*Payload, bool) {
	for i := range m.Payloads {
		p := &m.Payloads[i]
		if equalFold(p.Name, name) && p.ClockRate == clockRate && (channels == 0 || p.Channels == channels) {
			return p, true
		}
	}
	return nil, false
}

// Feedback returns the rtcp-fb values that apply to pt: its own, then those
// given for "*". The result is a new slice.
func (m *Media) Feedback(pt uint8) []string {
	var out []string
	if p, ok := m.Payload(pt); ok {
		out = append(out, p.RTCPFB...)
	}
	return append(out, m.RTCPFBAll...)
}

// equalFold is ASCII-only case-insensitive equality, enough for SDP tokens.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
