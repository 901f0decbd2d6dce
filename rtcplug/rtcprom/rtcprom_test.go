package rtcprom_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/nutsbolts/webrtc/rtcplug"
	"github.com/nutsbolts/webrtc/rtcplug/rtcprom"
)

// fake is a Source with a distinct number in every Stats field.
type fake struct {
	stats rtcplug.Stats
	peers []rtcplug.PeerInfo
}

func (f *fake) Stats() rtcplug.Stats      { return f.stats }
func (f *fake) Peers() []rtcplug.PeerInfo { return f.peers }

func newFake() *fake {
	f := &fake{}
	v := reflect.ValueOf(&f.stats).Elem()
	for i := range v.NumField() {
		switch fv := v.Field(i); fv.Kind() {
		case reflect.Uint64:
			fv.SetUint(uint64(1000 + i))
		case reflect.Int:
			fv.SetInt(int64(i + 1))
		}
	}
	f.stats.ConnectTime = rtcplug.Histogram{Bounds: []time.Duration{time.Second, 2 * time.Second},
		Counts: []uint64{3, 5}, Count: 6, Sum: 7 * time.Second}
	f.peers = []rtcplug.PeerInfo{
		{ID: "a", Conference: "room", Bitrate: 8000, Jitter: 3 * time.Millisecond, Lost: 2, Remote: netip.MustParseAddrPort("127.0.0.1:1")},
		{ID: "b", Conference: "room", Bitrate: 16000, Jitter: 5 * time.Millisecond, Lost: 1},
		{ID: "c", Conference: "hall", Bitrate: 800},
	}
	return f
}

func gather(t *testing.T, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// Every Stats counter appears exactly once, as a counter with the same
// value; the gauges and histograms match too.
func TestSameNumbersAsStats(t *testing.T) {
	f := newFake()
	mfs := gather(t, rtcprom.New(f))
	counters := map[float64]string{}
	gauges := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			key := mf.GetName()
			for _, l := range m.Label {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				if !strings.HasSuffix(mf.GetName(), "_total") {
					t.Errorf("counter %s without _total", key)
				}
				if prev, dup := counters[m.Counter.GetValue()]; dup {
					t.Errorf("value %v in %s and %s", m.Counter.GetValue(), prev, key)
				}
				counters[m.Counter.GetValue()] = key
			case dto.MetricType_GAUGE:
				gauges[key] = m.Gauge.GetValue()
			case dto.MetricType_HISTOGRAM:
				if mf.GetName() == "rtcplug_connect_duration_seconds" {
					h := m.Histogram
					if h.GetSampleCount() != 6 || h.GetSampleSum() != 7 || h.Bucket[1].GetCumulativeCount() != 5 {
						t.Errorf("histogram %v", h)
					}
				}
			}
		}
	}
	v := reflect.ValueOf(f.stats)
	for i := range v.NumField() {
		if v.Field(i).Kind() != reflect.Uint64 {
			continue
		}
		if _, ok := counters[float64(v.Field(i).Uint())]; !ok {
			t.Errorf("Stats.%s is not exported", v.Type().Field(i).Name)
		} else {
			delete(counters, float64(v.Field(i).Uint()))
		}
	}
	if len(counters) != 0 {
		t.Errorf("counters without a Stats field: %v", counters)
	}
	want := map[string]float64{
		"rtcplug_conferences":                                         float64(f.stats.Conferences),
		"rtcplug_peers":                                               float64(f.stats.Peers),
		"rtcplug_pending_peers":                                       float64(f.stats.Pending),
		"rtcplug_conference_peers,conference=room":                    2,
		"rtcplug_conference_peers,conference=hall":                    1,
		"rtcplug_conference_receive_bytes_per_second,conference=room": 3000,
		"rtcplug_conference_receive_bytes_per_second,conference=hall": 100,
		"rtcplug_conference_jitter_max_seconds,conference=room":       0.005,
		"rtcplug_conference_packets_lost,conference=room":             3,
	}
	for k, w := range want {
		if g, ok := gauges[k]; !ok || math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
}

// The collector of a real plugin passes the Prometheus lint and reports
// the plugin's own numbers.
func TestLintRealPlugin(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := rtcplug.Mount(chi.NewRouter(), rtcplug.WithContext(ctx), rtcplug.WithUDPPort(0),
		rtcplug.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := rtcprom.New(p)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("lint: %s: %s", pr.Metric, pr.Text)
	}
	if n := testutil.CollectAndCount(c, "rtcplug_peers"); n != 1 {
		t.Fatalf("%d rtcplug_peers series", n)
	}
	// Datagrams that match no peer: counted by both.
	conn, err := net.Dial("udp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p.UDPAddr().Port()).String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for range 3 {
		_, _ = conn.Write([]byte{0x80, 0x60, 0, 1})
	}
	for p.Stats().UnroutedDatagrams < 3 {
		time.Sleep(10 * time.Millisecond)
	}
	st := p.Stats()
	want := fmt.Sprintf(`
# HELP rtcplug_datagrams_received_total UDP datagrams received on the media port.
# TYPE rtcplug_datagrams_received_total counter
rtcplug_datagrams_received_total %d
# HELP rtcplug_datagrams_unrouted_total Datagrams that matched no peer (or were oversized).
# TYPE rtcplug_datagrams_unrouted_total counter
rtcplug_datagrams_unrouted_total %d
`, st.Datagrams, st.UnroutedDatagrams)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"rtcplug_datagrams_received_total", "rtcplug_datagrams_unrouted_total"); err != nil {
		t.Fatal(err)
	}
	if problems, _ := testutil.CollectAndLint(rtcprom.New(newFake())); len(problems) != 0 {
		t.Fatalf("lint with conferences: %v", problems)
	}
}
