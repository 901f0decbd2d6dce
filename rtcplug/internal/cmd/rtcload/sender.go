package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	pionice "github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// sender is one WHIP client streaming the IVF frames in a loop at fps, with
// no NACK responder and no RTCP interceptors: what is lost stays lost.
type sender struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	ours  *oursSender // instead of pc and track: our own stack (sender_ours.go)

	post, connected, firstRTP time.Time
	sent                      atomic.Uint64
	up                        atomic.Bool
}

func newSenderAPI() (*webrtc.API, error) {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(pionice.MulticastDNSModeDisabled)
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me)), nil
}

// connect offers, posts the offer to url (WHIP, RFC 9725) and applies the
// answer; it returns once ICE and DTLS are up or ctx ends.
func connect(ctx context.Context, api *webrtc.API, url string) (*sender, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	s := &sender{pc: pc}
	up := make(chan struct{})
	var once atomic.Bool
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected && once.CompareAndSwap(false, true) {
			close(up)
		}
	})
	s.track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "rtcload")
	if err != nil {
		pc.Close()
		return nil, err
	}
	tr, err := pc.AddTransceiverFromTrack(s.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		pc.Close()
		return nil, err
	}
	go func() { // drain RTCP (PLIs) so the sender's buffers never fill
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Sender().Read(buf); err != nil {
				return
			}
		}
	}()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		pc.Close()
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		pc.Close()
		return nil, err
	}
	<-gathered
	s.post = time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		pc.Close()
		return nil, err
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		pc.Close()
		return nil, fmt.Errorf("WHIP POST: %s: %s", resp.Status, strings.TrimSpace(string(answer)))
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		pc.Close()
		return nil, err
	}
	select {
	case <-up:
		s.connected = time.Now()
		s.up.Store(true)
		return s, nil
	case <-ctx.Done():
		pc.Close()
		return nil, ctx.Err()
	}
}

// stream sends the frames in a loop at fps until ctx ends, packetized for a
// 1200-byte MTU (RFC 7741 with a 15-bit picture ID, as browsers send).
func (s *sender) stream(ctx context.Context, frames [][]byte, fps int) {
	if s.ours != nil {
		s.ours.stream(ctx)
		return
	}
	p := rtp.NewPacketizer(1200, 96, rand.Uint32(), &codecs.VP8Payloader{EnablePictureID: true},
		rtp.NewRandomSequencer(), 90000)
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	for i := 0; ; i++ {
		for _, pkt := range p.Packetize(frames[i%len(frames)], uint32(90000/fps)) {
			if err := s.track.WriteRTP(pkt); err != nil {
				return
			}
			if s.firstRTP.IsZero() {
				s.firstRTP = time.Now()
			}
			s.sent.Add(1)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// close hangs up.
func (s *sender) close() {
	if s.ours != nil {
		s.ours.close()
		return
	}
	_ = s.pc.Close()
}
