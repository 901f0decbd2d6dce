package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"
)

// Two demo nodes, one with the embedded NATS server, share a
// per-conference limit of one.
func TestTwoDemoNodes(t *testing.T) {
	noenv := func(string) string { return "" }
	cfgA, err := parseConfig([]string{"-http", "127.0.0.1:0", "-udp-port", "0", "-output", t.TempDir(),
		"-nats-embedded", "127.0.0.1:0", "-node", "demo-a", "-max-per-conference", "1"}, noenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	a, err := newApp(ctx, cfgA, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	defer a.nats.wait()
	cfgB, err := parseConfig([]string{"-http", "127.0.0.1:0", "-udp-port", "0", "-output", t.TempDir(),
		"-nats", a.nats.embedded.ClientURL(), "-node", "demo-b", "-max-per-conference", "1"}, noenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newApp(ctx, cfgB, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	defer b.nats.wait()
	srvA, srvB := httptest.NewServer(a.router), httptest.NewServer(b.router)
	defer srvA.Close()
	defer srvB.Close()
	defer srvA.CloseClientConnections()
	defer srvB.CloseClientConnections()

	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		url  string
		code int
	}{{srvA.URL, http.StatusCreated}, {srvB.URL, http.StatusServiceUnavailable}} {
		resp, err := http.Post(c.url+"/whip/room", "application/sdp", strings.NewReader(offer.SDP))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Fatalf("POST %s: %d %s", c.url, resp.StatusCode, body)
		}
	}
	stop()
	<-a.plugin.Done()
	<-b.plugin.Done()
}

func TestClusterFlags(t *testing.T) {
	noenv := func(string) string { return "" }
	for _, args := range [][]string{
		{"-node", "x"},
		{"-max-per-conference", "2"},
		{"-nats", "nats://127.0.0.1:1", "-max-per-conference", "-1"},
		{"-nats-embedded", "nohost"},
	} {
		if _, err := parseConfig(args, noenv, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	cfg, err := parseConfig([]string{"-nats", "nats://127.0.0.1:1"}, func(k string) string {
		if k == "RTCPLUG_NODE" {
			return "from-env"
		}
		return ""
	}, io.Discard)
	if err != nil || cfg.Cluster.Node != "from-env" {
		t.Fatalf("%v %+v", err, cfg.Cluster)
	}
	if got := nodeName("host.example.org"); got != "host-example-org" {
		t.Fatalf("nodeName: %q", got)
	}
}
