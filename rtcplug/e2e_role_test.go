package rtcplug_test

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
	"github.com/pion/webrtc/v4"
)

var setupRE = regexp.MustCompile(`a=setup:(\w+)`)

// TestPionDTLSRoles: pion joins through /ws and streams until keyframes are
// JPEGs, with each answering DTLS role. Its default answers our ICE-lite
// actpass offer with passive (RFC 5763 §5 lets the answerer pick), which
// makes the server the DTLS client; the two forced roles are the only
// places a test changes pion's role, to prove each end of DTLS with a stack
// we did not write.
func TestPionDTLSRoles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		role  webrtc.DTLSRole
		setup string // what pion's answer says
	}{
		{"default", 0, "passive"},
		{"forced-active", webrtc.DTLSRoleClient, "active"},
		{"forced-passive", webrtc.DTLSRoleServer, "passive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			w := dial(t, s.wsURL())
			var setups []string
			p := connectWith(t, w, "roles", pionConfig{profile: piondtls.SRTP_AEAD_AES_128_GCM, role: tc.role}, nil,
				func(ans string) string {
					for _, m := range setupRE.FindAllStringSubmatch(ans, -1) {
						setups = append(setups, m[1])
					}
					return ans
				})
			if len(setups) == 0 {
				t.Fatal("pion's answer has no a=setup")
			}
			for _, got := range setups {
				if got != tc.setup {
					t.Fatalf("pion answered a=setup:%s, want %s", got, tc.setup)
				}
			}
			waitConnected(t, p)
			w.waitState("connected", 10*time.Second)
			streamUntil(t, p, func() bool { return len(s.keyframesOf("roles", "")) >= 2 && len(s.files()) >= 2 })
			waitFor(t, "2 keyframes as JPEGs", 10*time.Second, func() bool {
				return len(s.keyframesOf("roles", "")) >= 2 && len(s.files()) >= 2
			})
			for _, f := range s.files() {
				checkJPEG(t, filepath.Join(s.dir, f))
			}
		})
	}
}

// TestWHIPPassiveOffer: a WHIP offer with a=setup:passive is answered
// active, and the server is the DTLS client. pion offers actpass and has no
// setting for this, so the offer text is changed; pion then takes the
// server role from our active answer.
func TestWHIPPassiveOffer(t *testing.T) {
	s := newServer(t)
	p := newPion(t, piondtls.SRTP_AEAD_AES_128_GCM)
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	body := strings.ReplaceAll(p.pc.LocalDescription().SDP, "a=setup:actpass", "a=setup:passive")
	resp, err := http.Post(s.http.URL+"/whip/passive", "application/sdp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, answer)
	}
	if !strings.Contains(string(answer), "a=setup:active") || strings.Contains(string(answer), "a=setup:passive") {
		t.Fatalf("answer to a passive offer:\n%s", answer)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, p)
	streamUntil(t, p, func() bool { return len(s.keyframesOf("passive", "")) >= 2 })
	waitFor(t, "2 keyframes", 10*time.Second, func() bool { return len(s.keyframesOf("passive", "")) >= 2 })
}

// streamUntil streams the samples in 2.5 s runs until done holds, at most
// four runs: on a loaded machine pion's real-time sender falls behind, and
// the file's second keyframe can come later than 2.5 s.
func streamUntil(t *testing.T, p *pionPeer, done func() bool) {
	for range 4 {
		p.stream(t, 2500*time.Millisecond)
		if done() {
			return
		}
	}
}
