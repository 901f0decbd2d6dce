package dtls

// parseFinished returns verify_data, 12 bytes for every TLS 1.2 suite we
// implement (RFC 5246 §7.4.9).
func parseFinished(b []byte) ([]byte, error) {
	if len(b) != verifyDataLen {
		return nil, alertDecodeError
	}
	return b, nil
}
