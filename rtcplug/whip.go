package rtcplug

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nutsbolts/webrtc/rtcplug/internal/conference"
	"github.com/nutsbolts/webrtc/rtcplug/internal/peer"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/signal"
)

// WHIP (RFC 9725) for senders that do not speak our WebSocket protocol (OBS,
// GStreamer, ffmpeg): the sender offers, we answer.
//
//	POST   {whip}/{conference}        Content-Type: application/sdp → 201, Location, answer
//	DELETE {whip}/{conference}/{peer} → 200, the peer ends
//
// The Location (with the random peer id) is the only handle on the peer.

func (p *Plugin) whipRouter() *chi.Mux {
	sub := chi.NewRouter()
	sub.Post("/{conference}", p.whipPost)
	sub.Options("/{conference}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Accept-Post", "application/sdp")
		w.WriteHeader(http.StatusNoContent)
	})
	sub.Delete("/{conference}/{peer}", p.whipDelete)
	// RFC 9725 §4.3: a server without trickle ICE answers PATCH with 405.
	sub.Patch("/{conference}/{peer}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "DELETE")
		http.Error(w, "trickle ICE is not needed: the server is ICE-lite", http.StatusMethodNotAllowed)
	})
	return sub
}

func (p *Plugin) whipPost(w http.ResponseWriter, r *http.Request) {
	if !p.track() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer p.wg.Done()
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		http.Error(w, "Content-Type must be application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	conf := chi.URLParam(r, "conference")
	if !signal.ValidConferenceName(conf) {
		http.Error(w, "conference name must be 1-64 of A-Z a-z 0-9 _ -", http.StatusBadRequest)
		return
	}
	identity, err := p.authorize(r, conf)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxMessage))
	if err != nil {
		http.Error(w, "offer too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	offer, err := sdp.Parse(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	remote, err := offer.Remote()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h, err := p.newPeer(conf, identity, nil, true)
	if err != nil {
		if errors.Is(err, conference.ErrTooManyConferences) || errors.Is(err, conference.ErrConferenceFull) ||
			errors.Is(err, conference.ErrTooManyPeers) || errors.Is(err, conference.ErrTooManyPending) || errors.Is(err, ErrClosed) || errors.Is(err, conference.ErrClosed) {
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
	})
	if err == nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		rm := remoteMedia(offer, remote)
		err = h.loop.Do(ctx, func(now time.Time, pp *peer.Peer) error { return pp.SetRemote(now, remote, rm) })
		cancel()
	}
	if err != nil {
		h.loop.Close()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.log.Info("peer joined over WHIP")
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+h.member.ID)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

func (p *Plugin) whipDelete(w http.ResponseWriter, r *http.Request) {
	conf := chi.URLParam(r, "conference")
	if _, err := p.authorize(r, conf); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	// Only sessions created over WHIP: the id of a WebSocket peer names its
	// snapshot directory and is no handle on it.
	m, ok := p.reg.ByID(conf, chi.URLParam(r, "peer"))
	if !ok && p.cl != nil {
		p.whipDeleteRemote(w, conf, chi.URLParam(r, "peer")) // cluster.go
		return
	}
	if !ok || !m.Value.whip {
		http.Error(w, "no such peer", http.StatusNotFound)
		return
	}
	m.Value.leave()
	w.WriteHeader(http.StatusOK)
}

// remoteMedia collects what the peer needs from the client's video section
// beyond sdp.Remote: its SSRCs and whether it takes NACKs.
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
