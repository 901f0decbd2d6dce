package peer

import (
	"testing"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
)

// keyframesOnPLI plays a sender that sends a keyframe only when asked (as
// many hardware and screen-capture encoders do) for d of virtual time, one
// frame every 33 ms, and returns the keyframes the peer assembled.
func keyframesOnPLI(t *testing.T, interval, d time.Duration) (keyframes []time.Time, plis int, p *Peer) {
	l, s := connectedLink(t, linkOpts{profile: srtp.AEADAES128GCM, media: RemoteMedia{NACK: true}, config: func(c *Config) { c.KeyframeInterval = interval }})
	p = l.p
	frames := ivfFrames(t)
	var r run
	asked := true // the PLI of the connection start
	delta := 1
	for now := t0; now.Before(t0.Add(d)); now = now.Add(33 * time.Millisecond) {
		f := frames[delta]
		if asked {
			f = frames[0]
		} else if delta++; delta == 30 {
			delta = 1
		}
		before, keys := r.plis, len(r.keyframes)
		feed(t, p, s, now, s.packetize(f), &r)
		if len(r.keyframes) > keys {
			keyframes = append(keyframes, now)
		}
		asked = r.plis > before
		if asked && f[0]&1 == 0 {
			asked = false // the PLI went out with the keyframe; already answered
		}
	}
	return keyframes, r.plis, p
}

func TestKeyframeIntervalAsksForImages(t *testing.T) {
	const d = 10 * time.Second
	// One PLI every second after the previous keyframe arrived: about one
	// image per second (the sender answers with the next frame, 33 ms on).
	keys, plis, _ := keyframesOnPLI(t, time.Second, d)
	if n := len(keys); n < 9 || n > 11 {
		t.Fatalf("%d keyframes (%d PLIs) in %s with a 1 s interval, want about 10", n, plis, d)
	}
	// Never more often than asked; never later than the interval plus the
	// frame the sender answers with.
	for i := 1; i < len(keys); i++ {
		if gap := keys[i].Sub(keys[i-1]); gap < time.Second || gap > time.Second+70*time.Millisecond {
			t.Fatalf("keyframe %d came %v after the previous one", i, gap)
		}
	}
	// Without the option: only the keyframe of the start.
	if keys, plis, _ := keyframesOnPLI(t, 0, d); len(keys) != 1 || plis != 1 {
		t.Fatalf("%d keyframes, %d PLIs without an interval", len(keys), plis)
	}
}

// TestRequestKeyframe: a request sends one PLI at once; requests in a row
// are spaced by PLIMinInterval.
func TestRequestKeyframe(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	now := t0
	feed(t, p, s, now, s.packetize(frames[0]), &r)
	now = now.Add(time.Second)
	feed(t, p, s, now, s.packetize(frames[1]), &r)
	before := r.plis
	p.RequestKeyframe(now)
	feed(t, p, s, now, nil, &r)
	if r.plis != before+1 {
		t.Fatalf("%d PLIs for a request", r.plis-before)
	}
	// A second request right after waits for PLIMinInterval.
	now = now.Add(PLIMinInterval / 2)
	p.RequestKeyframe(now)
	feed(t, p, s, now, nil, &r)
	if r.plis != before+1 {
		t.Fatal("a second PLI within PLIMinInterval")
	}
	feed(t, p, s, now.Add(PLIMinInterval/2), nil, &r)
	if r.plis != before+2 {
		t.Fatalf("%d PLIs after PLIMinInterval", r.plis-before)
	}
}

func TestStatsBitrateAndJitter(t *testing.T) {
	p, s := connected(t, srtp.AEADAES128GCM)
	frames := ivfFrames(t)
	var r run
	var bytes uint64
	now := t0
	for i := 0; i < 180; i++ { // 6 s at 30 fps, packets evenly paced
		before := p.stats.VideoBytes
		feed(t, p, s, now, s.packetize(frames[i%len(frames)]), &r)
		if now.Sub(t0) >= time.Second && now.Sub(t0) < 5*time.Second {
			bytes += p.stats.VideoBytes - before
		}
		now = now.Add(time.Second / 30)
	}
	st := p.Stats()
	// The window: the 4 complete seconds before the last packet's (1 s to 5 s).
	want := int(bytes * 8 / 4)
	if st.Bitrate < want*8/10 || st.Bitrate > want*12/10 {
		t.Fatalf("bitrate %d, want about %d", st.Bitrate, want)
	}
	// Every packet of a frame arrives at once while the RTP time advances
	// 3000 per 33.3 ms: the transit time still moves by at most a frame.
	if st.Jitter < 0 || st.Jitter > 40*time.Millisecond {
		t.Fatalf("jitter %v", st.Jitter)
	}
	if st.SRTPProfile != srtp.AEADAES128GCM || st.Remote != client {
		t.Fatalf("stats %+v", st)
	}
	// Silence: the rate falls to zero within the window.
	p.HandleTimeout(now.Add(6 * time.Second))
	if st := p.Stats(); st.Bitrate != 0 {
		t.Fatalf("bitrate %d after 6 s of silence", st.Bitrate)
	}
	if CipherSuiteName(0xc02b) != "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" || CipherSuiteName(0) != "" {
		t.Fatal("cipher suite names")
	}
}
