package signal

import (
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		in   string
		typ  string
		code string
	}{
		{`{"type":"JoinConference","data":{"conferenceName":"defaultConference"}}`, TypeJoinConference, ""},
		{`{"type":"JoinConference","data":{"conferenceName":"a/b"}}`, TypeJoinConference, CodeBadConference},
		{`{"type":"JoinConference","data":{"conferenceName":""}}`, TypeJoinConference, CodeBadConference},
		{`{"type":"JoinConference","data":{"conferenceName":"` + strings.Repeat("x", 65) + `"}}`, TypeJoinConference, CodeBadConference},
		{`{"type":"JoinConference"}`, TypeJoinConference, CodeBadRequest},
		{`{"type":"SdpAnswer","data":{"sdp":"v=0\r\n"}}`, TypeSdpAnswer, ""},
		{`{"type":"SdpAnswer","data":{"sdp":""}}`, TypeSdpAnswer, CodeBadAnswer},
		{`{"type":"SdpAnswer","data":[1]}`, TypeSdpAnswer, CodeBadRequest},
		{`{"type":"IceCandidate","data":{"candidate":"x"}}`, TypeIceCandidate, ""},
		{`{"type":"LeaveConference"}`, TypeLeaveConference, ""},
		{`{"type":"Nope"}`, "Nope", CodeUnknownType},
		{`{"data":{}}`, "", CodeBadRequest},
		{`{not json`, "", CodeBadRequest},
		{`[]`, "", CodeBadRequest},
	}
	for _, c := range cases {
		req, err := Decode([]byte(c.in))
		if req.Type != c.typ {
			t.Errorf("%s: type %q, want %q", c.in, req.Type, c.typ)
		}
		got := ""
		if err != nil {
			got = err.Code
		}
		if got != c.code {
			t.Errorf("%s: code %q, want %q (%v)", c.in, got, c.code, err)
		}
	}
}

func TestEncode(t *testing.T) {
	b, err := Encode(TypeWelcome, Welcome{ID: 7, Message: "Welcome!"})
	if err != nil || string(b) != `{"type":"Welcome","data":{"id":7,"message":"Welcome!"}}` {
		t.Fatalf("%s %v", b, err)
	}
	b, _ = Encode(TypeLeaveConference, nil)
	if string(b) != `{"type":"LeaveConference"}` {
		t.Fatalf("%s", b)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"JoinConference","data":{"conferenceName":"defaultConference"}}`))
	f.Add([]byte(`{"type":"SdpAnswer","data":{"sdp":"v=0"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := Decode(b)
		if err == nil && req.Type == TypeJoinConference && !ValidConferenceName(req.Join.ConferenceName) {
			t.Fatal("accepted a bad name")
		}
	})
}
