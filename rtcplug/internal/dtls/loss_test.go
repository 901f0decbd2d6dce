package dtls

import (
	"bytes"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestLossAndReordering runs the handshake against pion over a pipe that
// drops 20% of datagrams in each direction and delays (reorders) 15% of the
// rest, for many seeds. Both sides' timers run on synctest's fake clock.
// Every handshake must complete with equal keys.
//
// The drop/delay decisions come from a seeded generator per direction; the
// datagrams themselves (pion's randoms and keys) differ between runs, and
// goroutine interleaving may shift which datagram gets which decision, so a
// seed fixes the loss pattern, not the exact transcript.
func TestLossAndReordering(t *testing.T) {
	seeds := 50
	if testing.Short() {
		seeds = 10
	}
	serverCert, _ := testIdentity(t)
	clientCert, clientTLS := testIdentity(t)
	var retx, dgrams []int
	var elapsed []time.Duration
	for seed := range seeds {
		synctest.Test(t, func(t *testing.T) {
			cc := baseClientConfig(clientTLS, serverCert.Fingerprint())
			start := time.Now()
			r := runPipe(t, pipeOptions{
				clientCfg: cc,
				serverCfg: Config{Certificate: serverCert,
					ExpectedFingerprints: []Fingerprint{mustFingerprint(t, clientCert)}},
				c2s:     newLossy(uint64(seed), 1, 0.2, 0.15),
				s2c:     newLossy(uint64(seed), 2, 0.2, 0.15),
				ekmLen:  56,
				timeout: 5 * time.Minute,
			})
			if r.clientErr != nil {
				t.Fatalf("seed %d: client: %v; server err %v events %v", seed, r.clientErr, r.serverErr, r.events)
			}
			if _, ok := r.event(HandshakeComplete); !ok {
				t.Fatalf("seed %d: server did not complete: %v", seed, r.events)
			}
			if !bytes.Equal(r.clientEKM, r.serverEKM) {
				t.Fatalf("seed %d: keying material differs", seed)
			}
			el := r.handshakeDone.Sub(start)
			t.Logf("seed %2d: server resends %d (timer %d), datagrams c>s %d (dropped %d) s>c %d (dropped %d), handshake %v",
				seed, r.serverResends, r.serverRetx, r.c2sTotal, r.c2sDropped, r.s2cTotal, r.s2cDropped, el)
			retx = append(retx, r.serverResends)
			dgrams = append(dgrams, r.c2sTotal+r.s2cTotal)
			elapsed = append(elapsed, el)
		})
	}
	slices.Sort(retx)
	slices.Sort(dgrams)
	slices.Sort(elapsed)
	t.Logf("server flight resends (timer + on repeat) over %d seeds: min %d median %d max %d", seeds, retx[0], retx[len(retx)/2], retx[len(retx)-1])
	t.Logf("datagrams sent (both ways): min %d median %d max %d", dgrams[0], dgrams[len(dgrams)/2], dgrams[len(dgrams)-1])
	t.Logf("fake time to complete: min %v median %v max %v", elapsed[0], elapsed[len(elapsed)/2], elapsed[len(elapsed)-1])
}
