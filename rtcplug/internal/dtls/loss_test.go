package dtls

import (
	"bytes"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// lossRun is what one handshake over the lossy pipe cost: flights our
// endpoint sent again (timer and on repeat), datagrams both ways, and fake
// time to complete.
type lossRun struct {
	resends, datagrams int
	elapsed            time.Duration
}

// lossSeeds runs one handshake per seed (50, 10 with -short) inside
// synctest, so both sides' timers run on the fake clock, and logs the
// spread of the costs.
func lossSeeds(t *testing.T, who string, run func(t *testing.T, seed int) lossRun) {
	seeds := 50
	if testing.Short() {
		seeds = 10
	}
	var resends, dgrams []int
	var elapsed []time.Duration
	for seed := range seeds {
		synctest.Test(t, func(t *testing.T) {
			r := run(t, seed)
			resends = append(resends, r.resends)
			dgrams = append(dgrams, r.datagrams)
			elapsed = append(elapsed, r.elapsed)
		})
	}
	slices.Sort(resends)
	slices.Sort(dgrams)
	slices.Sort(elapsed)
	mid := seeds / 2
	t.Logf("%s flight resends (timer + on repeat) over %d seeds: min %d median %d max %d", who, seeds, resends[0], resends[mid], resends[seeds-1])
	t.Logf("datagrams sent (both ways): min %d median %d max %d", dgrams[0], dgrams[mid], dgrams[seeds-1])
	t.Logf("fake time to complete: min %v median %v max %v", elapsed[0], elapsed[mid], elapsed[seeds-1])
}

// TestLossAndReordering runs the handshake against pion over a pipe that
// drops 20% of datagrams in each direction and delays (reorders) 15% of the
// rest, for many seeds. Every handshake must complete with equal keys.
//
// The drop/delay decisions come from a seeded generator per direction; the
// datagrams themselves (pion's randoms and keys) differ between runs, and
// goroutine interleaving may shift which datagram gets which decision, so a
// seed fixes the loss pattern, not the exact transcript.
func TestLossAndReordering(t *testing.T) {
	serverCert, _ := testIdentity(t)
	clientCert, clientTLS := testIdentity(t)
	lossSeeds(t, "server", func(t *testing.T, seed int) lossRun {
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
		return lossRun{resends: r.serverResends, datagrams: r.c2sTotal + r.s2cTotal, elapsed: el}
	})
}
