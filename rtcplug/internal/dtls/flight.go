package dtls

import "time"

// flightMsg is one message of a flight we may have to send again:
// a handshake message (typ, seq, body) in an epoch, or a ChangeCipherSpec.
type flightMsg struct {
	ccs   bool
	typ   uint8
	seq   uint16
	epoch uint16
	body  []byte
}

// minFragment is the smallest handshake fragment worth a record of its own;
// with less room left the datagram is closed.
const minFragment = 64

// addMessage appends a handshake message to the flight being built and to
// the transcript.
func (c *conn) addMessage(typ uint8, epoch uint16, body []byte) {
	seq := c.sendSeq
	c.sendSeq++
	c.flight = append(c.flight, flightMsg{typ: typ, seq: seq, epoch: epoch, body: body})
	c.transcript = appendTranscript(c.transcript, typ, seq, body)
}

// startFlight sends a new flight and arms the retransmission timer when the
// flight expects an answer (RFC 6347 §4.2.4).
func (c *conn) startFlight(now time.Time, timer bool) {
	c.rtxCount = 0
	c.rtxInterval = initialRetransmit
	c.rtxDeadline = time.Time{}
	if timer {
		c.rtxDeadline = now.Add(c.rtxInterval)
	}
	c.sendFlight()
}

// resendFlight answers a repeated flight from the client with our last
// flight (RFC 6347 §4.2.4), at most once per minResendGap.
func (c *conn) resendFlight(now time.Time) {
	if len(c.flight) == 0 || (!c.lastResend.IsZero() && now.Sub(c.lastResend) < minResendGap) {
		return
	}
	c.lastResend = now
	c.resends++
	c.sendFlight()
}

// sendFlight packs the flight into datagrams of at most MTU bytes, several
// records to a datagram, fragmenting messages that do not fit (RFC 6347
// §4.2.3). Every transmission uses fresh record sequence numbers.
func (c *conn) sendFlight() {
	mtu := c.cfg.MTU
	var d []byte
	flush := func() {
		if len(d) > 0 && len(c.tx) < maxQueuedDatagrams {
			c.tx = append(c.tx, d)
		}
		d = nil
	}
	room := func() int { return mtu - len(d) }
	for _, m := range c.flight {
		if m.ccs {
			if room() < recordHeaderLen+1 {
				flush()
			}
			d = c.emit(d, contentChangeCipherSpec, m.epoch, []byte{1})
			continue
		}
		over := recordHeaderLen + handshakeHeaderLen
		if m.epoch == 1 {
			over += c.writeCipher.overhead()
		}
		total := len(m.body)
		// Keep a message whole when it fits a fresh datagram.
		if len(d) > 0 && over+total > room() && over+total <= mtu {
			flush()
		}
		for off := 0; off < total || (off == 0 && total == 0); {
			space := room() - over
			if space < min(minFragment, total-off) {
				flush()
				continue
			}
			n := min(space, total-off)
			frag := appendHandshakeHeader(c.scratch[:0], m.typ, total, m.seq, off, n)
			frag = append(frag, m.body[off:off+n]...)
			d = c.emit(d, contentHandshake, m.epoch, frag)
			c.scratch = frag[:0]
			off += n
			if total == 0 {
				break
			}
		}
	}
	flush()
}

// emit appends one record to the datagram d (allocating it on first use).
func (c *conn) emit(d []byte, typ uint8, epoch uint16, payload []byte) []byte {
	if d == nil {
		d = make([]byte, 0, c.cfg.MTU)
	}
	out, err := c.appendRecord(d, typ, epoch, payload)
	if err != nil {
		// Sequence numbers exhausted: nothing more can be sent; the
		// connection fails on its next write.
		return d
	}
	return out
}
