package dtls

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
)

// clientPipeResult is what one handshake between our client and a pion
// server produced.
type clientPipeResult struct {
	serverErr                                  error // pion's handshake
	clientErr                                  error // our client's last handleDatagram error
	clientEKM, serverEKM                       []byte
	serverSRTP                                 uint16
	clientRetx, clientResends                  int
	handshakeDone                              time.Time
	c2sTotal, c2sDropped, s2cTotal, s2cDropped int
	client                                     *Client
	server                                     *piondtls.Conn

	eventLog // the client's events; its lock also guards the Client while the loop runs
}

type clientPipeOptions struct {
	serverCfg *piondtls.Config
	clientCfg Config
	c2s, s2c  *lossy
	ekmLen    int
	timeout   time.Duration
}

// basePionServerConfig is a pion server as pion/webrtc configures one when
// it takes the DTLS server role: it asks for the client's certificate and
// checks it by fingerprint.
func basePionServerConfig(cert tls.Certificate, clientFP string) *piondtls.Config {
	c := basePionConfig(cert, clientFP)
	c.ClientAuth = piondtls.RequireAnyClientCert
	return c
}

// runClientPipe runs one handshake of our client against a pion server
// over the in-memory pipe. Call it inside synctest.Test.
func runClientPipe(t *testing.T, o clientPipeOptions) *clientPipeResult {
	t.Helper()
	if o.timeout == 0 {
		o.timeout = 3 * time.Minute
	}
	res := &clientPipeResult{eventLog: eventLog{kick: make(chan struct{})}}
	cl, err := NewClient(o.clientCfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res.client = cl
	var lp *loop
	sc := newMemConn(o.s2c.link(func(b []byte) { lp.deliver(b) }))
	sc.local, sc.peer = memAddr("server"), memAddr("client")
	lp = startLoop(cl, &cl.conn, &res.mu, o.c2s.link(sc.deliver), &res.events, res.kick)

	server, err := piondtls.Server(sc, sc.peer, o.serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	res.server = server
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	res.serverErr = server.HandshakeContext(ctx)
	cancel()
	// Our client completes when pion's Finished arrives, or after resending
	// flight 5 if that was lost: wait for it (fake time).
	for range 1200 {
		if _, ok := res.event(HandshakeComplete); ok {
			break
		}
		if _, ok := res.event(Failed); ok {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res.serverErr == nil && o.ekmLen > 0 {
		st, _ := server.ConnectionState()
		res.serverEKM, err = st.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, o.ekmLen)
		if err != nil {
			t.Errorf("server export: %v", err)
		}
		if p, ok := server.SelectedSRTPProtectionProfile(); ok {
			res.serverSRTP = uint16(p)
		}
	}
	res.mu.Lock()
	if o.ekmLen > 0 {
		res.clientEKM, _ = cl.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, o.ekmLen)
	}
	res.mu.Unlock()
	_ = server.Close()
	time.Sleep(100 * time.Millisecond)
	lp.close()
	res.clientRetx, res.clientErr, res.clientResends, res.handshakeDone = lp.retx, lp.err, cl.resends, lp.completed
	if o.c2s != nil {
		res.c2sTotal, res.c2sDropped = o.c2s.total, o.c2s.dropped
	}
	if o.s2c != nil {
		res.s2cTotal, res.s2cDropped = o.s2c.total, o.s2c.dropped
	}
	return res
}
