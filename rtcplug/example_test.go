package rtcplug_test

import (
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// quiet keeps the examples' output to what they print.
var quiet = rtcplug.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// Mount adds the signaling and WHIP routes to a chi router and receives media
// on one UDP port until the context ends.
func ExampleMount() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := chi.NewRouter()
	p, err := rtcplug.Mount(r,
		rtcplug.WithContext(ctx),
		rtcplug.WithUDPPort(0), // any free port; 15000 by default
		rtcplug.WithSnapshotDir(os.TempDir()),
		quiet,
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	// http.ListenAndServe(":8080", r) would serve /ws and /whip/{conference}.
	fmt.Println("media on UDP port", p.UDPAddr().Port() != 0)
	// Output: media on UDP port true
}

// OnKeyframe hands every decoded keyframe to the host, here written as a
// JPEG of its own.
func ExampleOnKeyframe() {
	p, err := rtcplug.Mount(chi.NewRouter(), rtcplug.WithUDPPort(0), quiet,
		rtcplug.OnKeyframe(func(k rtcplug.Keyframe) {
			f, err := os.CreateTemp("", k.Peer+"-*.jpg")
			if err != nil {
				return
			}
			defer f.Close()
			_ = jpeg.Encode(f, k.Image, &jpeg.Options{Quality: 80})
		}),
		// Senders that send keyframes only when asked get a PLI every 2 s.
		rtcplug.WithSnapshotInterval(2*time.Second),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	fmt.Println("ready")
	// Output: ready
}

// OnFrame and OnAudio see the encoded media itself, in order, off the
// packet path: for example to forward it, or to count it.
func ExampleOnFrame() {
	p, err := rtcplug.Mount(chi.NewRouter(), rtcplug.WithUDPPort(0), quiet,
		rtcplug.OnFrame(func(f rtcplug.Frame) {
			// f.Data is valid only during the call: copy what you keep.
			if f.Keyframe {
				fmt.Printf("%s/%s: %s keyframe, %d bytes at RTP time %d\n", f.Conference, f.Peer, f.Codec, len(f.Data), f.RTPTime)
			}
		}),
		rtcplug.OnAudio(func(a rtcplug.AudioPacket) {
			_ = a.Data // one Opus packet
		}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	fmt.Println("ready")
	// Output: ready
}

// Peers lists who is connected; Kick ends one of them.
func ExamplePlugin_Peers() {
	p, err := rtcplug.Mount(chi.NewRouter(), rtcplug.WithUDPPort(0), quiet,
		rtcplug.WithAuthorize(func(r *http.Request, conference string) (string, error) {
			user, pass, ok := r.BasicAuth()
			if !ok || pass != "secret" {
				return "", errors.New("who are you?")
			}
			return user, nil // shown as PeerInfo.Identity
		}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	for _, pi := range p.Peers() {
		fmt.Printf("%s %s (%s) %s %s %d kbit/s, %d lost\n",
			pi.Conference, pi.ID, pi.Identity, pi.State, pi.VideoCodec, pi.Bitrate/1000, pi.Lost)
		if pi.Lost > 1000 {
			_ = p.Kick(pi.ID)
		}
	}
	fmt.Println(len(p.Peers()), "peers")
	// Output: 0 peers
}

// Err says why a plugin stopped.
func ExamplePlugin_Err() {
	p, err := rtcplug.Mount(chi.NewRouter(), rtcplug.WithUDPPort(0), quiet)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Err())
	_ = p.Close()
	fmt.Println(errors.Is(p.Err(), rtcplug.ErrClosed))
	// Output:
	// <nil>
	// true
}
