package stun

import (
	"bytes"
	"crypto/md5"
	"errors"
	"net/netip"
	"testing"
)

const (
	pionPwd     = "GMqhsyrIRToHXKgsHPecZvbokKQUzzRX" // testdata/pion-answer.sdp a=ice-pwd
	pionUfrag   = "wxwEaKUYrnfdHCnY"
	chromeUfrag = "847+" // testdata/chromium156-offer.sdp a=ice-ufrag
)

func mustDecode(t testing.TB, b []byte) *Message {
	t.Helper()
	var m Message
	if err := m.Decode(b); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return &m
}

func attrTypes(m *Message) []uint16 {
	var ts []uint16
	for _, a := range m.Attributes {
		ts = append(ts, a.Type)
	}
	return ts
}

func TestRFC5769SampleRequest(t *testing.T) {
	v := loadVectors(t, "rfc5769-stun.txt")["rfc5769-2.1"]
	msg := v.hexField(t, "message")
	m := mustDecode(t, msg)
	if m.Type != TypeBindingRequest || m.Class() != ClassRequest || m.Method() != MethodBinding {
		t.Fatalf("type %#04x", m.Type)
	}
	if !bytes.Equal(m.TransactionID[:], v.hexField(t, "transaction-id")) {
		t.Fatalf("transaction ID %x", m.TransactionID)
	}
	want := []uint16{AttrSoftware, AttrPriority, AttrICEControlled, AttrUsername, AttrMessageIntegrity, AttrFingerprint}
	if got := attrTypes(m); !equalTypes(got, want) {
		t.Fatalf("attribute order %04x, want %04x", got, want)
	}
	if u, _ := m.Username(); string(u) != v.textField(t, "username") {
		t.Fatalf("username %q", u)
	}
	if s, _ := m.Software(); string(s) != v.textField(t, "software") {
		t.Fatalf("software %q", s)
	}
	if p, err := m.Priority(); err != nil || p != 0x6e0001ff {
		t.Fatalf("priority %#x %v", p, err)
	}
	if tb, err := m.ICEControlled(); err != nil || tb != 0x932ff9b151263b36 {
		t.Fatalf("ice-controlled %#x %v", tb, err)
	}
	if _, err := m.ICEControlling(); !errors.Is(err, ErrNoAttribute) {
		t.Fatalf("ice-controlling: %v", err)
	}
	if err := m.CheckIntegrity([]byte(v.textField(t, "password"))); err != nil {
		t.Fatalf("integrity: %v", err)
	}
	if err := m.CheckIntegrity([]byte("VOkJxbRl1RmTxUk/WvJxBT")); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("integrity with a wrong key: %v", err)
	}
	if err := m.CheckFingerprint(); err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	if mi, _ := m.Get(AttrMessageIntegrity); !bytes.Equal(mi, v.hexField(t, "message-integrity")) {
		t.Fatalf("MI value %x", mi)
	}
	if u := m.UnknownComprehensionRequired(nil); len(u) != 0 {
		t.Fatalf("unknown %04x", u)
	}

	// Re-encode in the same order; padding differs (the RFC pads with
	// spaces, we pad with zeros), which MI covers, so compare after MI.
	var b Message
	b.Reset()
	b.SetType(TypeBindingRequest)
	b.SetTransactionID(m.TransactionID)
	b.AddSoftware(v.textField(t, "software"))
	b.AddPriority(0x6e0001ff)
	b.AddICEControlled(0x932ff9b151263b36)
	b.AddUsername(v.textField(t, "username"))
	b.AddIntegrity([]byte(v.textField(t, "password")))
	b.AddFingerprint()
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if len(b.Raw) != len(msg) {
		t.Fatalf("re-encoded length %d, want %d", len(b.Raw), len(msg))
	}
	rt := mustDecode(t, b.Raw)
	if err := rt.CheckIntegrity([]byte(v.textField(t, "password"))); err != nil {
		t.Fatal(err)
	}
	if err := rt.CheckFingerprint(); err != nil {
		t.Fatal(err)
	}
}

func equalTypes(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRFC5769Responses(t *testing.T) {
	vs := loadVectors(t, "rfc5769-stun.txt")
	for _, tc := range []struct {
		id   string
		want netip.AddrPort
	}{
		{"rfc5769-2.2", netip.MustParseAddrPort("192.0.2.1:32853")},
		{"rfc5769-2.3", netip.MustParseAddrPort("[2001:db8:1234:5678:11:2233:4455:6677]:32853")},
	} {
		t.Run(tc.id, func(t *testing.T) {
			v := vs[tc.id]
			msg := v.hexField(t, "message")
			m := mustDecode(t, msg)
			if m.Type != TypeBindingSuccess || m.Class() != ClassSuccess {
				t.Fatalf("type %#04x", m.Type)
			}
			key := []byte(v.textField(t, "password"))
			if err := m.CheckIntegrity(key); err != nil {
				t.Fatalf("integrity: %v", err)
			}
			if err := m.CheckFingerprint(); err != nil {
				t.Fatalf("fingerprint: %v", err)
			}
			if s, _ := m.Software(); string(s) != v.textField(t, "software") {
				t.Fatalf("software %q", s)
			}
			ap, err := m.XORMappedAddress()
			if err != nil || ap != tc.want {
				t.Fatalf("XOR-MAPPED-ADDRESS %v %v, want %v", ap, err, tc.want)
			}
			var id [12]byte
			copy(id[:], v.hexField(t, "transaction-id"))
			if ap, err := m.CheckBindingResponse(id); err != nil || ap != tc.want {
				t.Fatalf("CheckBindingResponse %v %v", ap, err)
			}

			// The response re-encoded with zero padding: the XOR-MAPPED-ADDRESS
			// bytes are identical, MI and FINGERPRINT verify.
			var b Message
			b.Reset()
			b.SetType(TypeBindingSuccess)
			b.SetTransactionID(id)
			b.AddSoftware(v.textField(t, "software"))
			b.AddXORMappedAddress(tc.want)
			b.AddIntegrity(key)
			b.AddFingerprint()
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Raw[:4], msg[:4]) || !bytes.Equal(b.Raw[36:len(msg)-28], msg[36:len(msg)-28]) {
				t.Fatalf("re-encoded\n%x\nwant\n%x", b.Raw, msg)
			}
			rt := mustDecode(t, b.Raw)
			if err := rt.CheckIntegrity(key); err != nil {
				t.Fatal(err)
			}
			if err := rt.CheckFingerprint(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRFC5769LongTermAuth(t *testing.T) {
	v := loadVectors(t, "rfc5769-stun.txt")["rfc5769-2.4"]
	m := mustDecode(t, v.hexField(t, "message"))
	if m.Type != TypeBindingRequest {
		t.Fatalf("type %#04x", m.Type)
	}
	user, _ := m.Username()
	if !bytes.Equal(user, v.hexField(t, "username-utf8")) {
		t.Fatalf("username %x", user)
	}
	realm, _ := m.Get(AttrRealm)
	nonce, _ := m.Get(AttrNonce)
	if string(realm) != v.textField(t, "realm") || string(nonce) != v.textField(t, "nonce") {
		t.Fatalf("realm %q nonce %q", realm, nonce)
	}
	// The vector carries no FINGERPRINT (see the file's note).
	if err := m.CheckFingerprint(); !errors.Is(err, ErrNoFingerprint) {
		t.Fatalf("fingerprint: %v", err)
	}
	// RFC 8489 §9.2.2: key = MD5(username ":" realm ":" SASLprep(password)).
	key := md5.Sum([]byte(string(user) + ":" + string(realm) + ":" + v.textField(t, "password")))
	if err := m.CheckIntegrity(key[:]); err != nil {
		t.Fatalf("long-term integrity: %v", err)
	}
	if err := m.CheckIntegrity([]byte(v.textField(t, "password"))); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("password as a short-term key: %v", err)
	}
}

func TestChromiumCapture(t *testing.T) {
	req := mustDecode(t, captureFrame(t, 1))
	if req.Type != TypeBindingRequest {
		t.Fatalf("frame 1 type %#04x", req.Type)
	}
	if u, _ := req.Username(); string(u) != pionUfrag+":"+chromeUfrag {
		t.Fatalf("username %q", u)
	}
	want := []uint16{AttrUsername, AttrGoogNetworkInfo, AttrICEControlling, AttrPriority, AttrMessageIntegrity, AttrFingerprint}
	if got := attrTypes(req); !equalTypes(got, want) {
		t.Fatalf("attributes %04x, want %04x", got, want)
	}
	if u := req.UnknownComprehensionRequired(nil); len(u) != 0 {
		t.Fatalf("GOOG-NETWORK-INFO must be optional, got %04x", u)
	}
	if req.UseCandidate() {
		t.Fatal("frame 1 has no USE-CANDIDATE")
	}
	if err := req.CheckIntegrity([]byte(pionPwd)); err != nil {
		t.Fatalf("integrity with the answer's ice-pwd: %v", err)
	}
	for _, k := range []string{"", "jNW4ET/a3vMhkHYVVdYHtjTz", pionPwd[:len(pionPwd)-1], pionPwd + "x", "gMqhsyrIRToHXKgsHPecZvbokKQUzzRX"} {
		if err := req.CheckIntegrity([]byte(k)); !errors.Is(err, ErrIntegrity) {
			t.Fatalf("integrity with key %q: %v", k, err)
		}
	}
	if err := req.CheckFingerprint(); err != nil {
		t.Fatal(err)
	}

	resp := mustDecode(t, captureFrame(t, 2))
	if err := resp.CheckIntegrity([]byte(pionPwd)); err != nil {
		t.Fatalf("pion response integrity: %v", err)
	}
	if err := resp.CheckFingerprint(); err != nil {
		t.Fatal(err)
	}
	ap, err := resp.CheckBindingResponse(req.TransactionID)
	if err != nil || ap.Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("mapped %v %v", ap, err)
	}

	nom := mustDecode(t, captureFrame(t, 5))
	if !nom.UseCandidate() {
		t.Fatal("frame 5 must carry USE-CANDIDATE")
	}
	if err := nom.CheckIntegrity([]byte(pionPwd)); err != nil {
		t.Fatal(err)
	}
	if err := nom.CheckFingerprint(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 7, 13} { // DTLS records are not STUN
		if IsMessage(captureFrame(t, n)) {
			t.Fatalf("frame %d taken for STUN", n)
		}
	}
	for _, n := range []int{1, 2, 5, 6} {
		if !IsMessage(captureFrame(t, n)) {
			t.Fatalf("frame %d not recognised", n)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	key := []byte("a-short-term-password-22")
	for _, ap := range []netip.AddrPort{
		netip.MustParseAddrPort("203.0.113.9:49152"),
		netip.MustParseAddrPort("[::ffff:198.51.100.3]:1"),
		netip.MustParseAddrPort("[2001:db8::1]:65535"),
	} {
		var m Message
		m.Reset()
		m.SetType(TypeBindingError)
		m.SetTransactionID([12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
		m.AddErrorCode(420, "Unknown Attribute")
		m.AddUnknownAttributes([]uint16{0x7777, 0x0003, 0x1234})
		m.AddXORMappedAddress(ap)
		m.AddMappedAddress(ap)
		m.AddUseCandidate()
		m.AddICEControlling(0x0102030405060708)
		m.Add(0xC057, []byte{0, 1, 0, 50})
		m.AddIntegrity(key)
		m.AddFingerprint()
		if err := m.Err(); err != nil {
			t.Fatal(err)
		}
		// Get works on a built message, even after Raw grew and moved.
		if v, ok := m.Get(AttrErrorCode); !ok || string(v[4:]) != "Unknown Attribute" {
			t.Fatalf("built ERROR-CODE %q", v)
		}
		if err := m.CheckIntegrity(key); err != nil {
			t.Fatalf("built message integrity: %v", err)
		}
		d := mustDecode(t, m.Raw)
		if d.Type != TypeBindingError || d.Class() != ClassError || d.TransactionID != m.TransactionID {
			t.Fatalf("header %#04x %x", d.Type, d.TransactionID)
		}
		if got, want := attrTypes(d), attrTypes(&m); !equalTypes(got, want) {
			t.Fatalf("order %04x, want %04x", got, want)
		}
		code, reason, err := d.ErrorCode()
		if err != nil || code != 420 || string(reason) != "Unknown Attribute" {
			t.Fatalf("error code %d %q %v", code, reason, err)
		}
		ua, _ := d.Get(AttrUnknownAttributes)
		if !bytes.Equal(ua, []byte{0x77, 0x77, 0x00, 0x03, 0x12, 0x34}) {
			t.Fatalf("UNKNOWN-ATTRIBUTES %x", ua)
		}
		want := netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if x, err := d.XORMappedAddress(); err != nil || x != want {
			t.Fatalf("XOR-MAPPED-ADDRESS %v %v", x, err)
		}
		if x, err := d.MappedAddress(); err != nil || x != want {
			t.Fatalf("MAPPED-ADDRESS %v %v", x, err)
		}
		if tb, err := d.ICEControlling(); err != nil || tb != 0x0102030405060708 {
			t.Fatalf("tie-breaker %#x %v", tb, err)
		}
		if !d.UseCandidate() {
			t.Fatal("USE-CANDIDATE lost")
		}
		if err := d.CheckIntegrity(key); err != nil {
			t.Fatal(err)
		}
		if err := d.CheckFingerprint(); err != nil {
			t.Fatal(err)
		}
		if _, err := d.CheckBindingResponse(d.TransactionID); err == nil {
			t.Fatal("error response accepted")
		} else if er := (*ErrorResponse)(nil); !errors.As(err, &er) || er.Code != 420 {
			t.Fatalf("error response: %v", err)
		}
	}
}

func TestMessageType(t *testing.T) {
	for _, tc := range []struct {
		t      uint16
		method uint16
		class  Class
	}{
		{TypeBindingRequest, MethodBinding, ClassRequest},
		{TypeBindingIndication, MethodBinding, ClassIndication},
		{TypeBindingSuccess, MethodBinding, ClassSuccess},
		{TypeBindingError, MethodBinding, ClassError},
		{0x0003, 0x003, ClassRequest}, // TURN Allocate
		{0x0113, 0x003, ClassError},
		{0x3FEF, 0xFFF, ClassSuccess},
	} {
		if MessageMethod(tc.t) != tc.method || MessageClass(tc.t) != tc.class || MessageType(tc.method, tc.class) != tc.t {
			t.Errorf("%#04x: method %#x class %d", tc.t, MessageMethod(tc.t), MessageClass(tc.t))
		}
	}
}

// header returns a 20-byte header with the given type and length.
func header(typ, length uint16) []byte {
	return []byte{byte(typ >> 8), byte(typ), byte(length >> 8), byte(length),
		0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
}

func TestDecodeErrors(t *testing.T) {
	good := captureFrame(t, 1)
	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	for _, tc := range []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrTruncated},
		{"short header", good[:19], ErrTruncated},
		{"truncated body", good[:len(good)-4], ErrBadLength},
		{"trailing bytes", append(append([]byte(nil), good...), 0, 0, 0, 0), ErrBadLength},
		{"length not multiple of 4", mod(func(b []byte) []byte { b[3]++; return b[:len(b)-3] }), ErrBadLength},
		{"wrong cookie", mod(func(b []byte) []byte { b[4] ^= 1; return b }), ErrNotSTUN},
		{"top bits", mod(func(b []byte) []byte { b[0] |= 0x80; return b }), ErrNotSTUN},
		{"attribute past end", append(header(1, 8), 0x80, 0x22, 0x00, 0x05, 'a', 'b', 'c', 'd'), ErrBadAttribute},
		{"padding past end", append(header(1, 8), 0x80, 0x22, 0x00, 0x03, 'a', 'b', 'c', 0, 0x00, 0x25, 0, 1), ErrBadLength},
		{"padded value", append(header(1, 12), 0x80, 0x22, 0x00, 0x05, 'a', 'b', 'c', 'd', 'e', 0, 0, 0), nil},
		{"padding bytes not zero", append(header(1, 8), 0x80, 0x22, 0x00, 0x01, 'a', ' ', ' ', ' '), nil},
		{"zero-length attribute", append(header(1, 4), 0x80, 0x22, 0x00, 0x00), nil},
		{"padding missing at the end", append(header(1, 8), 0x80, 0x22, 0x00, 0x05, 'a', 'b', 'c', 'd'), ErrBadAttribute},
		{"MI wrong size", append(header(1, 8), 0x00, 0x08, 0x00, 0x04, 1, 2, 3, 4), ErrBadAttributeValue},
		{"FINGERPRINT wrong size", append(header(1, 12), 0x80, 0x28, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8), ErrBadAttributeValue},
		{"after FINGERPRINT", append(header(1, 12), 0x80, 0x28, 0x00, 0x04, 1, 2, 3, 4, 0x00, 0x25, 0, 0), ErrAfterFingerprint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			err := m.Decode(tc.b)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if len(m.Attributes) != 0 || m.HasIntegrity() || m.HasFingerprint() {
				t.Fatal("failed decode left attributes")
			}
		})
	}

	// An attribute whose padding would run past the end of a 4-aligned message.
	b := append(header(1, 4), 0x80, 0x22, 0x00, 0x01)
	var m Message
	if err := m.Decode(b); !errors.Is(err, ErrBadAttribute) {
		t.Fatalf("value past end: %v", err)
	}
	b = append(header(1, 8), 0x80, 0x22, 0x00, 0x05, 'a', 'b', 'c', 'd')
	if err := m.Decode(b); !errors.Is(err, ErrBadAttribute) {
		t.Fatalf("padding past end: %v", err)
	}

	// Too many attributes.
	many := header(1, 4*(maxAttributes+1))
	for i := 0; i <= maxAttributes; i++ {
		many = append(many, 0x80, 0x22, 0, 0)
	}
	if err := m.Decode(many); !errors.Is(err, ErrTooManyAttributes) {
		t.Fatalf("too many: %v", err)
	}
}

func TestBadIntegrityAndFingerprint(t *testing.T) {
	good := captureFrame(t, 1)
	key := []byte(pionPwd)
	var m Message
	// Flip every byte covered by MI in turn: MI must fail (FINGERPRINT too).
	miOff := len(good) - 8 - 24
	for i := 0; i < miOff+24; i++ {
		if i == 2 || i == 3 || (i >= 4 && i < 8) {
			continue // length and cookie: decode errors instead
		}
		b := append([]byte(nil), good...)
		b[i] ^= 0x01
		if err := m.Decode(b); err != nil {
			continue // e.g. an attribute length changed
		}
		if err := m.CheckIntegrity(key); err == nil {
			t.Fatalf("byte %d flipped: integrity passed", i)
		}
		if err := m.CheckFingerprint(); err == nil {
			t.Fatalf("byte %d flipped: fingerprint passed", i)
		}
	}
	// Flip the FINGERPRINT value: MI still fine, FINGERPRINT fails.
	b := append([]byte(nil), good...)
	b[len(b)-1] ^= 0xff
	if err := m.Decode(b); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckIntegrity(key); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckFingerprint(); !errors.Is(err, ErrFingerprint) {
		t.Fatalf("fingerprint: %v", err)
	}
	// No MI at all.
	var bare Message
	bare.Reset()
	bare.SetType(TypeBindingRequest)
	if err := bare.CheckIntegrity(key); !errors.Is(err, ErrNoIntegrity) {
		t.Fatalf("no MI: %v", err)
	}
	if err := bare.CheckFingerprint(); !errors.Is(err, ErrNoFingerprint) {
		t.Fatalf("no FINGERPRINT: %v", err)
	}
	var zero Integrity
	if err := zero.Check(&m); !errors.Is(err, ErrNoKey) {
		t.Fatalf("zero Integrity: %v", err)
	}
}

func TestIgnoredAfterIntegrity(t *testing.T) {
	key := []byte("pw")
	var m Message
	m.Reset()
	m.SetType(TypeBindingRequest)
	m.AddUsername("a:b")
	m.AddIntegrity(key)
	m.Add(AttrPriority, []byte{0, 0, 0, 1}) // not covered by MI: must be ignored
	m.Add(0x7777, []byte{1})                // unknown required, after MI: ignored
	m.AddFingerprint()
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	d := mustDecode(t, m.Raw)
	if d.Has(AttrPriority) || len(d.UnknownComprehensionRequired(nil)) != 0 {
		t.Fatalf("attributes after MI kept: %04x", attrTypes(d))
	}
	if err := d.CheckIntegrity(key); err != nil {
		t.Fatal(err)
	}
	if err := d.CheckFingerprint(); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownComprehensionRequired(t *testing.T) {
	var m Message
	m.Reset()
	m.SetType(TypeBindingRequest)
	m.Add(0x0003, nil) // CHANGE-REQUEST (RFC 5780): not understood
	m.Add(0xC057, nil) // optional
	m.Add(0x001C, nil) // MESSAGE-INTEGRITY-SHA256: not supported
	m.AddPriority(1)
	d := mustDecode(t, m.Raw)
	if got := d.UnknownComprehensionRequired(nil); !equalTypes(got, []uint16{0x0003, 0x001C}) {
		t.Fatalf("unknown %04x", got)
	}
}

func TestBuilderErrors(t *testing.T) {
	var m Message
	m.AddPriority(1)
	if !errors.Is(m.Err(), ErrNotReset) {
		t.Fatalf("no Reset: %v", m.Err())
	}
	m.Reset()
	m.AddErrorCode(200, "")
	if !errors.Is(m.Err(), ErrBadErrorCode) {
		t.Fatalf("bad code: %v", m.Err())
	}
	m.Reset()
	m.AddUsername(string(make([]byte, 509)))
	if !errors.Is(m.Err(), ErrTooLong) {
		t.Fatalf("long username: %v", m.Err())
	}
	m.Reset()
	for i := 0; i < 100 && m.Err() == nil; i++ {
		m.Add(0x8001, make([]byte, 4000))
	}
	if !errors.Is(m.Err(), ErrTooLong) || len(m.Raw)-HeaderSize > maxMessageLen {
		t.Fatalf("oversized: %v, %d bytes", m.Err(), len(m.Raw))
	}
	m.Reset()
	m.AddFingerprint()
	m.AddPriority(1)
	if !errors.Is(m.Err(), ErrAfterFingerprint) {
		t.Fatalf("after fingerprint: %v", m.Err())
	}
	m.Reset()
	m.AddXORMappedAddress(netip.AddrPort{})
	if !errors.Is(m.Err(), ErrBadAttributeValue) {
		t.Fatalf("invalid address: %v", m.Err())
	}
}

func TestAttributeValueErrors(t *testing.T) {
	var m Message
	m.Reset()
	m.Add(AttrPriority, []byte{1, 2})
	m.Add(AttrICEControlling, []byte{1})
	m.Add(AttrErrorCode, []byte{0, 0, 2, 0})
	m.Add(AttrXORMappedAddress, []byte{0, 1, 0, 0, 1, 2, 3, 4, 5})
	m.Add(AttrMappedAddress, []byte{0, 3, 0, 0, 1, 2, 3, 4})
	d := mustDecode(t, m.Raw)
	if _, err := d.Priority(); !errors.Is(err, ErrBadAttributeValue) {
		t.Error("priority", err)
	}
	if _, err := d.ICEControlling(); !errors.Is(err, ErrBadAttributeValue) {
		t.Error("controlling", err)
	}
	if _, _, err := d.ErrorCode(); !errors.Is(err, ErrBadAttributeValue) {
		t.Error("error code", err)
	}
	if _, err := d.XORMappedAddress(); !errors.Is(err, ErrBadAttributeValue) {
		t.Error("xor-mapped", err)
	}
	if _, err := d.MappedAddress(); !errors.Is(err, ErrBadAttributeValue) {
		t.Error("mapped", err)
	}
}

// failReader fails.
type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

type countReader struct{ n byte }

func (c *countReader) Read(b []byte) (int, error) {
	for i := range b {
		c.n++
		b[i] = c.n
	}
	return len(b), nil
}

func TestBindingTransaction(t *testing.T) {
	var req Message
	if err := req.BuildBindingRequest(&countReader{}); err != nil {
		t.Fatal(err)
	}
	if req.TransactionID != [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} {
		t.Fatalf("transaction ID %x", req.TransactionID)
	}
	d := mustDecode(t, req.Raw)
	if d.Type != TypeBindingRequest || d.CheckFingerprint() != nil || len(d.Raw) != HeaderSize+8 {
		t.Fatalf("request %x", req.Raw)
	}
	if err := req.BuildBindingRequest(failReader{}); !errors.Is(err, ErrRandom) {
		t.Fatalf("rand failure: %v", err)
	}

	mapped := netip.MustParseAddrPort("198.51.100.7:40000")
	build := func(f func(r *Message)) *Message {
		var r Message
		r.Reset()
		r.SetType(TypeBindingSuccess)
		r.SetTransactionID(d.TransactionID)
		f(&r)
		return mustDecode(t, r.Raw)
	}
	id := d.TransactionID
	if ap, err := build(func(r *Message) { r.AddXORMappedAddress(mapped); r.AddFingerprint() }).CheckBindingResponse(id); err != nil || ap != mapped {
		t.Fatalf("xor: %v %v", ap, err)
	}
	if ap, err := build(func(r *Message) { r.AddMappedAddress(mapped) }).CheckBindingResponse(id); err != nil || ap != mapped {
		t.Fatalf("mapped fallback: %v %v", ap, err)
	}
	if _, err := build(func(r *Message) {}).CheckBindingResponse(id); !errors.Is(err, ErrNoMappedAddress) {
		t.Fatalf("no address: %v", err)
	}
	if _, err := build(func(r *Message) { r.AddMappedAddress(mapped) }).CheckBindingResponse([12]byte{}); !errors.Is(err, ErrTransactionID) {
		t.Fatalf("wrong ID: %v", err)
	}
	if _, err := build(func(r *Message) { r.SetType(TypeBindingRequest) }).CheckBindingResponse(id); !errors.Is(err, ErrUnexpectedType) {
		t.Fatalf("request as response: %v", err)
	}
	if _, err := build(func(r *Message) { r.Add(0x0003, nil); r.AddMappedAddress(mapped) }).CheckBindingResponse(id); !errors.Is(err, ErrUnknownRequired) {
		t.Fatalf("unknown required: %v", err)
	}
	bad := build(func(r *Message) { r.AddXORMappedAddress(mapped); r.AddFingerprint() })
	bad.Raw[len(bad.Raw)-1] ^= 1
	if _, err := bad.CheckBindingResponse(id); !errors.Is(err, ErrFingerprint) {
		t.Fatalf("bad fingerprint: %v", err)
	}
}

func TestDecodeReuseNoAlloc(t *testing.T) {
	frames := [][]byte{captureFrame(t, 1), captureFrame(t, 2), captureFrame(t, 5)}
	var m Message
	for _, f := range frames {
		if err := m.Decode(f); err != nil {
			t.Fatal(err)
		}
	}
	integ := NewIntegrity([]byte(pionPwd))
	allocs := testing.AllocsPerRun(100, func() {
		for _, f := range frames {
			if m.Decode(f) != nil || integ.Check(&m) != nil || m.CheckFingerprint() != nil {
				panic("decode failed")
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per decode+check", allocs)
	}

	var b Message
	b.Raw = make([]byte, 0, 256)
	b.Attributes = make([]Attribute, 0, 8)
	ap := netip.MustParseAddrPort("[2001:db8::1]:9")
	allocs = testing.AllocsPerRun(100, func() {
		b.Reset()
		b.SetType(TypeBindingSuccess)
		b.SetTransactionID(m.TransactionID)
		b.AddXORMappedAddress(ap)
		integ.AddTo(&b)
		b.AddFingerprint()
	})
	if allocs != 0 || b.Err() != nil {
		t.Fatalf("%v allocs per build (%v)", allocs, b.Err())
	}
}

func BenchmarkDecodeChromiumBinding(b *testing.B) {
	frame := captureFrame(b, 1)
	integ := NewIntegrity([]byte(pionPwd))
	var m Message
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if err := m.Decode(frame); err != nil {
			b.Fatal(err)
		}
		if err := integ.Check(&m); err != nil {
			b.Fatal(err)
		}
		if err := m.CheckFingerprint(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildSuccessResponse(b *testing.B) {
	integ := NewIntegrity([]byte(pionPwd))
	var m Message
	ap := netip.MustParseAddrPort("192.0.2.1:50000")
	b.ReportAllocs()
	for b.Loop() {
		m.Reset()
		m.SetType(TypeBindingSuccess)
		m.SetTransactionID([12]byte{1})
		m.AddXORMappedAddress(ap)
		integ.AddTo(&m)
		m.AddFingerprint()
	}
}
