package conference

import (
	"crypto/rand"
	"errors"
	"testing"
)

func joinFrom(r *Registry[int], src string) (*Member[int], error) {
	return r.JoinFrom("room", src, func(*Member[int]) (int, error) { return 1, nil })
}

// issue: one source refilling pending slots as they freed kept all of them
// and locked every other sender out. A source holds at most its share.
func TestPendingPerSource(t *testing.T) {
	r := New[int](Limits{MaxPending: 8, MaxPeersPerConference: 100}, rand.Reader)
	var a []*Member[int]
	for {
		m, err := joinFrom(r, "198.51.100.1")
		if err != nil {
			if !errors.Is(err, ErrSourcePending) || !errors.Is(err, ErrTooManyPending) {
				t.Fatalf("refusal %v", err)
			}
			break
		}
		a = append(a, m)
	}
	if len(a) != 2 {
		t.Fatalf("one source got %d of 8 pending slots, want 2", len(a))
	}
	// The attacker refills as slots free: it never gets more, and a second
	// source still gets in.
	for i := 0; i < 50; i++ {
		r.Leave(a[0])
		m, err := joinFrom(r, "198.51.100.1")
		if err != nil {
			t.Fatal(err)
		}
		a[0] = m
		if _, err := joinFrom(r, "198.51.100.1"); !errors.Is(err, ErrSourcePending) {
			t.Fatalf("refill %d: %v", i, err)
		}
	}
	b, err := joinFrom(r, "203.0.113.9")
	if err != nil {
		t.Fatalf("second source starved: %v", err)
	}
	// Connecting frees the source's share; the per-source table empties.
	for _, m := range a {
		r.Connected(m)
	}
	if _, err := joinFrom(r, "198.51.100.1"); err != nil {
		t.Fatalf("after connecting: %v", err)
	}
	r.Leave(b)
	r.mu.RLock()
	n, ok := r.pendingBy["203.0.113.9"]
	r.mu.RUnlock()
	if ok {
		t.Fatalf("per-source entry kept: %d", n)
	}
	// Without a source only the global limit applies.
	for i := 0; i < 5; i++ {
		if _, err := joinFrom(r, ""); err != nil {
			t.Fatalf("sourceless join %d: %v", i, err)
		}
	}
	if s := r.Stats(); s.Pending != 6 {
		t.Fatalf("pending %d", s.Pending)
	}
}
