package rtcplug

import (
	"bytes"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// Refusals (a /ws Error, a WHIP 4xx/5xx) are logged at Info with their
// reason, so an operator can see why a sender could not join. A client
// that retries in a loop must not flood the log: the lines share the rate
// limit of the limit refusals (limitlog.go), one line per route per
// refusalLogInterval, the next saying how many were left out.

// maxReasonLen bounds the reason text copied from a response body.
const maxReasonLen = 256

// logRefusal logs one refusal at Info, within the rate limit.
func (p *Plugin) logRefusal(where, reason string, attrs ...any) {
	n, ok := p.refusals.allow(where, time.Now())
	if !ok {
		return
	}
	args := append([]any{"reason", reason}, attrs...)
	if n > 0 {
		args = append(args, refusalSuppressedAttr, n)
	}
	p.log.Info(where+" refused", args...)
}

// logRefusals wraps a handler so that every response of status 400 or
// more is logged as a refusal with the text the client was sent.
func (p *Plugin) logRefusals(where string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.status >= 400 {
				p.logRefusal(where, string(bytes.TrimSpace(rec.body)), "status", rec.status,
					"method", r.Method, "route", routeOf(r), "conference", chi.URLParam(r, "conference"),
					"remote", r.RemoteAddr)
			}
		})
	}
}

// routeOf is the route pattern a request matched (e.g.
// "/{conference}/{secret}"), never its path: a WHIP session URL carries the
// session's secret, which must not reach the logs.
func routeOf(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if pat := rc.RoutePattern(); pat != "" {
			return pat
		}
	}
	return "(no route)"
}

// statusRecorder keeps the status and the start of an error body.
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   []byte
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.status >= 400 && len(s.body) < maxReasonLen {
		s.body = append(s.body, b[:min(len(b), maxReasonLen-len(s.body))]...)
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
