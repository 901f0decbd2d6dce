// Package rtcprom exports an rtcplug.Plugin's counters to Prometheus, so
// that the rtcplug package itself does not depend on Prometheus:
//
//	p, _ := rtcplug.Mount(r)
//	prometheus.MustRegister(rtcprom.New(p))
//	r.Handle("/metrics", promhttp.Handler())
//
// Every Stats counter is a counter (rtcplug_..._total); the numbers of
// conferences, peers and pending peers are gauges; live peers are summed per
// conference (labelled by conference name, never by peer id, so the number
// of series stays bounded by rtcplug.WithMaxConferences); connect time and
// keyframe-to-image time are histograms in seconds.
package rtcprom

import (
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nutsbolts/webrtc/rtcplug"
)

// Source is what the collector reads; *rtcplug.Plugin is one.
type Source interface {
	Stats() rtcplug.Stats
	Peers() []rtcplug.PeerInfo
}

var _ Source = (*rtcplug.Plugin)(nil)

const ns = "rtcplug"

// counter maps one Stats field to one series.
type counter struct {
	desc *prometheus.Desc
	get  func(*rtcplug.Stats) uint64
}

// Collector is a prometheus.Collector of one plugin. Each scrape takes one
// Stats and one Peers snapshot.
type Collector struct {
	src      Source
	counters []counter

	conferences, peers, pending               *prometheus.Desc
	confPeers, confRate, confJitter, confLost *prometheus.Desc
	connect, keyframe                         *prometheus.Desc
}

// New returns a collector of p (usually a *rtcplug.Plugin); register it
// once.
func New(p Source) *Collector {
	c := &Collector{src: p}
	add := func(name, help string, get func(*rtcplug.Stats) uint64, label ...string) {
		var consts prometheus.Labels
		if len(label) == 2 {
			consts = prometheus.Labels{label[0]: label[1]}
		}
		c.counters = append(c.counters, counter{
			desc: prometheus.NewDesc(prometheus.BuildFQName(ns, "", name), help, nil, consts),
			get:  get,
		})
	}
	add("datagrams_received_total", "UDP datagrams received on the media port.",
		func(s *rtcplug.Stats) uint64 { return s.Datagrams })
	add("datagrams_dropped_total", "Datagrams dropped because a peer's queue was full.",
		func(s *rtcplug.Stats) uint64 { return s.DroppedDatagrams })
	add("datagrams_unrouted_total", "Datagrams that matched no peer (or were oversized).",
		func(s *rtcplug.Stats) uint64 { return s.UnroutedDatagrams })
	add("packets_received_total", "Authenticated, decrypted media packets.",
		func(s *rtcplug.Stats) uint64 { return s.VideoPackets }, "kind", "video")
	add("packets_received_total", "Authenticated, decrypted media packets.",
		func(s *rtcplug.Stats) uint64 { return s.AudioPackets }, "kind", "audio")
	add("received_bytes_total", "Media bytes received, after SRTP.",
		func(s *rtcplug.Stats) uint64 { return s.VideoBytes }, "kind", "video")
	add("received_bytes_total", "Media bytes received, after SRTP.",
		func(s *rtcplug.Stats) uint64 { return s.AudioBytes }, "kind", "audio")
	add("packets_lost_total", "Video packets given up as lost.",
		func(s *rtcplug.Stats) uint64 { return s.LostPackets })
	add("packets_invalid_total", "Datagrams a peer dropped as unauthenticated, malformed, late or duplicate.",
		func(s *rtcplug.Stats) uint64 { return s.InvalidPackets })
	add("video_frames_total", "Video frames assembled.",
		func(s *rtcplug.Stats) uint64 { return s.VideoFrames })
	add("rtcp_sent_total", "RTCP packets sent, by type.",
		func(s *rtcplug.Stats) uint64 { return s.PLIs }, "type", "pli")
	add("rtcp_sent_total", "RTCP packets sent, by type.",
		func(s *rtcplug.Stats) uint64 { return s.NACKs }, "type", "nack")
	add("rtcp_sent_total", "RTCP packets sent, by type.",
		func(s *rtcplug.Stats) uint64 { return s.Reports }, "type", "report")
	add("keyframes_decoded_total", "Keyframes decoded.",
		func(s *rtcplug.Stats) uint64 { return s.Keyframes })
	add("snapshots_written_total", "Keyframe JPEGs written.",
		func(s *rtcplug.Stats) uint64 { return s.Snapshots })
	add("keyframes_dropped_total", "Keyframes not decoded for lack of decoding budget.",
		func(s *rtcplug.Stats) uint64 { return s.DroppedKeyframes })
	add("keyframes_failed_total", "Keyframes that failed to decode or to be written.",
		func(s *rtcplug.Stats) uint64 { return s.FailedKeyframes })
	add("keyframes_refused_total", "Keyframes refused before decoding: too small for the size they claim, or a size out of range.",
		func(s *rtcplug.Stats) uint64 { return s.RefusedKeyframes })
	add("keyframes_rate_limited_total", "Keyframes not decoded because the peer was over its snapshot rate.",
		func(s *rtcplug.Stats) uint64 { return s.RateLimitedKeyframes })
	add("keyframes_disk_limited_total", "Keyframes not written because the snapshot disk budget was spent.",
		func(s *rtcplug.Stats) uint64 { return s.DiskLimitedKeyframes })
	add("snapshot_bytes_total", "Bytes of keyframe JPEGs written.",
		func(s *rtcplug.Stats) uint64 { return s.SnapshotBytes })
	add("callbacks_dropped_total", "Host callback calls dropped because the callback fell behind.",
		func(s *rtcplug.Stats) uint64 { return s.DroppedPeerStates }, "callback", "peer_state")
	add("callbacks_dropped_total", "Host callback calls dropped because the callback fell behind.",
		func(s *rtcplug.Stats) uint64 { return s.DroppedFrames }, "callback", "frame")
	add("callbacks_dropped_total", "Host callback calls dropped because the callback fell behind.",
		func(s *rtcplug.Stats) uint64 { return s.DroppedAudio }, "callback", "audio")
	add("recording_dropped_total", "Frames and audio packets the recorder dropped because the disk fell behind.",
		func(s *rtcplug.Stats) uint64 { return s.DroppedRecording })
	add("cluster_events_dropped_total", "Events for the cluster (WithCluster) dropped because it fell behind or failed.",
		func(s *rtcplug.Stats) uint64 { return s.DroppedClusterEvents })

	g := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(ns, "", name), help, labels, nil)
	}
	c.conferences = g("conferences", "Conferences with peers.")
	c.peers = g("peers", "Live peers.")
	c.pending = g("pending_peers", "Peers that joined and are not connected yet.")
	c.confPeers = g("conference_peers", "Live peers of a conference.", "conference")
	c.confRate = g("conference_receive_bytes_per_second", "Media received by the peers of a conference over the last few seconds.", "conference")
	c.confJitter = g("conference_jitter_max_seconds", "The highest video interarrival jitter (RFC 3550) among the peers of a conference.", "conference")
	c.confLost = g("conference_packets_lost", "Video packets lost by the live peers of a conference, since each joined.", "conference")
	c.connect = g("connect_duration_seconds", "Time from join to connected (ICE and DTLS done).")
	c.keyframe = g("keyframe_to_image_seconds", "Time from a keyframe's last packet to its decoded image (and JPEG written).")
	return c
}

// Describe sends every descriptor.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, k := range c.counters {
		ch <- k.desc
	}
	for _, d := range []*prometheus.Desc{c.conferences, c.peers, c.pending, c.confPeers, c.confRate,
		c.confJitter, c.confLost, c.connect, c.keyframe} {
		ch <- d
	}
}

// Collect sends the current values.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	for _, k := range c.counters {
		ch <- prometheus.MustNewConstMetric(k.desc, prometheus.CounterValue, float64(k.get(&s)))
	}
	ch <- prometheus.MustNewConstMetric(c.conferences, prometheus.GaugeValue, float64(s.Conferences))
	ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(s.Peers))
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending))
	ch <- histogram(c.connect, s.ConnectTime)
	ch <- histogram(c.keyframe, s.KeyframeLatency)

	type conf struct {
		peers  int
		rate   float64
		jitter time.Duration
		lost   uint64
	}
	confs := map[string]*conf{}
	for _, pi := range c.src.Peers() {
		k := confs[pi.Conference]
		if k == nil {
			k = &conf{}
			confs[pi.Conference] = k
		}
		k.peers++
		k.rate += float64(pi.Bitrate) / 8
		k.jitter = max(k.jitter, pi.Jitter)
		k.lost += pi.Lost
	}
	names := make([]string, 0, len(confs))
	for n := range confs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		k := confs[n]
		ch <- prometheus.MustNewConstMetric(c.confPeers, prometheus.GaugeValue, float64(k.peers), n)
		ch <- prometheus.MustNewConstMetric(c.confRate, prometheus.GaugeValue, k.rate, n)
		ch <- prometheus.MustNewConstMetric(c.confJitter, prometheus.GaugeValue, k.jitter.Seconds(), n)
		ch <- prometheus.MustNewConstMetric(c.confLost, prometheus.GaugeValue, float64(k.lost), n)
	}
}

func histogram(d *prometheus.Desc, h rtcplug.Histogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			buckets[b.Seconds()] = h.Counts[i]
		}
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum.Seconds(), buckets)
}
