// Package dtls is DTLS 1.2 (RFC 6347 over TLS 1.2, RFC 5246) for WebRTC's
// DTLS-SRTP (RFC 5764), server and client, written as sans-IO state
// machines.
//
// A Server or a Client belongs to one peer address that ICE has already
// authenticated; which one the SDP's a=setup decides (RFC 5763 §5). Both
// share the record layer, key schedule, message codecs, flights and
// retransmission (conn), and are driven the same way: the owner feeds
// datagrams and the current time and drains what they produce (NewClient
// has already queued the first ClientHello):
//
//	s.Handle(now, from, b)               // or s.HandleTimeout(now) when Deadline passes
//	for ev, ok := s.Poll(); ok; ev, ok = s.Poll() {
//	    // Transmit → send ev.Data to the peer; the rest are events
//	}
//	timer.Reset(s.Deadline().Sub(now))   // zero Deadline: no timer
//
// That is the drive shape of every core (see udpmux.Core). With
// Config.Progress the handshake also narrates itself in Progress events.
//
// Neither owns a socket, goroutine or clock, and there is no package state;
// randomness comes from Config.Rand. Neither is safe for concurrent use.
//
// What is negotiated, by our preference:
//   - cipher suites TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
//     TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 and
//     TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 5289, RFC 7905);
//   - groups X25519 and P-256 (RFC 8422, RFC 7748);
//   - the extended master secret (RFC 7627), required;
//   - secure renegotiation (RFC 5746) answered, renegotiation never done;
//   - one SRTP protection profile (RFC 5764, RFC 7714).
//
// The peer must present a certificate whose fingerprint is one of
// Config.ExpectedFingerprints (the a=fingerprint of its SDP, RFC 8122): a
// client proves the key with CertificateVerify; our client checks the
// server's certificate before it looks at anything the key signed, and
// verifies its ServerKeyExchange signature.
//
// The Client offers the configured suites and SRTP profiles in preference
// order, X25519 and P-256, uncompressed points, the signature schemes it
// verifies, the extended master secret, an empty renegotiation_info, and no
// session ticket; it answers a HelloVerifyRequest with the cookie, and
// reassembles the server's flight 4 from fragments in any order.
//
// State kept before the cookie exchange (RFC 6347 §4.2.1) is a single bounded
// buffer for reassembling one ClientHello: browsers send hellos larger than
// one datagram (post-quantum key shares), so the hello carrying the cookie
// cannot be verified without putting its fragments together first. The
// cookie itself is a stateless HMAC.
package dtls
