package sdp

import (
	"errors"
	"strings"
	"testing"
)

// TestAnswerSetupFollowsOffer: the WHIP answer takes the DTLS role the
// offer leaves (RFC 5763 §5): passive to actpass, active or none; active to
// passive; holdconn is refused.
func TestAnswerSetupFollowsOffer(t *testing.T) {
	for _, tc := range []struct{ offer, want string }{
		{"a=setup:actpass\r\n", SetupPassive},
		{"a=setup:active\r\n", SetupPassive},
		{"", SetupPassive},
		{"a=setup:passive\r\n", SetupActive},
		{"a=setup:PASSIVE\r\n", SetupActive},
	} {
		o, err := Parse(strings.ReplaceAll(answerSDP, "a=setup:active\r\n", tc.offer))
		if err != nil {
			t.Fatal(err)
		}
		out, err := BuildAnswer(o, testAnswerParams())
		if err != nil {
			t.Fatalf("%q: %v", tc.offer, err)
		}
		a, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range a.Media {
			if m.Port != 0 && m.Setup != tc.want {
				t.Errorf("offer %q: answer setup %q, want %q", tc.offer, m.Setup, tc.want)
			}
		}
	}
	o, err := Parse(strings.ReplaceAll(answerSDP, "a=setup:active", "a=setup:holdconn"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BuildAnswer(o, testAnswerParams()); !errors.Is(err, ErrSetupConflict) {
		t.Errorf("holdconn: %v", err)
	}
}

// TestRemoteAllInactive: an answer that sets every section inactive is
// refused (nothing could ever flow); one live direction is enough.
func TestRemoteAllInactive(t *testing.T) {
	s, err := Parse(strings.ReplaceAll(answerSDP, "a=sendonly", "a=inactive"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remote(); !errors.Is(err, ErrAllInactive) || err.Error() != "sdp: answer has every media section inactive: nothing can flow" {
		t.Fatalf("all inactive: %v", err)
	}
	s, err = Parse(strings.Replace(answerSDP, "a=sendonly", "a=inactive", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remote(); err != nil {
		t.Fatalf("one section inactive: %v", err)
	}
}
