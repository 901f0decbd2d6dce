package dtls

// ServerHelloDone has an empty body (RFC 5246 §7.4.5); only its header is
// sent. This file keeps the one-file-per-message layout.
func appendServerHelloDone(dst []byte) []byte { return dst }
