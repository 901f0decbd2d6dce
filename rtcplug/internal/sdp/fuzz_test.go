package sdp

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that no input panics Parse, Remote or BuildAnswer, that
// the bounds hold, and that every answer we write parses again.
func FuzzParse(f *testing.F) {
	f.Add(readTestdata(f, "chromium156-offer.sdp"))
	f.Add(readTestdata(f, "pion-answer.sdp"))
	f.Add(BuildOffer(testOfferParams(true)))
	f.Add(answerSDP)
	f.Add("v=0\nm=video 9 UDP/TLS/RTP/SAVPF 96\na=rtpmap:96 VP8/90000\na=candidate:1 1 udp 1 ::1 1 typ srflx raddr :: rport 0\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			if s != nil {
				t.Fatal("session with error")
			}
			return
		}
		if len(s.Media) > MaxMedia {
			t.Fatalf("%d sections", len(s.Media))
		}
		for i := range s.Media {
			m := &s.Media[i]
			if len(m.Payloads) > MaxFormats || len(m.SSRCs) > MaxSSRCs || len(m.Candidates)+len(m.UnparsedCandidates) > MaxCandidates {
				t.Fatalf("section %d over bounds", i)
			}
			if m.Direction == "" {
				t.Fatalf("section %d has no direction", i)
			}
			for _, c := range m.Candidates {
				if _, err := ParseCandidate(c.String()); err != nil {
					t.Fatalf("candidate %q does not reparse: %v", c.String(), err)
				}
			}
		}
		r, rerr := s.Remote()
		out, err := BuildAnswer(s, testAnswerParams())
		if (rerr == nil) != (err == nil) && !errors.Is(err, ErrSetupConflict) {
			t.Fatalf("Remote %v but BuildAnswer %v", rerr, err)
		}
		if err != nil {
			return
		}
		a, err := Parse(out)
		if err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, out)
		}
		if len(a.Media) != len(s.Media) {
			t.Fatalf("answer has %d sections, offer %d", len(a.Media), len(s.Media))
		}
		ar, err := a.Remote()
		if errors.Is(err, ErrAllInactive) {
			return // an offer that sends nothing gets an answer that is all inactive
		}
		if err != nil || ar.VideoPT != r.VideoPT || ar.VideoMid != r.VideoMid {
			t.Fatalf("answer Remote %+v %v, offer %+v", ar, err, r)
		}
		// The same with H.264 preferred: our answer reads back as the codec
		// and payload type we chose.
		both := []string{CodecH264, CodecVP8}
		hr, herr := s.RemoteOffer(both)
		p := testAnswerParams()
		p.VideoCodecs = both
		out, err = BuildAnswer(s, p)
		if herr != nil || err != nil {
			t.Fatalf("VP8 accepted but not with H.264 preferred: %v %v", herr, err)
		}
		if a, err = Parse(out); err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, out)
		}
		if ar, err = a.RemoteAnswer(both); err != nil || ar.VideoPT != hr.VideoPT || ar.VideoCodec != hr.VideoCodec {
			t.Fatalf("answer Remote %+v %v, offer %+v", ar, err, hr)
		}
	})
}

// Every prefix of the captures, and each with one line dropped, is handled
// without a panic and any answer we build parses.
func TestParseTruncatedAndMutilated(t *testing.T) {
	for _, name := range []string{"chromium156-offer.sdp", "pion-answer.sdp"} {
		in := readTestdata(t, name)
		for n := 0; n <= len(in); n += 3 {
			checkNoPanic(t, in[:n])
		}
		lines := strings.SplitAfter(in, "\n")
		for i := range lines {
			checkNoPanic(t, strings.Join(lines[:i], "")+strings.Join(lines[i+1:], ""))
		}
	}
}

func checkNoPanic(t *testing.T, in string) {
	t.Helper()
	s, err := Parse(in)
	if err != nil {
		return
	}
	_, _ = s.Remote()
	if out, err := BuildAnswer(s, testAnswerParams()); err == nil {
		if _, err := Parse(out); err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, out)
		}
	}
}
