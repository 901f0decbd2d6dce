package conference

import (
	"crypto/rand"
	"errors"
	"testing"
)

func join(t *testing.T, r *Registry[int], conf string) *Member[int] {
	t.Helper()
	m, err := r.Join(conf, func(m *Member[int]) (int, error) { return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRegistry(t *testing.T) {
	r := New[int](Limits{MaxConferences: 2, MaxPeersPerConference: 2, MaxPeers: 3, MaxPending: 3}, rand.Reader)
	a := join(t, r, "one")
	b := join(t, r, "one")
	if a.ID == b.ID || a.Ufrag == b.Ufrag || len(a.Pwd) < 22 || len(a.Ufrag) < 4 {
		t.Fatalf("credentials %+v %+v", a, b)
	}
	if _, err := r.Join("one", func(*Member[int]) (int, error) { return 0, nil }); !errors.Is(err, ErrConferenceFull) {
		t.Fatalf("full conference: %v", err)
	}
	c := join(t, r, "two")
	if _, err := r.Join("three", func(*Member[int]) (int, error) { return 0, nil }); !errors.Is(err, ErrTooManyConferences) {
		t.Fatalf("too many conferences: %v", err)
	}
	if _, err := r.Join("two", func(*Member[int]) (int, error) { return 0, nil }); !errors.Is(err, ErrTooManyPeers) {
		t.Fatalf("too many peers: %v", err)
	}
	r.Connected(a)
	r.Connected(a)
	if s := r.Stats(); s.Pending != 2 || s.Peers != 3 || s.Conferences != 2 {
		t.Fatalf("stats %+v", s)
	}
	if !r.Leave(c) || r.Leave(c) {
		t.Fatal("Leave twice")
	}
	if s := r.Stats(); s.Conferences != 1 {
		t.Fatalf("empty conference kept: %+v", s)
	}
	r.Leave(b)
	// mk failing rolls back.
	if _, err := r.Join("x", func(*Member[int]) (int, error) { return 0, errors.New("no") }); err == nil {
		t.Fatal("mk error lost")
	}
	if s := r.Stats(); s.Peers != 1 || s.Pending != 0 || s.Conferences != 1 {
		t.Fatalf("rollback %+v", s)
	}
	if len(r.Close()) != 1 {
		t.Fatal("Close")
	}
	if _, err := r.Join("x", func(*Member[int]) (int, error) { return 0, nil }); !errors.Is(err, ErrClosed) {
		t.Fatal("join after close")
	}
}
