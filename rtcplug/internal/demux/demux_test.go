package demux

import "testing"

func TestClassify(t *testing.T) {
	for b, want := range map[byte]Kind{0: KindSTUN, 3: KindSTUN, 4: KindUnknown, 19: KindUnknown, 20: KindDTLS, 63: KindDTLS, 64: KindUnknown,
		127: KindUnknown, 128: KindRTP, 191: KindRTP, 192: KindUnknown, 255: KindUnknown} {
		if got := Classify([]byte{b}); got != want {
			t.Errorf("Classify(%d) = %v, want %v", b, got, want)
		}
	}
	if Classify(nil) != KindUnknown {
		t.Error("empty")
	}
}
