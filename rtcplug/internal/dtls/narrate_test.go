package dtls

import "testing"

func TestDescribeIncoming(t *testing.T) {
	// An epoch-0 handshake record holding bytes 100-300 of a 500-byte
	// ClientHello (RFC 6347 §4.1 record header, §4.2.2 handshake header).
	b := []byte{
		contentHandshake, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 12 + 200,
		typeClientHello, 0, 0x01, 0xf4, 0, 0, 0, 0, 100, 0, 0, 200,
	}
	if got, want := describeIncoming(b), "ClientHello fragment received: bytes 100-300 of 500"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	for n := range len(b) - 1 {
		if got := describeIncoming(b[:n]); got != "" {
			t.Fatalf("%d bytes: %q", n, got)
		}
	}
	b[4] = 1 // epoch 1: encrypted, not narrated
	if got := describeIncoming(b); got != "" {
		t.Fatalf("epoch 1: %q", got)
	}
}
