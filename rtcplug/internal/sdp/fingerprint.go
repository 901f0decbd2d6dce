package sdp

import "errors"

// Fingerprint is an a=fingerprint attribute (RFC 8122 §5): the hash of the
// DTLS certificate the endpoint will present.
type Fingerprint struct {
	Algorithm string // lower-cased hash name: "sha-256", "sha-384", ...
	Value     string // as written: "AB:CD:..."
}

// String is the attribute value, "sha-256 AB:CD:...".
func (f Fingerprint) String() string { return f.Algorithm + " " + f.Value }

var errFingerprintValue = errors.New("sdp: malformed fingerprint value")

// Digest decodes Value, pairs of hex digits separated by colons
// (RFC 8122 §5, either case), and checks its length against the algorithm
// when the algorithm is a known hash.
func (f Fingerprint) Digest() ([]byte, error) {
	v := f.Value
	if len(v) < 2 || (len(v)+1)%3 != 0 {
		return nil, errFingerprintValue
	}
	out := make([]byte, 0, (len(v)+1)/3)
	for i := 0; i < len(v); i += 3 {
		hi, ok1 := unhex(v[i])
		lo, ok2 := unhex(v[i+1])
		if !ok1 || !ok2 || (i+2 < len(v) && v[i+2] != ':') {
			return nil, errFingerprintValue
		}
		out = append(out, hi<<4|lo)
	}
	if n := HashLen(f.Algorithm); n != 0 && n != len(out) {
		return nil, errFingerprintValue
	}
	return out, nil
}

// HashLen is the digest length in bytes of the hash named in a fingerprint
// (RFC 8122 §5 refers to the IANA "Hash Function Textual Names" registry),
// 0 when the name is unknown.
func HashLen(algorithm string) int {
	switch algorithm {
	case "md2", "md5":
		return 16
	case "sha-1":
		return 20
	case "sha-224":
		return 28
	case "sha-256":
		return 32
	case "sha-384":
		return 48
	case "sha-512":
		return 64
	}
	return 0
}

// strongHash reports whether the server accepts certificates identified by
// this hash: the SHA-2 family at 256 bits or more (RFC 8827 §6.5 requires
// SHA-256 support; SHA-1 and shorter are not trusted).
func strongHash(algorithm string) bool {
	switch algorithm {
	case "sha-256", "sha-384", "sha-512":
		return true
	}
	return false
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
