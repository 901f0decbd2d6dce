package dtls

import (
	"crypto"
	"crypto/hmac"
	"hash"
)

// Labels of the TLS 1.2 key schedule (RFC 5246 §8.1, §6.3, §7.4.9; RFC 7627
// §4).
const (
	labelMasterSecret         = "master secret"
	labelExtendedMasterSecret = "extended master secret"
	labelKeyExpansion         = "key expansion"
	labelClientFinished       = "client finished"
	labelServerFinished       = "server finished"
)

const (
	masterSecretLen = 48
	verifyDataLen   = 12
)

// prf is the TLS 1.2 PRF, P_hash(secret, label || seed) (RFC 5246 §5),
// writing len(out) bytes to out. seed may be given in parts, which are
// concatenated.
func prf(h crypto.Hash, out, secret []byte, label string, seed ...[]byte) {
	mac := hmac.New(h.New, secret)
	writeSeed := func(m hash.Hash) {
		m.Write([]byte(label))
		for _, s := range seed {
			m.Write(s)
		}
	}
	// A(1) = HMAC(secret, label || seed)
	writeSeed(mac)
	a := mac.Sum(nil)
	for len(out) > 0 {
		mac.Reset()
		mac.Write(a)
		writeSeed(mac)
		n := copy(out, mac.Sum(nil))
		out = out[n:]
		// A(i+1) = HMAC(secret, A(i))
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
}

// extendedMasterSecret derives the master secret from the session hash
// (RFC 7627 §4).
func extendedMasterSecret(h crypto.Hash, preMaster, sessionHash []byte) []byte {
	ms := make([]byte, masterSecretLen)
	prf(h, ms, preMaster, labelExtendedMasterSecret, sessionHash)
	return ms
}

// keyBlock holds the AEAD keys and fixed IVs (RFC 5246 §6.3; no MAC keys
// for AEAD suites).
type keyBlock struct {
	clientKey, serverKey, clientIV, serverIV []byte
}

func deriveKeys(s cipherSuite, master, clientRandom, serverRandom []byte) keyBlock {
	b := make([]byte, 2*s.keyLen+2*s.ivLen)
	prf(s.hash, b, master, labelKeyExpansion, serverRandom, clientRandom)
	var k keyBlock
	k.clientKey, b = b[:s.keyLen], b[s.keyLen:]
	k.serverKey, b = b[:s.keyLen], b[s.keyLen:]
	k.clientIV, b = b[:s.ivLen], b[s.ivLen:]
	k.serverIV = b[:s.ivLen]
	return k
}

// finishedVerifyData is PRF(master_secret, finished_label,
// Hash(handshake_messages))[0..11] (RFC 5246 §7.4.9).
func finishedVerifyData(h crypto.Hash, master []byte, label string, transcript []byte) []byte {
	d := h.New()
	d.Write(transcript)
	out := make([]byte, verifyDataLen)
	prf(h, out, master, label, d.Sum(nil))
	return out
}
