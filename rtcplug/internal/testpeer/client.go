package testpeer

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/dtls"
	"github.com/nutsbolts/webrtc/rtcplug/internal/sdp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/srtp"
	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

// CheckInterval is how often an unanswered ICE check is repeated (RFC 8445
// §14.3 leaves the retransmission timer to the agent; a fixed one keeps
// runs easy to read).
const CheckInterval = 100 * time.Millisecond

// maxChecks bounds the repeats of an unanswered check.
const maxChecks = 50

// exporterLabel is RFC 5764 §4.2's.
const exporterLabel = "EXTRACTOR-dtls_srtp"

// ClientConfig describes the client that faces the server's peer.
type ClientConfig struct {
	// Addr is where the client sends from; Server is the peer's address.
	Addr, Server netip.AddrPort
	// ServerUfrag and ServerPwd are the peer's ICE credentials (from the
	// offer); Ufrag and Pwd the client's own (in its answer).
	ServerUfrag, ServerPwd string
	Ufrag, Pwd             string
	// ServerFingerprint is the sha-256 fingerprint of the peer's certificate.
	ServerFingerprint string
	// Passive makes the client answer a=setup:passive: it runs the DTLS
	// server and the peer the DTLS client. Otherwise it is active (the DTLS
	// client), as browsers are.
	Passive bool
	// NoNomination sends checks without USE-CANDIDATE (a controlling agent
	// that never nominates); by default every check nominates.
	NoNomination bool
	// SRTPProfiles are offered (client) or accepted (server) in this order;
	// nil means the dtls package's defaults.
	SRTPProfiles []srtp.Profile
	// KeepAlive, when positive, repeats a check this often once connected
	// (RFC 7675 consent freshness); zero sends none.
	KeepAlive time.Duration
	// Rand feeds the certificate, DTLS and transaction ids; nil means
	// crypto/rand.
	Rand io.Reader
	// Certificate is the client's identity; nil means a fresh one. Many
	// clients may share one: the fingerprint only has to match what each
	// put in its description.
	Certificate *dtls.Certificate
}

// Client is the remote party of a WebRTC connection to the server's peer:
// it sends ICE checks, runs its DTLS role, and once the handshake is done
// holds the SRTP contexts that a real sender would derive.
type Client struct {
	cfg   ClientConfig
	cert  *dtls.Certificate
	dtls  dtls.Endpoint
	from  netip.AddrPort
	addrs []netip.AddrPort
	out   []Datagram
	msg   stun.Message

	txID     [12]byte
	checkDue time.Time
	checks   int
	aliveDue time.Time

	// Profile and the SRTP contexts, set when the handshake completes. Out
	// protects what the client sends, In opens what the peer sends.
	Profile srtp.Profile
	Out, In *srtp.Context
	// Connected is set at HandshakeComplete; Closed when the peer sent
	// close_notify; Err when the DTLS connection failed.
	Connected, Closed bool
	Err               error
	// Responses counts authenticated Binding success responses; RTCP the
	// peer's SRTCP packets that decrypted, BadRTCP those that did not.
	Responses, RTCP, BadRTCP int
	// Last is the plaintext of the last SRTCP packet received.
	Last []byte
}

// NewClient creates the client with a fresh certificate. It sends nothing
// before Start.
func NewClient(cfg ClientConfig, now time.Time) (*Client, error) {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Ufrag == "" {
		cfg.Ufrag, cfg.Pwd = "cliufrag", "clientpasswordclientpassword"
	}
	cert := cfg.Certificate
	if cert == nil {
		var err error
		if cert, err = dtls.GenerateCertificate(cfg.Rand, now); err != nil {
			return nil, err
		}
	}
	c := &Client{cfg: cfg, cert: cert, from: cfg.Addr, addrs: []netip.AddrPort{cfg.Addr}}
	if cfg.Passive {
		fp, err := parseFingerprint(cfg.ServerFingerprint)
		if err != nil {
			return nil, err
		}
		s, err := dtls.NewServer(dtls.Config{Certificate: cert, Rand: cfg.Rand, ExpectedFingerprints: []dtls.Fingerprint{fp}, SRTPProfiles: cfg.SRTPProfiles}, cfg.Server)
		if err != nil {
			return nil, err
		}
		c.dtls = s
	}
	return c, nil
}

// Fingerprint is the sha-256 fingerprint of the client's certificate.
func (c *Client) Fingerprint() string { return c.cert.Fingerprint() }

// Answer is the part of the client's SDP answer the peer needs for ICE and
// DTLS: credentials, a=setup and the fingerprint. The caller adds the
// payload types.
func (c *Client) Answer() sdp.Remote {
	setup := "active"
	if c.cfg.Passive {
		setup = "passive"
	}
	return sdp.Remote{
		ICEUfrag: c.cfg.Ufrag, ICEPwd: c.cfg.Pwd, Setup: setup,
		Fingerprints: []sdp.Fingerprint{{Algorithm: "sha-256", Value: c.Fingerprint()}},
	}
}

// Start sends the first ICE check at now.
func (c *Client) Start(now time.Time) {
	c.sendCheck(now, !c.cfg.NoNomination)
}

// MoveTo makes the client send from a (a new address after a NAT
// rebinding, or a foreign address in a test); it receives on every address
// it ever used.
func (c *Client) MoveTo(a netip.AddrPort) {
	c.from = a
	for _, x := range c.addrs {
		if x == a {
			return
		}
	}
	c.addrs = append(c.addrs, a)
}

// From is the address the client sends from.
func (c *Client) From() netip.AddrPort { return c.from }

// Check sends one ICE check now (a consent refresh, or a check from a new
// address after MoveTo).
func (c *Client) Check(now time.Time, nominate bool) { c.sendCheck(now, nominate) }

// Send queues b to the peer, as is (media the test built, or garbage).
func (c *Client) Send(b []byte) {
	c.out = append(c.out, Datagram{From: c.from, To: c.cfg.Server, Data: bytes.Clone(b)})
}

// CheckRequest builds a Binding request as the controlling agent sends it
// (RFC 8445 §7.1.1-7.1.2), integrity-protected with pwd.
func CheckRequest(rnd io.Reader, serverUfrag, clientUfrag, pwd string, nominate bool) ([]byte, [12]byte, error) {
	var m stun.Message
	m.Reset()
	m.SetType(stun.TypeBindingRequest)
	if err := m.NewTransactionID(rnd); err != nil {
		return nil, [12]byte{}, err
	}
	m.AddUsername(serverUfrag + ":" + clientUfrag)
	m.AddPriority(0x6e7f1eff)
	m.AddICEControlling(42)
	if nominate {
		m.AddUseCandidate()
	}
	m.AddIntegrity([]byte(pwd))
	m.AddFingerprint()
	if err := m.Err(); err != nil {
		return nil, [12]byte{}, err
	}
	return bytes.Clone(m.Raw), m.TransactionID, nil
}

func (c *Client) sendCheck(now time.Time, nominate bool) {
	b, id, err := CheckRequest(c.cfg.Rand, c.cfg.ServerUfrag, c.cfg.Ufrag, c.cfg.ServerPwd, nominate)
	if err != nil {
		c.Err = err
		return
	}
	c.txID = id
	c.checks++
	if c.Responses == 0 && c.checks < maxChecks {
		c.checkDue = now.Add(CheckInterval)
	}
	c.Send(b)
}

// Owns reports whether a is one of the client's addresses.
func (c *Client) Owns(a netip.AddrPort) bool {
	for _, x := range c.addrs {
		if x == a {
			return true
		}
	}
	return false
}

// HandleDatagram takes one datagram the peer sent (RFC 7983 demultiplexing
// by the first byte).
func (c *Client) HandleDatagram(now time.Time, from, _ netip.AddrPort, b []byte) {
	if from != c.cfg.Server || len(b) == 0 {
		return
	}
	switch {
	case b[0] < 4:
		c.onSTUN(now, b)
	case b[0] >= 20 && b[0] <= 63:
		if c.dtls == nil {
			return
		}
		c.dtls.Handle(now, from, b)
		c.drainDTLS(now)
	case b[0] >= 128 && b[0] <= 191:
		if c.In == nil || len(b) < 2 || b[1] < 192 || b[1] > 223 {
			return
		}
		plain, err := c.In.DecryptRTCP(nil, b)
		if err != nil {
			c.BadRTCP++
			return
		}
		c.RTCP++
		c.Last = plain
	}
}

func (c *Client) onSTUN(now time.Time, b []byte) {
	if c.msg.Decode(b) != nil || c.msg.Class() != stun.ClassSuccess {
		return
	}
	// RFC 8445 §7.2.5.2: the response is checked with the password the
	// request was protected with: the peer's.
	if _, err := c.msg.CheckBindingResponse(c.txID); err != nil || c.msg.CheckIntegrity([]byte(c.cfg.ServerPwd)) != nil {
		return
	}
	c.Responses++
	c.checkDue = time.Time{}
	if c.cfg.KeepAlive > 0 {
		c.aliveDue = now.Add(c.cfg.KeepAlive)
	}
	if !c.cfg.Passive && c.dtls == nil {
		fp, err := parseFingerprint(c.cfg.ServerFingerprint)
		if err != nil {
			c.Err = err
			return
		}
		cl, err := dtls.NewClient(dtls.Config{Certificate: c.cert, Rand: c.cfg.Rand, ExpectedFingerprints: []dtls.Fingerprint{fp}, SRTPProfiles: c.cfg.SRTPProfiles}, now)
		if err != nil {
			c.Err = err
			return
		}
		c.dtls = cl
		c.drainDTLS(now)
	}
}

func (c *Client) drainDTLS(now time.Time) {
	for ev, ok := c.dtls.Poll(); ok; ev, ok = c.dtls.Poll() {
		switch ev.Kind {
		case dtls.Transmit:
			c.Send(ev.Data)
		case dtls.HandshakeComplete:
			if err := c.keys(ev.SRTPProfile); err != nil {
				c.Err = err
				return
			}
			c.Connected = true
		case dtls.Closed:
			c.Closed = true
		case dtls.Failed:
			if c.Err == nil {
				c.Err = ev.Err
			}
		}
	}
}

// keys derives the SRTP contexts (RFC 5764 §4.2): the client writes with
// the first half of the exported material, the server with the second.
func (c *Client) keys(prof srtp.Profile) error {
	km, err := c.dtls.ExportKeyingMaterial(exporterLabel, nil, srtp.KeyingMaterialLen(prof))
	if err != nil {
		return fmt.Errorf("testpeer: exporter: %w", err)
	}
	ck, cs, sk, ss, err := srtp.SplitKeyingMaterial(prof, km)
	if err != nil {
		return err
	}
	if c.cfg.Passive { // we are the DTLS server
		ck, cs, sk, ss = sk, ss, ck, cs
	}
	if c.Out, err = srtp.NewContext(prof, ck, cs); err != nil {
		return err
	}
	if c.In, err = srtp.NewContext(prof, sk, ss); err != nil {
		return err
	}
	c.Profile = prof
	return nil
}

// Deadline is when HandleTimeout is next due: a check to repeat, a
// keep-alive, or a DTLS retransmission.
func (c *Client) Deadline() time.Time {
	var t time.Time
	add := func(x time.Time) {
		if !x.IsZero() && (t.IsZero() || x.Before(t)) {
			t = x
		}
	}
	add(c.checkDue)
	add(c.aliveDue)
	if c.dtls != nil && !c.Connected {
		add(c.dtls.Deadline())
	}
	return t
}

// HandleTimeout repeats an unanswered check, sends a keep-alive, or lets
// DTLS retransmit.
func (c *Client) HandleTimeout(now time.Time) {
	if !c.checkDue.IsZero() && !now.Before(c.checkDue) {
		c.checkDue = time.Time{}
		c.sendCheck(now, !c.cfg.NoNomination)
	}
	if !c.aliveDue.IsZero() && !now.Before(c.aliveDue) {
		c.aliveDue = now.Add(c.cfg.KeepAlive)
		c.sendCheck(now, false)
	}
	if c.dtls != nil && !c.Connected {
		if d := c.dtls.Deadline(); !d.IsZero() && !now.Before(d) {
			c.dtls.HandleTimeout(now)
			c.drainDTLS(now)
		}
	}
}

// Close ends the DTLS connection with a close_notify alert (RFC 5246
// §7.2.1), queued for Drain, and stops the keep-alives.
func (c *Client) Close(now time.Time) {
	c.StopKeepAlive()
	if c.dtls != nil {
		c.dtls.Close()
		c.drainDTLS(now)
	}
}

// StopKeepAlive ends the consent checks (the client went quiet).
func (c *Client) StopKeepAlive() { c.cfg.KeepAlive, c.aliveDue = 0, time.Time{} }

// Drain passes on the queued datagrams.
func (c *Client) Drain(send func(from, to netip.AddrPort, b []byte)) {
	for _, d := range c.out {
		send(d.From, d.To, d.Data)
	}
	c.out = c.out[:0]
}

// parseFingerprint reads the server's SHA-256 fingerprint as the glue does:
// sdp decodes the hex, dtls picks the hash.
func parseFingerprint(value string) (dtls.Fingerprint, error) {
	d, err := sdp.Fingerprint{Algorithm: "sha-256", Value: value}.Digest()
	if err != nil {
		return dtls.Fingerprint{}, err
	}
	return dtls.NewFingerprint("sha-256", d)
}
