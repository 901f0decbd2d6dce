package srtp

import (
	"bytes"
	"crypto/aes"
	"encoding/binary"
	"testing"
)

// Known-answer tests from testdata/vectors/rfc3711-srtp.txt (RFC 3711 App.
// B.2, B.3, the libsrtp srtp_validate packets) and rfc7714-srtp-gcm.txt
// (RFC 7714 §16, §17, the libsrtp srtp_validate_gcm packets).

func TestRFC3711B2Keystream(t *testing.T) {
	v := loadVectors(t, "rfc3711-srtp.txt")["rfc3711-B.2"]
	block, err := aes.NewCipher(v.get(t, "session-key"))
	if err != nil {
		t.Fatal(err)
	}
	var iv [aes.BlockSize]byte
	copy(iv[:], v.get(t, "session-salt"))
	if !bytes.Equal(iv[:], v.get(t, "iv")) {
		t.Fatalf("iv %x", iv)
	}
	// The segment of 0xFF02 blocks, produced in one call through the
	// chunked keystream buffer.
	ks := make([]byte, 0xFF02*aes.BlockSize)
	var scratch [keystreamLen]byte
	ctrXOR(block, &iv, ks, ks, scratch[:])
	for _, j := range []int{0, 1, 2, 0xFEFF, 0xFF00, 0xFF01} {
		name := "keystream[0x" + hex4(j) + "]"
		if got, want := ks[j*16:j*16+16], v.get(t, name); !bytes.Equal(got, want) {
			t.Errorf("%s: got %x want %x", name, got, want)
		}
	}
}

func hex4(j int) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[j>>12&15], digits[j>>8&15], digits[j>>4&15], digits[j&15]})
}

func TestRFC3711B3KeyDerivation(t *testing.T) {
	vs := loadVectors(t, "rfc3711-srtp.txt")
	v, vr := vs["rfc3711-B.3"], vs["rfc3711-B.3-srtcp"]
	key, salt := v.get(t, "master-key"), v.get(t, "master-salt")
	master, _ := aes.NewCipher(key)
	check := func(label byte, n int, want []byte) {
		t.Helper()
		if got := deriveKey(master, salt, label, n); !bytes.Equal(got, want) {
			t.Errorf("label %d: got %x want %x", label, got, want)
		}
	}
	check(labelRTPEncryption, 16, v.get(t, "cipher-key"))
	check(labelRTPSalt, 14, v.get(t, "cipher-salt"))
	check(labelRTPAuth, 94, v.get(t, "auth-key")) // all 94 printed octets
	check(labelRTPAuth, 20, v.get(t, "auth-key-20"))
	check(labelRTCPEncryption, 16, vr.get(t, "srtcp-cipher-key"))
	check(labelRTCPSalt, 14, vr.get(t, "srtcp-salt"))
	check(labelRTCPAuth, 20, vr.get(t, "srtcp-auth-key-20"))
}

// setSendRTCPIndex makes the next SRTCP packet for ssrc use index.
func (c *Context) setSendRTCPIndex(ssrc uint32, index uint64) {
	st := c.sendRTCP.find(ssrc)
	if st == nil {
		st = c.sendRTCP.add(ssrc)
	}
	st.w.top = index
}

func TestLibsrtpValidate(t *testing.T) {
	v := loadVectors(t, "rfc3711-srtp.txt")["libsrtp-srtp_validate"]
	key, salt := v.get(t, "master-key"), v.get(t, "master-salt")
	plain := v.get(t, "rtp-plaintext")
	for _, tc := range []struct {
		p    Profile
		want []byte
	}{
		{AES128CMHMACSHA1_80, v.get(t, "srtp-packet")},
		{AES128CMHMACSHA1_32, v.get(t, "srtp-packet-sha1-32")},
	} {
		enc, _ := NewContext(tc.p, key, salt)
		got, err := enc.EncryptRTP(nil, plain, nil)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Fatalf("%v encrypt: %x %v\nwant %x", tc.p, got, err, tc.want)
		}
		dec, _ := NewContext(tc.p, key, salt)
		got, err = dec.DecryptRTP(nil, tc.want, nil)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%v decrypt: %x %v", tc.p, got, err)
		}
		// SRTCP: the same packet for both profiles (80-bit SRTCP tag).
		rtcpPlain := v.get(t, "rtcp-plaintext")
		wantRTCP := v.get(t, "srtcp-packet")
		enc.setSendRTCPIndex(binary.BigEndian.Uint32(rtcpPlain[4:]), 1)
		got, err = enc.EncryptRTCP(nil, rtcpPlain)
		if err != nil || !bytes.Equal(got, wantRTCP) {
			t.Fatalf("%v encrypt rtcp: %x %v\nwant %x", tc.p, got, err, wantRTCP)
		}
		got, err = dec.DecryptRTCP(nil, wantRTCP)
		if err != nil || !bytes.Equal(got, rtcpPlain) {
			t.Fatalf("%v decrypt rtcp: %x %v", tc.p, got, err)
		}
	}
	// The IV of the RTP packet.
	c, _ := NewContext(AES128CMHMACSHA1_80, key, salt)
	c.rtpIV(&c.rtp.salt, 0xcafebabe, 0x1234)
	if !bytes.Equal(c.iv[:], v.get(t, "rtp-iv")) {
		t.Fatalf("rtp iv %x", c.iv)
	}
	c.rtpIV(&c.rtcp.salt, 0xcafebabe, 1)
	if !bytes.Equal(c.iv[:], v.get(t, "rtcp-iv")) {
		t.Fatalf("rtcp iv %x", c.iv)
	}
}

// rfc7714Context uses the §16/§17 key and salt directly as session keys for
// both SRTP and SRTCP (those vectors skip the key derivation).
func rfc7714Context(t *testing.T, p Profile, key, salt []byte) *Context {
	t.Helper()
	k := sessionKeys{key: key, salt: salt}
	c, err := newContextFromSessionKeys(p, k, k)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRFC7714SRTP(t *testing.T) {
	vs := loadVectors(t, "rfc7714-srtp-gcm.txt")
	common := vs["rfc7714-common"]
	salt := common.get(t, "salt")
	pkt := common.get(t, "rtp-packet")
	payload := common.get(t, "rtp-payload")
	for _, tc := range []struct {
		p       Profile
		section string
	}{{AEADAES128GCM, "rfc7714-16.1."}, {AEADAES256GCM, "rfc7714-16.2."}} {
		enc1, dec2 := vs[tc.section+"1"], vs[tc.section+"2"]
		tag3, ver4 := vs[tc.section+"3"], vs[tc.section+"4"]
		key := enc1.get(t, "key")

		// x.1 encryption, with the IV checked on the way.
		c := rfc7714Context(t, tc.p, key, salt)
		c.gcmNonce(&c.rtp.salt, 0x5501a0b2, 0xf17b)
		if !bytes.Equal(c.nonce[:], enc1.get(t, "iv")) {
			t.Fatalf("%s iv %x", tc.section, c.nonce)
		}
		got, err := c.EncryptRTP(nil, pkt, nil)
		if err != nil || !bytes.Equal(got, enc1.get(t, "output-packet")) {
			t.Fatalf("%s1: %x %v", tc.section, got, err)
		}
		// x.2 decryption.
		c = rfc7714Context(t, tc.p, key, salt)
		got, err = c.DecryptRTP(nil, dec2.get(t, "input-packet"), nil)
		if err != nil || !bytes.Equal(got[12:], dec2.get(t, "output")) || !bytes.Equal(got[12:], payload) {
			t.Fatalf("%s2: %x %v", tc.section, got, err)
		}
		// x.3 authentication tagging only.
		c = rfc7714Context(t, tc.p, key, salt)
		c.rtpAuthOnly = true
		got, err = c.EncryptRTP(nil, pkt, nil)
		if err != nil || !bytes.Equal(got, tag3.get(t, "output-packet")) {
			t.Fatalf("%s3: %x %v", tc.section, got, err)
		}
		// x.4 tag verification, and a flipped bit fails it.
		c = rfc7714Context(t, tc.p, key, salt)
		c.rtpAuthOnly = true
		in := ver4.get(t, "input-packet")
		got, err = c.DecryptRTP(nil, in, nil)
		if err != nil || !bytes.Equal(got, pkt) {
			t.Fatalf("%s4: %x %v", tc.section, got, err)
		}
		bad := bytes.Clone(in)
		bad[20] ^= 1
		c = rfc7714Context(t, tc.p, key, salt)
		c.rtpAuthOnly = true
		if _, err := c.DecryptRTP(nil, bad, nil); err != ErrAuthFailed {
			t.Fatalf("%s4 tampered: %v", tc.section, err)
		}
	}
}

func TestRFC7714SRTCP(t *testing.T) {
	vs := loadVectors(t, "rfc7714-srtp-gcm.txt")
	common := vs["rfc7714-common"]
	salt := common.get(t, "salt")
	rtcpPkt := common.get(t, "rtcp-packet")
	for _, tc := range []struct {
		id       string
		p        Profile
		authOnly bool
	}{
		{"rfc7714-17.1", AEADAES128GCM, false},
		{"rfc7714-17.2", AEADAES256GCM, false},
		{"rfc7714-17.3", AEADAES128GCM, true},
		{"rfc7714-17.4", AEADAES256GCM, true},
	} {
		v := vs[tc.id]
		key := v.get(t, "key")
		want := v.get(t, "output-packet")
		if !bytes.Equal(v.get(t, "plaintext"), rtcpPkt[8:]) && !tc.authOnly {
			t.Fatalf("%s: vector plaintext differs from the common packet", tc.id)
		}
		c := rfc7714Context(t, tc.p, key, salt)
		c.rtcpAuthOnly = tc.authOnly
		c.gcmNonce(&c.rtcp.salt, 0x4d617273, 0x5d4)
		if !bytes.Equal(c.nonce[:], v.get(t, "iv")) {
			t.Fatalf("%s iv %x", tc.id, c.nonce)
		}
		c.setSendRTCPIndex(0x4d617273, 0x5d4)
		got, err := c.EncryptRTCP(nil, rtcpPkt)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s encrypt: %x %v\nwant %x", tc.id, got, err, want)
		}
		// The receiver needs no knob: the E flag says what to do.
		d := rfc7714Context(t, tc.p, key, salt)
		got, err = d.DecryptRTCP(nil, want)
		if err != nil || !bytes.Equal(got, rtcpPkt) {
			t.Fatalf("%s decrypt: %x %v", tc.id, got, err)
		}
		if _, err := d.DecryptRTCP(nil, want); err != ErrReplayed {
			t.Fatalf("%s replay: %v", tc.id, err)
		}
		bad := bytes.Clone(want)
		bad[len(bad)-1] ^= 0x02 // index 0x5d6: wrong nonce and AAD
		d = rfc7714Context(t, tc.p, key, salt)
		if _, err := d.DecryptRTCP(nil, bad); err != ErrAuthFailed {
			t.Fatalf("%s tampered: %v", tc.id, err)
		}
	}
}

func TestLibsrtpValidateGCM(t *testing.T) {
	v := loadVectors(t, "rfc7714-srtp-gcm.txt")["libsrtp-srtp_validate_gcm"]
	key, salt := v.get(t, "master-key"), v.get(t, "master-salt")
	master, _ := aes.NewCipher(key)
	for _, kc := range []struct {
		label byte
		n     int
		name  string
	}{
		{labelRTPEncryption, 16, "srtp-session-key"},
		{labelRTPSalt, 12, "srtp-session-salt"},
		{labelRTCPEncryption, 16, "srtcp-session-key"},
		{labelRTCPSalt, 12, "srtcp-session-salt"},
	} {
		if got := deriveKey(master, salt, kc.label, kc.n); !bytes.Equal(got, v.get(t, kc.name)) {
			t.Errorf("%s: %x", kc.name, got)
		}
	}
	enc, err := NewContext(AEADAES128GCM, key, salt)
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := NewContext(AEADAES128GCM, key, salt)
	plain, want := v.get(t, "rtp-plaintext"), v.get(t, "srtp-packet")
	if got, err := enc.EncryptRTP(nil, plain, nil); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("rtp encrypt %x %v", got, err)
	}
	if got, err := dec.DecryptRTP(nil, want, nil); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("rtp decrypt %x %v", got, err)
	}
	rplain, rwant := v.get(t, "rtcp-plaintext"), v.get(t, "srtcp-packet")
	enc.setSendRTCPIndex(0xcafebabe, 1)
	if got, err := enc.EncryptRTCP(nil, rplain); err != nil || !bytes.Equal(got, rwant) {
		t.Fatalf("rtcp encrypt %x %v", got, err)
	}
	if got, err := dec.DecryptRTCP(nil, rwant); err != nil || !bytes.Equal(got, rplain) {
		t.Fatalf("rtcp decrypt %x %v", got, err)
	}
}
