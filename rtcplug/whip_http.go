package rtcplug

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// The HTTP side of WHIP (RFC 9725) that browsers and proxies see: Bearer
// authentication, CORS, session URLs that are capabilities, and bounded
// request bodies.

// whipBodyTimeout bounds reading a WHIP offer (at most MaxMessage bytes): a
// sender that trickles its body ties up nothing for longer, and shutdown
// cuts the read at once.
const whipBodyTimeout = 10 * time.Second

// WithBearerToken requires every WHIP request (POST, DELETE, PATCH) to carry
// "Authorization: Bearer <token>" (RFC 9725 §4.5, RFC 6750 §2.1); a missing
// or different token gets 401 with WWW-Authenticate: Bearer. The token is
// compared in constant time. It is checked before WithAuthorize, which still
// runs when set. It does not apply to the WebSocket route: browsers cannot
// set headers on a WebSocket, so use WithAuthorize (a cookie, a query
// parameter) there. Default: no token.
func WithBearerToken(token string) Option {
	return func(c *config) error {
		if strings.TrimSpace(token) == "" || strings.ContainsAny(token, " \t\r\n") {
			return errors.New("rtcplug: WithBearerToken needs a token without spaces")
		}
		c.whipToken = token
		return nil
	}
}

// newSessionSecret returns the unguessable part of a WHIP session URL: 130
// bits from crypto/rand (RFC 9725 §4.2 makes the session URL the only handle
// on the session, so it must not be derivable from the public peer id).
func newSessionSecret() string { return rand.Text() }

// sameSecret compares a session secret in constant time.
func sameSecret(want *string, got string) bool {
	return want != nil && subtle.ConstantTimeCompare([]byte(*want), []byte(got)) == 1
}

// whipSession finds the live WHIP peer of conference whose session secret is
// secret. Every candidate is compared in constant time, so the time taken
// says nothing about how much of a guess was right.
func (p *Plugin) whipSession(conference, secret string) (*peerHandle, bool) {
	var found *peerHandle
	for _, m := range p.reg.Members() {
		if m.Conference != conference || !m.Value.whip {
			continue
		}
		if sameSecret(m.Value.whipSecret.Load(), secret) {
			found = m.Value
		}
	}
	return found, found != nil
}

// sessionLocation is the Location of a new session: the path the client
// posted to, as it sent it (r.RequestURI, so a router mounted under a prefix,
// even through http.StripPrefix, yields a URL the client can use), plus the
// secret.
func sessionLocation(r *http.Request, secret string) string {
	p := r.URL.EscapedPath()
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.EscapedPath() != "" {
		p = u.EscapedPath()
	}
	return strings.TrimSuffix(p, "/") + "/" + secret
}

// whipAuth checks the Bearer token and WithAuthorize. On refusal it answers
// 401 with a Bearer challenge (RFC 9725 §4.5, RFC 6750 §3) and returns false.
func (p *Plugin) whipAuth(w http.ResponseWriter, r *http.Request, conference string) (identity string, ok bool) {
	if !p.whipBearer(w, r) {
		return "", false
	}
	return p.whipAuthorize(w, r, conference)
}

// whipBearer is the Bearer token half of whipAuth: it needs no conference,
// so it comes before anything else about a request is looked at.
func (p *Plugin) whipBearer(w http.ResponseWriter, r *http.Request) bool {
	if p.cfg.whipToken != "" {
		got, ok := bearerToken(r)
		if !ok {
			p.refused(reasonUnauthorized, "route", "whip", "remote", r.RemoteAddr, "why", "no bearer token")
			w.Header().Set("WWW-Authenticate", `Bearer realm="rtcplug"`)
			http.Error(w, "a Bearer token is required", http.StatusUnauthorized)
			return false
		}
		// Hashes of equal length, so the time taken tells nothing, not even
		// the token's length.
		want, have := sha256.Sum256([]byte(p.cfg.whipToken)), sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(want[:], have[:]) != 1 {
			p.refused(reasonUnauthorized, "route", "whip", "remote", r.RemoteAddr, "why", "wrong bearer token")
			w.Header().Set("WWW-Authenticate", `Bearer realm="rtcplug", error="invalid_token"`)
			http.Error(w, "invalid Bearer token", http.StatusUnauthorized)
			return false
		}
	}
	return true
}

// whipAuthorize is the WithAuthorize half of whipAuth; it returns the
// identity WithAuthorize gave.
func (p *Plugin) whipAuthorize(w http.ResponseWriter, r *http.Request, conference string) (identity string, ok bool) {
	identity, err := p.authorize(r, conference)
	if err != nil {
		p.refused(reasonUnauthorized, "route", "whip", "remote", r.RemoteAddr, "why", err.Error())
		w.Header().Set("WWW-Authenticate", `Bearer realm="rtcplug"`)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return "", false
	}
	return identity, true
}

// bearerToken reads "Authorization: Bearer <token>" (the scheme is
// case-insensitive, RFC 9110 §11.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// readOffer reads the WHIP body with whipBodyTimeout and without holding
// up shutdown: the plugin's end makes the read fail at once.
func (p *Plugin) readOffer(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	// An error means the ResponseWriter cannot take deadlines (a test
	// recorder); the plugin's end still stops the read below.
	_ = rc.SetReadDeadline(time.Now().Add(p.cfg.whipBodyTimeout))
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(p.ctx, func() {
		_ = rc.SetReadDeadline(time.Now())
		cancel()
	})
	body := http.MaxBytesReader(w, r.Body, MaxMessage)
	b, err := io.ReadAll(readerWithContext{ctx, body})
	if !stop() || p.ctx.Err() != nil {
		err = ErrClosed
	}
	if err != nil {
		// The deadline stays in the past: net/http would otherwise wait,
		// without limit, for the rest of the body before it answers. The
		// connection ends after the reply.
		_ = rc.SetReadDeadline(time.Now())
		w.Header().Set("Connection", "close")
		return nil, err
	}
	_ = rc.SetReadDeadline(time.Time{})
	return b, nil
}

// readerWithContext fails reads once ctx is done (for bodies whose reads
// no deadline reaches, such as a test's pipe).
type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (c readerWithContext) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// whipCORS adds CORS to every WHIP response for browser-based WHIP clients
// (the Fetch standard's CORS protocol): an Origin allowed by
// WithOriginPatterns (or of the same host) is echoed, and the headers a WHIP
// client must read are exposed — also on refusals, so a page can tell a 401
// from a network error.
func (p *Plugin) whipCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			h := w.Header()
			h.Add("Vary", "Origin")
			if originAllowed(r, origin, p.cfg.originPatterns) {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Expose-Headers", "Location, Link, ETag")
			}
		}
		next.ServeHTTP(w, r)
	})
}

// whipPreflight answers OPTIONS on a WHIP route: a CORS preflight gets the
// methods and request headers a WHIP client uses (RFC 9725 §4.5 sends
// Authorization; the offer is application/sdp, which needs a preflight).
func whipPreflight(methods string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if h.Get("Access-Control-Allow-Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", methods)
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
			h.Set("Access-Control-Max-Age", "600")
		}
		if strings.Contains(methods, http.MethodPost) {
			h.Set("Accept-Post", "application/sdp")
		}
		h.Set("Allow", methods)
		w.WriteHeader(http.StatusNoContent)
	}
}

// originAllowed applies the WithOriginPatterns rule the WebSocket route
// applies: the same host, or a host (scheme://host when the pattern has a
// scheme) that matches a pattern in path.Match syntax, case-insensitively.
func originAllowed(r *http.Request, origin string, patterns []string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, pat := range patterns {
		target := u.Host
		if strings.Contains(pat, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(pat), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}

// etag names the session's ICE session (RFC 9725 §4.3.1: it changes with an
// ICE restart, which this server never does): quoted, from the ufrag the
// answer already carries.
func etag(ufrag string) string { return fmt.Sprintf("%q", ufrag) }

// logWHIPPolicy says at Mount whether WHIP needs authorization. WHIP is on
// by default without it, like the WebSocket route: both let anyone who
// reaches the router publish, and the host decides who that is (a token,
// WithAuthorize, or what it puts in front).
func (p *Plugin) logWHIPPolicy() {
	if p.cfg.whipPath == "" {
		return
	}
	if p.cfg.whipToken == "" && p.cfg.authorize == nil {
		p.log.Info("WHIP is open: anyone who reaches the router may publish (WithBearerToken or WithAuthorize restrict it, WithWHIPPath(\"\") turns it off)",
			"path", p.cfg.whipPath)
		return
	}
	p.log.Info("WHIP requires authorization", "path", p.cfg.whipPath, "bearer", p.cfg.whipToken != "", "authorize", p.cfg.authorize != nil)
}
