package dtls

import (
	"errors"

	"github.com/nutsbolts/webrtc/rtcplug/internal/wire"
)

// Content types (RFC 5246 §6.2.1).
const (
	contentChangeCipherSpec uint8 = 20
	contentAlert            uint8 = 21
	contentHandshake        uint8 = 22
	contentApplicationData  uint8 = 23
)

// Protocol versions on the wire: DTLS numbers its versions as the one's
// complement of the TLS ones (RFC 6347 §4.1).
const (
	versionDTLS10 uint16 = 0xfeff
	versionDTLS12 uint16 = 0xfefd
	versionDTLS13 uint16 = 0xfefc
)

const (
	// recordHeaderLen is type(1) version(2) epoch(2) sequence_number(6)
	// length(2) (RFC 6347 §4.1).
	recordHeaderLen = 13
	// maxPlaintext is the largest record plaintext (RFC 5246 §6.2.1).
	maxPlaintext = 1 << 14
	// maxCiphertext bounds a protected record: plaintext plus what an AEAD
	// adds (RFC 5246 §6.2.3 allows 2048 bytes of expansion).
	maxCiphertext = maxPlaintext + 2048
	// maxSeq is the last usable 48-bit record sequence number; the next one
	// would wrap (RFC 6347 §4.1).
	maxSeq = 1<<48 - 1
)

var errSeqOverflow = errors.New("dtls: record sequence number exhausted")

// recordHeader is the DTLS 1.2 record header (RFC 6347 §4.1).
type recordHeader struct {
	typ     uint8
	version uint16
	epoch   uint16
	seq     uint64 // 48 bits
	length  uint16
}

// parseRecord reads one record from the front of b and returns its header,
// fragment and the rest of the datagram. ok is false when the record is
// truncated or invalid (RFC 6347 §4.1.2.7: invalid records are discarded);
// skipRecord tells whether the records after it can still be framed.
func parseRecord(b []byte) (h recordHeader, fragment, rest []byte, ok bool) {
	r := wire.NewReader(b)
	h.typ = r.U8()
	h.version = r.U16()
	h.epoch = r.U16()
	h.seq = r.U48()
	h.length = r.U16()
	fragment = r.Bytes(int(h.length))
	if !r.OK() {
		return recordHeader{}, nil, nil, false
	}
	// Only DTLS 1.0 and 1.2 record versions: browsers send 0xfeff in the
	// first hello and 0xfefd afterwards.
	if h.version != versionDTLS12 && h.version != versionDTLS10 {
		return recordHeader{}, nil, nil, false
	}
	if int(h.length) > maxCiphertext {
		return recordHeader{}, nil, nil, false
	}
	return h, fragment, r.Rest(), true
}

// skipRecord steps over the record at the front of b without judging it:
// ok is false only when b does not hold a whole record header and fragment,
// so nothing after it can be framed.
func skipRecord(b []byte) (rest []byte, ok bool) {
	r := wire.NewReader(b)
	r.Skip(recordHeaderLen - 2)
	r.Skip(int(r.U16()))
	if !r.OK() {
		return nil, false
	}
	return r.Rest(), true
}

// appendRecordHeader appends a record header for a fragment of length n.
func appendRecordHeader(dst []byte, typ uint8, epoch uint16, seq uint64, n int) []byte {
	w := wire.NewBuilder(dst)
	w.U8(typ)
	w.U16(versionDTLS12)
	w.U16(epoch)
	w.U48(seq)
	w.U16(uint16(n))
	return w.B
}

// replayWindow is the anti-replay sliding window of RFC 6347 §4.1.2.6 (and
// RFC 4303 §3.4.3): the highest sequence number authenticated so far and a
// bitmap of the replayWindowSize numbers below it.
type replayWindow struct {
	top  uint64 // highest sequence number accepted; valid when seen
	bits uint64 // bit i set: top-i accepted
	seen bool
}

// replayWindowSize is the window width in records.
const replayWindowSize = 64

// check reports whether seq is new: not accepted before and not older than
// the window. It does not change the window; call accept once the record
// authenticated.
func (w *replayWindow) check(seq uint64) bool {
	if !w.seen || seq > w.top {
		return true
	}
	d := w.top - seq
	if d >= replayWindowSize {
		return false
	}
	return w.bits&(1<<d) == 0
}

// duplicate reports whether seq is inside the window and was accepted
// before. Unlike check it lets records older than the window through.
func (w *replayWindow) duplicate(seq uint64) bool {
	if !w.seen || seq > w.top || w.top-seq >= replayWindowSize {
		return false
	}
	return w.bits&(1<<(w.top-seq)) != 0
}

// accept records seq as received.
func (w *replayWindow) accept(seq uint64) {
	if !w.seen {
		w.seen, w.top, w.bits = true, seq, 1
		return
	}
	if seq > w.top {
		d := seq - w.top
		if d >= replayWindowSize {
			w.bits = 0
		} else {
			w.bits <<= d
		}
		w.bits |= 1
		w.top = seq
		return
	}
	if d := w.top - seq; d < replayWindowSize {
		w.bits |= 1 << d
	}
}
