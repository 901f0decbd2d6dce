// Package dtls is a DTLS 1.2 server (RFC 6347 over TLS 1.2, RFC 5246) for
// WebRTC's DTLS-SRTP (RFC 5764), written as a sans-IO state machine.
//
// A Server belongs to one client address that ICE has already authenticated.
// The owner feeds it datagrams and the current time and drains what it
// produces:
//
//	err := s.HandleDatagram(now, b)      // or s.HandleTimeout(now) when Deadline passes
//	for d := s.PollTransmit(); d != nil; d = s.PollTransmit() { send(d) }
//	for ev, ok := s.PollEvent(); ok; ev, ok = s.PollEvent() { ... }
//	timer.Reset(s.Deadline().Sub(now))   // zero Deadline: no timer
//
// The Server owns no socket, goroutine or clock, and has no package state;
// randomness comes from Config.Rand. It is not safe for concurrent use.
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
// The client must present a certificate whose fingerprint is one of
// Config.ExpectedFingerprints (the a=fingerprint of its SDP, RFC 8122), and
// prove the key with CertificateVerify.
//
// State kept before the cookie exchange (RFC 6347 §4.2.1) is a single bounded
// buffer for reassembling one ClientHello: browsers send hellos larger than
// one datagram (post-quantum key shares), so the hello carrying the cookie
// cannot be verified without putting its fragments together first. The
// cookie itself is a stateless HMAC.
package dtls
