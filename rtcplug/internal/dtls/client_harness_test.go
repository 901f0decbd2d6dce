package dtls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
)

// clientPipeResult is what one handshake between our client and a pion
// server produced.
type clientPipeResult struct {
	serverErr                                  error // pion's handshake
	clientErr                                  error // our client's last HandleDatagram error
	events                                     []Event
	clientEKM, serverEKM                       []byte
	serverSRTP                                 uint16
	clientRetx, clientResends                  int
	handshakeDone                              time.Time
	c2sTotal, c2sDropped, s2cTotal, s2cDropped int
	client                                     *Client
	server                                     *piondtls.Conn

	mu   sync.Mutex // guards the Client and events while the loop runs
	kick chan struct{}
}

func (r *clientPipeResult) eventsCopy() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *clientPipeResult) event(k EventKind) (Event, bool) {
	for _, ev := range r.eventsCopy() {
		if ev.Kind == k {
			return ev, true
		}
	}
	return Event{}, false
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
	return &piondtls.Config{
		Certificates:         []tls.Certificate{cert},
		ExtendedMasterSecret: piondtls.RequireExtendedMasterSecret,
		ClientAuth:           piondtls.RequireAnyClientCert,
		InsecureSkipVerify:   true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no client certificate")
			}
			if (&Certificate{DER: raw[0]}).Fingerprint() != clientFP {
				return errors.New("client fingerprint mismatch")
			}
			return nil
		},
		SRTPProtectionProfiles: []piondtls.SRTPProtectionProfile{
			piondtls.SRTP_AEAD_AES_128_GCM, piondtls.SRTP_AES128_CM_HMAC_SHA1_80,
		},
	}
}

// runClientPipe runs one handshake of our client against a pion server
// over the in-memory pipe. Call it inside synctest.Test.
func runClientPipe(t *testing.T, o clientPipeOptions) *clientPipeResult {
	t.Helper()
	if o.timeout == 0 {
		o.timeout = 3 * time.Minute
	}
	res := &clientPipeResult{kick: make(chan struct{})}
	cl, err := NewClient(o.clientCfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res.client = cl
	var inbox chan []byte
	sc := newMemConn(nil)
	sc.local, sc.peer = memAddr("server"), memAddr("client")
	sc.send = func(b []byte) {
		ok, delay := o.s2c.fate()
		if !ok {
			return
		}
		time.AfterFunc(delay, func() {
			select {
			case inbox <- b:
			default:
			}
		})
	}
	toServer := func(b []byte) {
		ok, delay := o.c2s.fate()
		if !ok {
			return
		}
		time.AfterFunc(delay, func() { sc.deliver(b) })
	}
	lp := startLoop(cl, &cl.conn, &res.mu, toServer, &res.events, res.kick)
	inbox = lp.inbox

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
