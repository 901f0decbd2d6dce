package rtcplug

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/signal"
)

// WHIP (RFC 9725) for senders that do not speak our WebSocket protocol (OBS,
// GStreamer, ffmpeg, browsers): the sender offers, we answer.
//
//	POST    {whip}/{conference}          Content-Type: application/sdp → 201, Location, ETag, answer
//	DELETE  {whip}/{conference}/{secret} → 200, the peer ends
//	PATCH   {whip}/{conference}/{secret} → 405 (ICE-lite needs no trickle)
//	OPTIONS on both                      → 204, CORS preflight
//
// The Location carries a secret of 130 random bits, not the peer id (which
// is public: it names the snapshot folder): whoever holds the Location holds
// the session. Authentication (WithBearerToken, WithAuthorize) is answered
// with 401 and a Bearer challenge (RFC 9725 §4.5).

func (p *Plugin) whipRouter() *chi.Mux {
	sub := chi.NewRouter()
	sub.Use(p.logRefusals("WHIP request"))
	sub.Use(p.whipCORS)
	sub.Post("/{conference}", p.whipPost)
	sub.Options("/{conference}", whipPreflight("POST, OPTIONS"))
	sub.Delete("/{conference}/{secret}", p.whipDelete)
	sub.Options("/{conference}/{secret}", whipPreflight("DELETE, PATCH, OPTIONS"))
	// RFC 9725 §4.3: a server without trickle ICE answers PATCH with 405.
	sub.Patch("/{conference}/{secret}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := p.whipAuth(w, r, chi.URLParam(r, "conference")); !ok {
			return
		}
		w.Header().Set("Allow", "DELETE")
		http.Error(w, "trickle ICE is not needed: the server is ICE-lite", http.StatusMethodNotAllowed)
	})
	return sub
}

func (p *Plugin) whipPost(w http.ResponseWriter, r *http.Request) {
	if !p.whipBearer(w, r) {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		http.Error(w, "Content-Type must be application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	conf := chi.URLParam(r, "conference")
	if !signal.ValidConferenceName(conf) {
		http.Error(w, "conference name must be 1-64 of A-Z a-z 0-9 _ -", http.StatusBadRequest)
		return
	}
	identity, ok := p.whipAuthorize(w, r, conf)
	if !ok {
		return
	}
	// The body is read before the plugin counts this request as work in
	// progress, with a deadline, and shutdown cuts it: a slow sender never
	// holds up Close.
	body, err := p.readOffer(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			p.refused(reasonTooLarge, "route", "whip", "remote", r.RemoteAddr, "limit", MaxMessage)
			http.Error(w, "offer too large", http.StatusRequestEntityTooLarge)
		case errors.Is(err, ErrClosed):
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		case errors.Is(err, os.ErrDeadlineExceeded):
			p.refused(reasonTimeout, "route", "whip", "remote", r.RemoteAddr, "limit", p.cfg.whipBodyTimeout.String())
			http.Error(w, "offer not received in time", http.StatusRequestTimeout)
		default:
			http.Error(w, "offer unreadable", http.StatusBadRequest)
		}
		return
	}
	if !p.track() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer p.wg.Done()
	offer, err := sdp.Parse(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	remote, err := offer.RemoteOffer(p.cfg.codecs())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h, err := p.newPeer(conf, identity, sourceOf(r), nil, true)
	if err != nil {
		if errors.Is(err, ErrFull) || errors.Is(err, ErrClosed) {
			p.refusedJoin("whip", r, conf, err)
			w.Header().Set("Retry-After", "10")
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		p.log.Warn("WHIP peer not created", "conference", conf, "err", err)
		http.Error(w, "cannot create the peer", http.StatusInternalServerError)
		return
	}
	answer, err := sdp.BuildAnswer(offer, sdp.AnswerParams{
		ICEUfrag:    h.member.Ufrag,
		ICEPwd:      h.member.Pwd,
		Fingerprint: h.fingerprint(),
		Candidates:  p.candidates(),
		SessionID:   sessionID(),
		RejectAudio: !p.cfg.audio,
		VideoCodecs: p.cfg.codecs(),
	})
	if err == nil {
		err = h.setRemote(r.Context(), offer, remote)
	}
	if err != nil {
		h.end(ErrBadOffer)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	secret := newSessionSecret()
	h.whipSecret.Store(&secret)
	h.log.Info("peer joined over WHIP")
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", sessionLocation(r, secret))
	w.Header().Set("ETag", etag(h.member.Ufrag))
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

func (p *Plugin) whipDelete(w http.ResponseWriter, r *http.Request) {
	conf := chi.URLParam(r, "conference")
	if _, ok := p.whipAuth(w, r, conf); !ok {
		return
	}
	// Only the secret of a session created over WHIP ends it: neither the
	// public peer id nor a WebSocket peer is a handle.
	secret := chi.URLParam(r, "secret")
	h, ok := p.whipSession(conf, secret)
	if !ok && p.cl != nil {
		p.whipDeleteRemote(w, conf, secret) // cluster.go: the session may be another node's
		return
	}
	if !ok {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	h.leave()
	w.WriteHeader(http.StatusOK)
}

// remoteMedia collects what the peer needs from the client's video section
// beyond sdp.Remote: its SSRCs and whether it takes NACKs.
// setRemoteTimeout bounds the wait for a peer's loop to take the remote
// description, for the WebSocket answer and the WHIP offer alike.
const setRemoteTimeout = 5 * time.Second

// setRemote hands the remote description of sess to the peer's loop.
func (h *peerHandle) setRemote(ctx context.Context, sess *sdp.Session, remote sdp.Remote) error {
	ctx, cancel := context.WithTimeout(ctx, setRemoteTimeout)
	defer cancel()
	rm := remoteMedia(sess, remote)
	return h.loop.Do(ctx, func(now time.Time, pp *peer.Peer) error { return pp.SetRemote(now, remote, rm) })
}

func remoteMedia(sess *sdp.Session, remote sdp.Remote) peer.RemoteMedia {
	var rm peer.RemoteMedia
	for i := range sess.Media {
		m := &sess.Media[i]
		if m.Kind != sdp.KindVideo || m.Mid != remote.VideoMid {
			continue
		}
		rm.VideoSSRCs = append(rm.VideoSSRCs, m.SSRCs...)
		for _, fb := range m.Feedback(remote.VideoPT) {
			if fb == "nack" {
				rm.NACK = true
			}
		}
	}
	return rm
}
