package dtls

import "math/bits"

const (
	// maxPendingMessages is how far ahead of the next expected message_seq
	// we buffer fragments (a client's flight 5 has at most five messages).
	maxPendingMessages = 8
	// maxBufferedBytes bounds the bodies held for messages not yet
	// complete or not yet processed.
	maxBufferedBytes = 48 << 10
)

// partial is one handshake message being put together from fragments that
// may arrive in any order, duplicated or overlapping (RFC 6347 §4.2.3).
type partial struct {
	typ    uint8
	length uint32
	epoch  uint16
	body   []byte
	have   []uint64 // one bit per body byte received
	filled int
}

func (p *partial) reset() { *p = partial{} }

func (p *partial) used() bool { return p.body != nil }

func (p *partial) complete() bool { return p.used() && p.filled == int(p.length) }

// start prepares p for a message of the fragment's type and length.
func (p *partial) start(h *handshakeHeader, epoch uint16) {
	p.typ, p.length, p.epoch = h.typ, h.length, epoch
	p.body = make([]byte, h.length)
	p.have = make([]uint64, (h.length+63)/64)
	p.filled = 0
}

// add copies a fragment in. A fragment that disagrees with what the message
// already is (type, length, epoch) is ignored.
func (p *partial) add(h *handshakeHeader, epoch uint16) {
	if h.typ != p.typ || h.length != p.length || epoch != p.epoch {
		return
	}
	off, end := int(h.fragOff), int(h.fragOff+h.fragLen)
	copy(p.body[off:end], h.fragment)
	for i := off; i < end; {
		w, b := i/64, uint(i%64)
		n := 64 - int(b)
		if n > end-i {
			n = end - i
		}
		mask := (^uint64(0) >> (64 - uint(n))) << b
		p.filled += n - bits.OnesCount64(p.have[w]&mask)
		p.have[w] |= mask
		i += n
	}
}

// reassembler collects the peer's handshake messages by message_seq and
// hands them out in order.
type reassembler struct {
	next     uint16 // message_seq of the next message to hand out
	slots    [maxPendingMessages]partial
	buffered int
}

// addResult says what a fragment was.
type addResult int

const (
	addNew     addResult = iota // stored (or already had it)
	addOld                      // a message already handed out: the peer retransmits
	addDropped                  // too far ahead or over a memory cap
)

// add stores a fragment.
func (r *reassembler) add(h *handshakeHeader, epoch uint16) addResult {
	if h.seq < r.next {
		return addOld
	}
	i := int(h.seq - r.next)
	if i >= maxPendingMessages || h.length > maxMessageLen {
		return addDropped
	}
	p := &r.slots[i]
	if p.used() && epoch > p.epoch {
		// A protected fragment outranks a plaintext partial at its place:
		// only the protected one is authenticated, the other may be forged
		// (RFC 6347 §4.1.2.1 epochs; RFC 5246 §7.4.9 Finished).
		r.buffered -= int(p.length)
		p.reset()
	}
	if !p.used() {
		if r.buffered+int(h.length) > maxBufferedBytes {
			return addDropped
		}
		p.start(h, epoch)
		r.buffered += int(h.length)
	}
	p.add(h, epoch)
	return addNew
}

// peek returns the next message if it is complete.
func (r *reassembler) peek() (*partial, bool) {
	p := &r.slots[0]
	return p, p.complete()
}

// pop discards the next message (after peek) and advances.
func (r *reassembler) pop() {
	r.buffered -= int(r.slots[0].length)
	copy(r.slots[:], r.slots[1:])
	r.slots[len(r.slots)-1].reset()
	r.next++
}

// dropPlaintextFrom discards the epoch-0 partials at message_seq seq and
// after: once the peer's next message is known to come protected, a
// plaintext one there is forged and must neither block nor be handed out.
func (r *reassembler) dropPlaintextFrom(seq uint16) {
	for i := range r.slots {
		p := &r.slots[i]
		if p.used() && p.epoch == 0 && r.next+uint16(i) >= seq {
			r.buffered -= int(p.length)
			p.reset()
		}
	}
}

// reset empties the buffer and expects message_seq next.
func (r *reassembler) reset(next uint16) {
	*r = reassembler{next: next}
}
