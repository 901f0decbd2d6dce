package dtls

import "time"

// Client is the client side of one DTLS 1.2 association, for when the
// peer's SDP makes us the active end (a=setup:passive, RFC 5763 §5). It
// shares the record layer, key schedule and message codecs with Server and
// is driven the same way; NewClient queues the first ClientHello.
type Client struct {
	conn
	hello        clientHello // what we offer; the cookie is set after HelloVerifyRequest
	expect       uint8       // next message of the server's flight 4, or Finished
	certRequest  bool        // the server sent CertificateRequest
	serverPublic []byte      // from ServerKeyExchange
	finishedSeq  uint16      // message_seq of the server's Finished

	helloVerifies int // HelloVerifyRequests answered
}

// maxHelloVerifies bounds the cookie exchanges one handshake goes
// through, so a server (or someone on the path) cannot keep us in a loop.
const maxHelloVerifies = 4

// NewClient returns a Client whose first flight, a ClientHello, is already
// queued for Poll, with its retransmission timer armed at now.
// cfg.ExpectedFingerprints are the server's fingerprints from its SDP;
// CookieSecret is not used.
func NewClient(cfg Config, now time.Time) (*Client, error) {
	c, err := cfg.normalize(false)
	if err != nil {
		return nil, err
	}
	cl := &Client{}
	cl.conn = newConn(c, cl)
	cl.verified = true // we chose the address (ICE checked it); its alerts count
	if err := cl.randomBytes(cl.clientRandom[:]); err != nil {
		return nil, err
	}
	cl.hello = clientHello{
		version:            versionDTLS12,
		random:             cl.clientRandom[:],
		cipherSuites:       c.CipherSuites,
		compressionMethods: []byte{0},
		supportedGroups:    []uint16{groupX25519, groupP256},
		ecPointFormats:     []byte{0}, // uncompressed (RFC 8422 §5.1.2)
		hasECPointFormats:  true,
		signatureSchemes:   verifySchemes(),
		srtpProfiles:       profileIDs(c.SRTPProfiles),
		hasSRTP:            true,
		extendedMaster:     true,
		hasRenegotiation:   true, // empty: an initial handshake (RFC 5746 §3.4)
	}
	cl.state = awaitFlight4
	cl.expect = typeServerHello
	cl.sendHello(now)
	cl.progress(true, 0, 0, false)
	return cl, nil
}

// forgetRole drops what the client kept of the server's flight 4.
func (cl *Client) forgetRole() {
	cl.serverPublic = nil
	cl.hello.cookie = nil
}

// sendHello sends the ClientHello (again, with a cookie) as a new flight.
// The handshake hash starts over at the hello that carries the cookie
// (RFC 6347 §4.2.1).
func (cl *Client) sendHello(now time.Time) {
	cl.transcript = cl.transcript[:0]
	cl.flight = cl.flight[:0]
	cl.addMessage(typeClientHello, 0, cl.hello.append(nil))
	cl.startFlight(now, true)
}
