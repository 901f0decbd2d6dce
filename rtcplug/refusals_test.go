package rtcplug_test

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// recordingHandler keeps the log records at Info and above.
type recordingHandler struct {
	mu      sync.Mutex
	records []string
}

func (h *recordingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler                { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.Key + "=" + a.Value.String()
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, line)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) matching(re *regexp.Regexp) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range h.records {
		if re.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// TestRefusalsLogged: an answer with every section inactive is refused
// with bad-answer; that and a WHIP refusal are logged at Info with their
// reason; a flood of refusals is cut to the rate limit.
func TestRefusalsLogged(t *testing.T) {
	h := &recordingHandler{}
	start := time.Now()
	s := newServer(t, rtcplug.WithLogger(slog.New(h)))
	w := dial(t, s.wsURL())
	connect(t, w, "refuse", piondtls.SRTP_AEAD_AES_128_GCM, func(ans string) string {
		return regexp.MustCompile(`a=(sendrecv|sendonly|recvonly)`).ReplaceAllString(ans, "a=inactive")
	})
	w.expectError("bad-answer")
	if got := h.matching(regexp.MustCompile(`^INFO signaling request refused reason=.*every media section inactive.* code=bad-answer`)); len(got) != 1 {
		t.Fatalf("bad-answer not logged at Info: %q", h.matching(regexp.MustCompile(`.`)))
	}

	resp, err := http.Post(s.http.URL+"/whip/room", "text/plain", strings.NewReader("v=0"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := h.matching(regexp.MustCompile(`^INFO WHIP request refused reason=Content-Type must be application/sdp status=415`)); len(got) != 1 {
		t.Fatalf("WHIP refusal not logged at Info: %q", h.matching(regexp.MustCompile(`.`)))
	}

	for range 40 {
		w.sendRaw(`{not json`)
		w.expectError("bad-request")
	}
	all := h.matching(regexp.MustCompile(` refused `))
	// One line per route a second (the two above, and the flood's first).
	if limit := 3 + int(time.Since(start)/time.Second); len(all) > limit {
		t.Fatalf("%d refusal lines, want at most %d", len(all), limit)
	}
}
