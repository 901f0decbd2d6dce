package conference

import (
	"crypto/rand"
	"testing"
)

// The read loop looks a ufrag up straight from the datagram: no allocation,
// found or not.
func TestByUfragBytesAllocatesNothing(t *testing.T) {
	r := New[int](Limits{}, rand.Reader)
	m, err := r.Join("c", func(*Member[int]) (int, error) { return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	known, unknown := []byte(m.Ufrag), []byte("0123456789abcdef")
	if got, ok := r.ByUfragBytes(known); !ok || got != m {
		t.Fatal("not found")
	}
	if allocs := testing.AllocsPerRun(100, func() {
		r.ByUfragBytes(known)
		r.ByUfragBytes(unknown)
	}); allocs != 0 {
		t.Fatalf("%v allocs", allocs)
	}
}
