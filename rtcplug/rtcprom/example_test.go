package rtcprom_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nutsbolts/webrtc/rtcplug"
	"github.com/nutsbolts/webrtc/rtcplug/rtcprom"
)

// Register the collector and serve /metrics next to rtcplug's routes.
func ExampleNew() {
	r := chi.NewRouter()
	p, err := rtcplug.Mount(r, rtcplug.WithUDPPort(0),
		rtcplug.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(rtcprom.New(p))
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "rtcplug_peers ") || strings.HasPrefix(line, "rtcplug_packets_received_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// rtcplug_packets_received_total{kind="audio"} 0
	// rtcplug_packets_received_total{kind="video"} 0
	// rtcplug_peers 0
}
