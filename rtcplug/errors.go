package rtcplug

import (
	"errors"
	"fmt"

	"github.com/nutsbolts/webrtc/rtcplug/internal/conference"
)

// Errors a host can test for with errors.Is.
var (
	// ErrClosed: the plugin has stopped (Plugin.Err after Close), or work
	// was asked of a plugin that is stopping.
	ErrClosed = errors.New("rtcplug: closed")
	// ErrFull: a join was refused by a limit (WithMaxConferences,
	// WithMaxPeers, WithMaxPending).
	ErrFull = errors.New("rtcplug: full")
	// ErrUnauthorized: the WithAuthorize function refused a request (the
	// plugin's refusals match it with errors.Is; a host may return it).
	ErrUnauthorized = errors.New("rtcplug: unauthorized")
	// ErrBadOffer is the Err of the PeerState closed of a WHIP peer whose
	// offer could not be applied; ErrBadAnswer is joined to the Err of a
	// peer that failed after its answer was refused.
	ErrBadOffer  = errors.New("rtcplug: unusable SDP offer")
	ErrBadAnswer = errors.New("rtcplug: unusable SDP answer")
	// ErrNoPeer: Kick was given an id that names no live peer.
	ErrNoPeer = errors.New("rtcplug: no such peer")
	// ErrKicked is the Err of the PeerState closed of a peer ended by Kick.
	ErrKicked = errors.New("rtcplug: peer kicked by the host")
)

// joinError marks a registry refusal as ErrFull (or ErrClosed), keeping the
// registry's own error in the chain for its text.
func joinError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, conference.ErrTooManyConferences), errors.Is(err, conference.ErrConferenceFull),
		errors.Is(err, conference.ErrTooManyPeers), errors.Is(err, conference.ErrTooManyPending):
		return fmt.Errorf("%w: %w", ErrFull, err)
	case errors.Is(err, conference.ErrClosed):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// Err is nil while the plugin runs; once Done is closed it says why the
// plugin stopped: ErrClosed after Close, the cause of the WithContext
// context when that ended, or the error that broke the UDP socket.
func (p *Plugin) Err() error {
	select {
	case <-p.done:
	default:
		return nil
	}
	p.host.errMu.Lock()
	defer p.host.errMu.Unlock()
	return p.host.err
}

// stopWith records why the plugin stops (the first reason wins) and stops it.
func (p *Plugin) stopWith(err error) {
	p.host.errMu.Lock()
	if p.host.err == nil {
		p.host.err = err
	}
	p.host.errMu.Unlock()
	p.cancel()
}
