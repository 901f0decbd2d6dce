package dtls

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// fuzzSep separates datagrams in a fuzz input, as in FuzzHandleDatagram.
var fuzzSep = []byte{0xff, 0xff, 0xff}

// FuzzClientFlight4 feeds the input to a fresh client, right after its
// ClientHello, as datagrams split at 0xff 0xff 0xff. The client's randomness
// is fixed, so the seeds (a real HelloVerifyRequest and flight 4 from our
// server, whole, fragmented, reordered, repeated) carry a valid cookie
// and ServerKeyExchange signature, and the input reaches the whole flight-4
// handling and flight 5. Nothing may panic, no datagram may exceed the
// MTU, and the queues stay bounded.
func FuzzClientFlight4(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	cc, sc := ourConfigs(f)
	newClient := func(t testing.TB, mtu int) *Client {
		cfg := cc
		cfg.MTU = mtu
		cfg.Rand = rand.NewChaCha8([32]byte{'f', 'l', 'i', 'g', 'h', 't', '4'})
		c, err := NewClient(cfg, now)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, mtu := range []int{0, minMTU} {
		c := newClient(f, mtu)
		cfg := sc
		cfg.MTU = mtu
		s, err := NewServer(cfg, netip.MustParseAddrPort("192.0.2.7:4000"))
		if err != nil {
			f.Fatal(err)
		}
		feedAll(now, s, collect(c))
		hvr := collect(s)
		feedAll(now, c, hvr)
		feedAll(now, s, collect(c))
		f4 := splitRecords(collect(s))
		join := func(ds ...[][]byte) []byte {
			var b []byte
			for _, l := range ds {
				for _, d := range l {
					if len(b) > 0 {
						b = append(b, fuzzSep...)
					}
					b = append(b, d...)
				}
			}
			return append([]byte{byte(mtu & 1)}, b...)
		}
		// The seeds are only worth their name if a fresh client, with
		// the same randomness, gets through flight 4 with them.
		probe := newClient(f, mtu)
		collect(probe)
		feedAll(now, probe, hvr)
		feedAll(now, probe, f4)
		if probe.state != awaitFlight6 {
			f.Fatalf("seed flight 4 does not take a fresh client to flight 5 (state %d)", probe.state)
		}
		rev := slices.Clone(f4)
		slices.Reverse(rev)
		f.Add(join(hvr, f4))
		f.Add(join(hvr, rev))
		f.Add(join(hvr, f4, f4))
		f.Add(join(f4))
		f.Add(join(hvr, hvr))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		mtu := DefaultMTU
		if b[0]&1 == 1 {
			mtu = minMTU
		}
		c := newClient(t, mtu)
		collect(c)
		for rest := b[1:]; len(rest) > 0; {
			d := rest
			rest = nil
			if i := bytes.Index(d, fuzzSep); i >= 0 {
				d, rest = d[:i], d[i+len(fuzzSep):]
			}
			_ = c.handleDatagram(now, d)
			if dl := c.Deadline(); !dl.IsZero() {
				c.HandleTimeout(dl)
			}
			for out := c.pollTransmit(); out != nil; out = c.pollTransmit() {
				if len(out) > mtu {
					t.Fatalf("datagram of %d bytes", len(out))
				}
			}
			for _, ok := c.pollEvent(); ok; _, ok = c.pollEvent() {
			}
			if c.reasm.buffered > maxBufferedBytes || len(c.transcript) > maxTranscript {
				t.Fatal("buffers over bounds")
			}
		}
	})
}
