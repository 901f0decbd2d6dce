package rtcplug

import (
	"testing"
	"time"
)

// Limit refusals are logged at most once a second per reason; the next line
// says how many were left out.
func TestRefusalLogRate(t *testing.T) {
	var l refusalLog
	t0 := time.Unix(1000, 0)
	if n, ok := l.allow(reasonFull, t0); !ok || n != 0 {
		t.Fatal("first refusal not logged")
	}
	for i := 1; i <= 100; i++ {
		if _, ok := l.allow(reasonFull, t0.Add(time.Duration(i)*time.Millisecond)); ok {
			t.Fatalf("refusal %d logged within the interval", i)
		}
	}
	if _, ok := l.allow(reasonSockets, t0); !ok {
		t.Fatal("another reason is rate-limited on its own")
	}
	if n, ok := l.allow(reasonFull, t0.Add(refusalLogInterval)); !ok || n != 100 {
		t.Fatalf("after the interval: %v, %d suppressed", ok, n)
	}
	for i := 0; i < 3*maxRefusalReasons; i++ {
		l.allow(string(rune('a'+i)), t0)
	}
	if len(l.reasons) > maxRefusalReasons {
		t.Fatalf("%d reasons kept", len(l.reasons))
	}
}
