package sdp

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Errors Parse returns for input that cannot be a session description.
var (
	ErrTooLarge   = errors.New("sdp: description too large")
	ErrNoVersion  = errors.New(`sdp: description does not start with "v=0"`)
	ErrTooMany    = errors.New("sdp: description has too many lines, sections or formats")
	ErrBadMLine   = errors.New("sdp: malformed m= line")
	ErrDuplicates = errors.New("sdp: duplicate mid")
)

// parser holds per-section bookkeeping that does not belong in Media.
type parser struct {
	s *Session
	m *Media // current section, nil at session level
	// pt maps a payload type to its index in m.Payloads plus one; 0 = absent.
	pt [128]uint8
	// hasDirection notes whether the current section set its own direction.
	hasDirection bool
}

// Parse reads a session description. Lines may end in "\r\n" or "\n";
// blank lines and trailing whitespace are ignored. Lines that are not
// modelled are kept in Session.Unknown or Media.Unknown. The returned
// Session's strings share memory with s.
func Parse(s string) (*Session, error) {
	if len(s) > MaxSize {
		return nil, ErrTooLarge
	}
	p := parser{s: &Session{}}
	lines := 0
	for rest := s; rest != ""; {
		var line string
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, ""
		}
		line = strings.TrimRight(line, " \t\r")
		if line == "" {
			continue
		}
		lines++
		if lines > MaxLines {
			return nil, ErrTooMany
		}
		if lines == 1 {
			// RFC 8866 §5: the description starts with v=0.
			if line != "v=0" {
				return nil, ErrNoVersion
			}
			continue
		}
		if err := p.line(line); err != nil {
			return nil, err
		}
	}
	if lines == 0 {
		return nil, ErrNoVersion
	}
	p.endMedia()
	sess := p.s
	for i := range sess.Media {
		m := &sess.Media[i]
		if m.Mid == "" {
			continue
		}
		for j := range i {
			if sess.Media[j].Mid == m.Mid {
				return nil, fmt.Errorf("%w %q", ErrDuplicates, m.Mid)
			}
		}
	}
	inherit(sess)
	return sess, nil
}

// inherit copies session-level transport attributes into sections that do
// not set their own (RFC 8839 §5.4 and RFC 8122 §5 allow both levels).
func inherit(s *Session) {
	for i := range s.Media {
		m := &s.Media[i]
		if m.ICEUfrag == "" {
			m.ICEUfrag = s.ICEUfrag
		}
		if m.ICEPwd == "" {
			m.ICEPwd = s.ICEPwd
		}
		if m.ICEOptions == nil && s.ICEOptions != nil {
			m.ICEOptions = slices.Clone(s.ICEOptions)
		}
		if m.Fingerprints == nil && s.Fingerprints != nil {
			m.Fingerprints = slices.Clone(s.Fingerprints)
		}
		if m.Setup == "" {
			m.Setup = s.Setup
		}
		if m.Direction == "" {
			m.Direction = s.Direction
		}
		if m.Direction == "" {
			m.Direction = SendRecv
		}
	}
}

func (p *parser) line(line string) error {
	// RFC 8866 §5: <type>=<value>, type one character.
	if len(line) < 2 || line[1] != '=' {
		p.unknown(line)
		return nil
	}
	typ, val := line[0], line[2:]
	switch typ {
	case 'v':
		// A second v= starts a second description; one is all we take.
		return ErrNoVersion
	case 'm':
		return p.media(val)
	case 'a':
		if p.m == nil {
			p.sessionAttr(line, val)
		} else {
			p.mediaAttr(line, val)
		}
		return nil
	case 'c':
		if p.m == nil {
			if p.s.Connection == "" {
				p.s.Connection = val
				return nil
			}
		} else if p.m.Connection == "" {
			p.m.Connection = val
			return nil
		}
	case 'o':
		if p.m == nil && p.origin(val) {
			return nil
		}
	case 's':
		if p.m == nil && p.s.Name == "" {
			p.s.Name = val
			return nil
		}
	case 't':
		if p.m == nil && p.s.Timing == "" {
			p.s.Timing = val
			return nil
		}
	}
	p.unknown(line)
	return nil
}

func (p *parser) unknown(line string) {
	if p.m == nil {
		p.s.Unknown = append(p.s.Unknown, line)
	} else {
		p.m.Unknown = append(p.m.Unknown, line)
	}
}

func (p *parser) origin(v string) bool {
	f := strings.Fields(v)
	if len(f) != 6 || p.s.Origin.SessionID != "" {
		return false
	}
	p.s.Origin = Origin{Username: f[0], SessionID: f[1], SessionVersion: f[2], NetType: f[3], AddrType: f[4], Address: f[5]}
	return true
}

// media starts a section from an m= line (RFC 8866 §5.14):
// m=<media> <port>[/<number of ports>] <proto> <fmt> ...
func (p *parser) media(v string) error {
	if len(p.s.Media) >= MaxMedia {
		return ErrTooMany
	}
	f := strings.Fields(v)
	if len(f) < 4 {
		return ErrBadMLine
	}
	if len(f)-3 > MaxFormats {
		return ErrTooMany
	}
	if !isToken(f[0]) {
		return ErrBadMLine
	}
	portStr, count, hasCount := strings.Cut(f[1], "/")
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return ErrBadMLine
	}
	if hasCount {
		if n, err := strconv.ParseUint(count, 10, 16); err != nil || n == 0 {
			return ErrBadMLine
		}
	}
	if !isProto(f[2]) {
		return ErrBadMLine
	}
	p.endMedia()
	p.s.Media = append(p.s.Media, Media{
		Kind:    f[0],
		Port:    int(port),
		Proto:   f[2],
		Formats: f[3:],
	})
	p.m = &p.s.Media[len(p.s.Media)-1]
	p.pt = [128]uint8{}
	p.hasDirection = false
	rtp := strings.Contains(p.m.Proto, "RTP/")
	for _, fm := range p.m.Formats {
		if !isToken(fm) {
			return ErrBadMLine
		}
		if !rtp {
			continue
		}
		// RFC 8866 §5.14: for RTP the formats are payload type numbers.
		pt, err := strconv.ParseUint(fm, 10, 7)
		if err != nil {
			return ErrBadMLine
		}
		if p.pt[pt] != 0 {
			continue // listed twice; the first position is the preference
		}
		p.m.Payloads = append(p.m.Payloads, Payload{Type: uint8(pt)})
		p.pt[pt] = uint8(len(p.m.Payloads))
	}
	return nil
}

// endMedia finishes the current section. Sections are stored by value and
// p.m points into p.s.Media, so it must be dropped before the slice grows.
func (p *parser) endMedia() { p.m = nil }

// isProto checks <proto>: tokens separated by "/" (RFC 8866 §9).
func isProto(s string) bool {
	for part := range strings.SplitSeq(s, "/") {
		if !isToken(part) {
			return false
		}
	}
	return true
}

func isDirection(s string) bool {
	return s == SendRecv || s == SendOnly || s == RecvOnly || s == Inactive
}

// transportAttr handles the attributes allowed at both levels. It reports
// false when the line is not one of them or is malformed.
func transportAttr(name, value string, hasValue bool, ufrag, pwd *string, opts *[]string, fps *[]Fingerprint, setup *string) bool {
	switch name {
	case "ice-ufrag":
		if !hasValue || *ufrag != "" {
			return false
		}
		*ufrag = strings.TrimSpace(value)
		return *ufrag != ""
	case "ice-pwd":
		if !hasValue || *pwd != "" {
			return false
		}
		*pwd = strings.TrimSpace(value)
		return *pwd != ""
	case "ice-options":
		if !hasValue || *opts != nil {
			return false
		}
		*opts = strings.Fields(value)
		return true
	case "fingerprint":
		alg, fp, ok := strings.Cut(strings.TrimSpace(value), " ")
		fp = strings.TrimSpace(fp)
		if !hasValue || !ok || !isToken(alg) || fp == "" {
			return false
		}
		*fps = append(*fps, Fingerprint{Algorithm: strings.ToLower(alg), Value: fp})
		return true
	case "setup":
		v := strings.ToLower(strings.TrimSpace(value))
		if !hasValue || *setup != "" || !isToken(v) {
			return false
		}
		*setup = v
		return true
	}
	return false
}

func (p *parser) sessionAttr(line, v string) {
	s := p.s
	name, value, hasValue := strings.Cut(v, ":")
	if transportAttr(name, value, hasValue, &s.ICEUfrag, &s.ICEPwd, &s.ICEOptions, &s.Fingerprints, &s.Setup) {
		return
	}
	switch name {
	case "ice-lite":
		s.ICELite = true
		return
	case SendRecv, SendOnly, RecvOnly, Inactive:
		if !hasValue && s.Direction == "" {
			s.Direction = name
			return
		}
	case "group":
		if g, ok := parseGroup(value); ok {
			s.Groups = append(s.Groups, g)
			return
		}
	case "msid-semantic":
		if s.MsidSemantic == "" {
			s.MsidSemantic = strings.TrimSpace(value)
			return
		}
	case "extmap-allow-mixed":
		s.ExtmapAllowMixed = true
		return
	case "extmap":
		if e, ok := parseExtmap(value); ok {
			s.Extmaps = append(s.Extmaps, e)
			return
		}
	}
	s.Unknown = append(s.Unknown, line)
}

func (p *parser) mediaAttr(line, v string) {
	m := p.m
	name, value, hasValue := strings.Cut(v, ":")
	if transportAttr(name, value, hasValue, &m.ICEUfrag, &m.ICEPwd, &m.ICEOptions, &m.Fingerprints, &m.Setup) {
		return
	}
	ok := false
	switch name {
	case "mid":
		// RFC 5888 §4: identification-tag is a token. Anything else could
		// not be echoed safely in an answer, so it is left unknown.
		if m.Mid == "" && isToken(value) {
			m.Mid, ok = value, true
		}
	case SendRecv, SendOnly, RecvOnly, Inactive:
		if !hasValue && !p.hasDirection {
			m.Direction, p.hasDirection, ok = name, true, true
		}
	case "rtcp-mux":
		m.RTCPMux, ok = true, true
	case "rtcp-rsize":
		m.RTCPRsize, ok = true, true
	case "rtpmap":
		ok = p.rtpmap(value)
	case "fmtp":
		ok = p.fmtp(value)
	case "rtcp-fb":
		ok = p.rtcpFB(value)
	case "extmap":
		var e Extmap
		if e, ok = parseExtmap(value); ok {
			m.Extmaps = append(m.Extmaps, e)
		}
	case "ssrc":
		ok = p.ssrc(value)
	case "ssrc-group":
		ok = p.ssrcGroup(value)
	case "msid":
		if m.Msid == "" && strings.TrimSpace(value) != "" {
			m.Msid, ok = strings.TrimSpace(value), true
		}
	case "candidate":
		if !hasValue || len(m.Candidates)+len(m.UnparsedCandidates) >= MaxCandidates {
			break
		}
		if c, err := ParseCandidate(value); err == nil {
			m.Candidates = append(m.Candidates, c)
		} else {
			m.UnparsedCandidates = append(m.UnparsedCandidates, value)
		}
		ok = true
	case "bundle-only":
		m.BundleOnly, ok = true, true
	case "end-of-candidates":
		m.EndOfCandidates, ok = true, true
	}
	if !ok {
		m.Unknown = append(m.Unknown, line)
	}
}

// payload finds the payload for a "<pt> ..." attribute value and returns
// the rest of the value.
func (p *parser) payload(v string) (*Payload, string, bool) {
	ptStr, rest, _ := strings.Cut(v, " ")
	pt, err := strconv.ParseUint(ptStr, 10, 7)
	if err != nil || p.pt[pt] == 0 {
		return nil, "", false
	}
	return &p.m.Payloads[p.pt[pt]-1], strings.TrimSpace(rest), true
}

// rtpmap: <payload type> <encoding name>/<clock rate>[/<parameters>]
// (RFC 8866 §6.6).
func (p *parser) rtpmap(v string) bool {
	pl, rest, ok := p.payload(v)
	if !ok || pl.Name != "" {
		return false
	}
	name, rest, ok := strings.Cut(rest, "/")
	if !ok || !isToken(name) {
		return false
	}
	rate, chans, hasChans := strings.Cut(rest, "/")
	r, err := strconv.ParseUint(rate, 10, 32)
	if err != nil || r == 0 || r > 1<<31 {
		return false
	}
	c := uint64(0)
	if hasChans {
		if c, err = strconv.ParseUint(chans, 10, 8); err != nil || c == 0 {
			return false
		}
	}
	pl.Name, pl.ClockRate, pl.Channels = name, int(r), int(c)
	return true
}

func (p *parser) fmtp(v string) bool {
	pl, rest, ok := p.payload(v)
	if !ok || pl.Fmtp != "" {
		return false
	}
	pl.Fmtp = rest
	return rest != ""
}

// rtcp-fb: <payload type>|* <type> [<parameters>] (RFC 4585 §4.2).
func (p *parser) rtcpFB(v string) bool {
	if rest, ok := strings.CutPrefix(v, "* "); ok {
		if rest = strings.TrimSpace(rest); rest != "" {
			p.m.RTCPFBAll = append(p.m.RTCPFBAll, rest)
			return true
		}
		return false
	}
	pl, rest, ok := p.payload(v)
	if !ok || rest == "" {
		return false
	}
	pl.RTCPFB = append(pl.RTCPFB, rest)
	return true
}

// ssrc: <ssrc-id> <attribute>[:<value>] (RFC 5576 §4.1).
func (p *parser) ssrc(v string) bool {
	idStr, attr, _ := strings.Cut(v, " ")
	id, err := strconv.ParseUint(idStr, 10, 32)
	if err != nil {
		return false
	}
	m := p.m
	if !slices.Contains(m.SSRCs, uint32(id)) {
		if len(m.SSRCs) >= MaxSSRCs {
			return false
		}
		m.SSRCs = append(m.SSRCs, uint32(id))
	}
	name, value, _ := strings.Cut(strings.TrimSpace(attr), ":")
	m.SSRCAttrs = append(m.SSRCAttrs, SSRCAttr{ID: uint32(id), Name: name, Value: value})
	return true
}

// ssrc-group: <semantics> <ssrc-id> ... (RFC 5576 §4.2).
func (p *parser) ssrcGroup(v string) bool {
	f := strings.Fields(v)
	if len(f) < 2 || len(f)-1 > MaxSSRCs || !isToken(f[0]) {
		return false
	}
	g := SSRCGroup{Semantics: f[0], SSRCs: make([]uint32, 0, len(f)-1)}
	for _, s := range f[1:] {
		id, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return false
		}
		g.SSRCs = append(g.SSRCs, uint32(id))
	}
	p.m.SSRCGroups = append(p.m.SSRCGroups, g)
	return true
}

// group: <semantics> *(SP <identification-tag>) (RFC 5888 §5).
func parseGroup(v string) (Group, bool) {
	f := strings.Fields(v)
	if len(f) < 1 || len(f)-1 > MaxGroupMids || !isToken(f[0]) {
		return Group{}, false
	}
	for _, mid := range f[1:] {
		if !isToken(mid) {
			return Group{}, false
		}
	}
	return Group{Semantics: f[0], Mids: f[1:]}, true
}

// Extension identifiers (RFC 8285 §5 and §8): 1-14 one-byte, up to 255
// two-byte, and 4096-4351 may appear in offers for the answerer to remap.
const (
	maxExtmapID      = 255
	minExtmapOfferID = 4096
	maxExtmapOfferID = 4351
)

// extmap: <value>["/"<direction>] <URI> <extensionattributes> (RFC 8285 §8).
func parseExtmap(v string) (Extmap, bool) {
	f := strings.Fields(v)
	if len(f) < 2 {
		return Extmap{}, false
	}
	idStr, dir, hasDir := strings.Cut(f[0], "/")
	id, err := strconv.ParseUint(idStr, 10, 16)
	if err != nil || id == 0 || (id > maxExtmapID && (id < minExtmapOfferID || id > maxExtmapOfferID)) {
		return Extmap{}, false
	}
	if hasDir && !isDirection(dir) {
		return Extmap{}, false
	}
	e := Extmap{ID: uint16(id), Direction: dir, URI: f[1]}
	if len(f) > 2 {
		e.Attrs = strings.Join(f[2:], " ")
	}
	return e, true
}
