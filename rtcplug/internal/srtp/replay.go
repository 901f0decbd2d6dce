package srtp

// replayWindowLen is how far behind the highest index a packet may arrive and
// still be accepted (RFC 3711 §3.3.2 asks for at least 64). It is large so
// that retransmissions we ask for with NACK, which come back late and under
// their original sequence number, are still accepted.
const replayWindowLen = 1024

// maxSSRCs bounds the per-SSRC state kept in each of a Context's four tables.
// A peer sends a few streams (video, audio, their retransmission streams,
// simulcast layers); when a new SSRC arrives with the table full, the least
// recently used entry is evicted. Entries are only ever created for
// authenticated packets, so only a key holder can cause evictions; an evicted
// stream that comes back starts over with ROC 0 and a fresh replay window.
const maxSSRCs = 64

// window is a sliding replay window over packet indices (RFC 3711 §3.3.2):
// top is the highest index accepted and bit (i mod replayWindowLen) records
// whether index i in (top-replayWindowLen, top] was seen.
type window struct {
	top  uint64
	bits [replayWindowLen / 64]uint64
}

// init starts the window at the first authenticated index.
func (w *window) init(idx uint64) {
	w.top = idx
	w.bits = [replayWindowLen / 64]uint64{}
	w.set(idx)
}

func (w *window) set(idx uint64) {
	p := idx % replayWindowLen
	w.bits[p/64] |= 1 << (p % 64)
}

// check reports whether idx is new: ahead of the window, or inside it and
// not yet seen.
func (w *window) check(idx uint64) bool {
	if idx > w.top {
		return true
	}
	if w.top-idx >= replayWindowLen {
		return false
	}
	p := idx % replayWindowLen
	return w.bits[p/64]&(1<<(p%64)) == 0
}

// accept records idx, which check approved and which has been authenticated.
func (w *window) accept(idx uint64) {
	if idx > w.top {
		// Forget the indices the window slides over: top+1 .. idx.
		n := idx - w.top
		if n >= replayWindowLen {
			w.bits = [replayWindowLen / 64]uint64{}
		} else {
			p := (w.top + 1) % replayWindowLen
			for n > 0 {
				bit := p % 64
				k := min(64-bit, n)
				mask := ^uint64(0)
				if k < 64 {
					mask = (uint64(1)<<k - 1) << bit
				}
				w.bits[p/64] &^= mask
				n -= k
				p = (p + k) % replayWindowLen
			}
		}
		w.top = idx
	}
	w.set(idx)
}

// stream is the state kept for one SSRC in one table. In a receive table w
// is the replay window and w.top the highest authenticated index; in the send
// tables only w.top is used (highest SRTP index sent, or next SRTCP index).
type stream struct {
	ssrc    uint32
	lastUse uint64
	w       window
}

// ssrcTable holds at most maxSSRCs streams, looked up linearly: a handful
// of SSRCs is the normal case, and the last hit is tried first.
type ssrcTable struct {
	entries []stream
	tick    uint64
	last    int
}

func (t *ssrcTable) find(ssrc uint32) *stream {
	if t.last < len(t.entries) && t.entries[t.last].ssrc == ssrc {
		return &t.entries[t.last]
	}
	for i := range t.entries {
		if t.entries[i].ssrc == ssrc {
			t.last = i
			return &t.entries[i]
		}
	}
	return nil
}

// touch marks s as used now, for eviction order.
func (t *ssrcTable) touch(s *stream) {
	t.tick++
	s.lastUse = t.tick
}

// add creates the entry for ssrc (which find did not return), evicting the
// least recently used one when the table is full. Pointers from earlier
// finds are invalid afterwards.
func (t *ssrcTable) add(ssrc uint32) *stream {
	i := len(t.entries)
	if i < maxSSRCs {
		if t.entries == nil {
			t.entries = make([]stream, 0, 4)
		}
		t.entries = append(t.entries, stream{})
	} else {
		i = 0
		for j := range t.entries {
			if t.entries[j].lastUse < t.entries[i].lastUse {
				i = j
			}
		}
	}
	t.entries[i] = stream{ssrc: ssrc}
	t.last = i
	s := &t.entries[i]
	t.touch(s)
	return s
}

// reset forgets every stream, keeping the storage.
func (t *ssrcTable) reset() {
	t.entries = t.entries[:0]
	t.last = 0
}
