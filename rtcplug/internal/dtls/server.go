package dtls

import "net/netip"

// Server is the server side of one DTLS 1.2 association. It is driven like
// a Client (see the package documentation).
type Server struct {
	conn
	addr netip.AddrPort

	hello          partial // the ClientHello being reassembled before the cookie check
	helloSeq       uint16
	helloRecordSeq uint64 // highest record number among the hello's fragments
	clientFlight   uint16 // message_seq of the first message of the client's flight 5
	expect         uint8  // next handshake type in the client's flight 5
}

// NewServer returns a Server for the client at clientAddr (which the caller
// has authenticated with ICE). clientAddr is bound into the cookie.
func NewServer(cfg Config, clientAddr netip.AddrPort) (*Server, error) {
	c, err := cfg.normalize(true)
	if err != nil {
		return nil, err
	}
	s := &Server{addr: clientAddr}
	s.conn = newConn(c, s)
	return s, nil
}

// forgetRole drops the half-reassembled hello of a finished connection.
func (s *Server) forgetRole() { s.hello.reset() }
