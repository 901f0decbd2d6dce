package peer

import (
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
)

// info is what Stats reports beyond the counters.
type info struct {
	now    time.Time // the time of the latest Handle call
	cipher uint16
	rate   rateMeter
}

// snapshot is Stats: the counters plus the state as of the latest call.
func (p *Peer) snapshot() Stats {
	s := p.stats
	if p.video.active {
		// RFC 3550 §6.4.1: jitter is kept in timestamp units.
		s.Jitter = time.Duration(p.video.jitter / videoClock * float64(time.Second))
	}
	s.Bitrate = p.info.rate.bitrate(p.info.now, p.created)
	if p.srtpUp {
		s.SRTPProfile = p.profile
	}
	s.CipherSuite = p.info.cipher
	s.Remote = p.dest
	return s
}

// rateBuckets is the number of one-second buckets of the bitrate meter: the
// bitrate is averaged over the rateBuckets-1 complete seconds before now.
const rateBuckets = 5

// rateMeter counts received media bytes per second since the peer started.
type rateMeter struct {
	sec     int64 // the second (since the peer's creation) of the newest bucket
	started bool
	first   int64 // the second of the first byte
	b       [rateBuckets]uint64
}

func (m *rateMeter) advance(now, epoch time.Time) int64 {
	s := int64(now.Sub(epoch) / time.Second)
	if s < 0 {
		s = 0
	}
	if s > m.sec {
		for i := m.sec + 1; i <= s && i <= m.sec+rateBuckets; i++ {
			m.b[i%rateBuckets] = 0
		}
		m.sec = s
	}
	return s
}

func (m *rateMeter) add(now, epoch time.Time, n int) {
	s := m.advance(now, epoch)
	if !m.started {
		m.started, m.first = true, s
	}
	if s < m.sec {
		return // a clock that went back: the bucket is gone
	}
	m.b[s%rateBuckets] += uint64(n)
}

// bitrate is the average over the complete seconds in the window (fewer
// right after the start), in bits per second.
func (m *rateMeter) bitrate(now, epoch time.Time) int {
	if !m.started || now.IsZero() {
		return 0
	}
	s := m.advance(now, epoch)
	n := min(int64(rateBuckets-1), s-m.first)
	if n <= 0 {
		return 0
	}
	var sum uint64
	for i := int64(1); i <= n; i++ {
		sum += m.b[(s-i)%rateBuckets]
	}
	return int(sum * 8 / uint64(n))
}

// scheduleSnapshot asks for the next keyframe Config.KeyframeInterval from
// now, unless a PLI is due sooner anyway (RFC 4585 §6.3.1: a PLI asks the
// sender for a full intra picture).
func (p *Peer) scheduleSnapshot(now time.Time) {
	iv := p.cfg.KeyframeInterval
	if iv <= 0 {
		return
	}
	at := now.Add(iv)
	if p.pliDue.IsZero() || at.Before(p.pliDue) {
		p.pliDue = at
	}
}

// RequestKeyframe asks the sender for a keyframe (a PLI, RFC 4585 §6.3.1, or
// to a sender that takes only FIR a FIR, RFC 5104 §4.3.1), spaced like the
// requests after loss by PLIMinInterval. The plugin calls it when this
// peer's keyframe was dropped before it could be decoded.
func (p *Peer) RequestKeyframe(now time.Time) { p.gap(now) }

// CipherSuiteName is the IANA name of a DTLS cipher suite we implement
// (RFC 5289 §3.2, RFC 7905 §2), or "" for 0.
func CipherSuiteName(id uint16) string {
	switch id {
	case 0:
		return ""
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
	case dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
	}
	return "unknown"
}
