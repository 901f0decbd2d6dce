package rtcplug

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/conference"
)

// Why a request or a connection was refused or cut by a limit. Each is
// logged at Info, at most once per refusalLogInterval; the next line says
// how many were not logged in between.
const (
	reasonUnauthorized    = "unauthorized"          // Bearer token or WithAuthorize
	reasonFull            = "full"                  // conference, peer or pending limits
	reasonPendingSource   = "pending-per-source"    // one source holds its share of pending handshakes
	reasonSockets         = "too-many-sockets"      // open signaling sockets
	reasonSocketsSource   = "sockets-per-source"    // open signaling sockets of one source
	reasonTooLarge        = "too-large"             // a WHIP body over MaxMessage
	reasonTimeout         = "body-timeout"          // a WHIP body not received in time
	reasonJoinTimeout     = "join-timeout"          // a socket that never joined, or a peer never answered
	reasonSlowClient      = "slow-client"           // a socket whose reply queue overflowed
	reasonAnswerTimeout   = "answer-timeout"        // a joined peer whose SdpAnswer never came
	refusalLogInterval    = time.Second             // per reason
	maxRefusalReasons     = 16                      // the reasons above, with room
	refusalMessage        = "refused by a limit"    // the log line's message
	refusalSuppressedAttr = "suppressed_since_last" // refusals not logged since the previous line
)

// refusalLog rate-limits the Info lines of limit refusals per reason: an
// attacker who makes us refuse thousands of requests a second must not make
// us write thousands of lines a second. Its zero value is ready to use.
type refusalLog struct {
	mu      sync.Mutex
	reasons map[string]*refusalState // bounded by the constant reasons
}

type refusalState struct {
	last       time.Time
	suppressed int
}

// refused logs a refusal at Info with its reason and attributes, unless one
// with the same reason was logged within refusalLogInterval.
func (p *Plugin) refused(reason string, attrs ...any) {
	if n, ok := p.refusals.allow(reason, time.Now()); ok {
		args := append([]any{"reason", reason}, attrs...)
		if n > 0 {
			args = append(args, refusalSuppressedAttr, n)
		}
		p.log.Info(refusalMessage, args...)
	}
}

// refusedJoin logs a join refused by a registry limit.
func (p *Plugin) refusedJoin(route string, r *http.Request, conf string, err error) {
	reason := reasonFull
	if errors.Is(err, conference.ErrSourcePending) {
		reason = reasonPendingSource
	}
	p.refused(reason, "route", route, "remote", r.RemoteAddr, "conference", conf, "why", err.Error())
}

// allow reports whether a refusal for reason may be logged at now, and how
// many were suppressed before it.
func (l *refusalLog) allow(reason string, now time.Time) (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reasons == nil {
		l.reasons = make(map[string]*refusalState)
	}
	st := l.reasons[reason]
	if st == nil {
		if len(l.reasons) >= maxRefusalReasons {
			return 0, false
		}
		st = &refusalState{}
		l.reasons[reason] = st
	}
	if !st.last.IsZero() && now.Sub(st.last) < refusalLogInterval {
		st.suppressed++
		return 0, false
	}
	n := st.suppressed
	st.last, st.suppressed = now, 0
	return n, true
}
