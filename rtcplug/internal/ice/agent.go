// Package ice is the ICE-lite side of connectivity checks (RFC 8445 §2.5):
// one Agent per peer answers the peer's Binding requests and says which
// remote addresses have proven knowledge of the password and which were
// nominated. The peer keeps the list of those addresses and the consent
// clock (RFC 7675); the agent keeps only its transaction cache.
//
// A lite agent never sends checks and is always the controlled agent when
// its peer is a full agent, which every browser is. It has one host
// candidate per local address, so a candidate pair is identified here by the
// remote address alone.
//
// The Agent does no I/O and reads no clock: the caller passes the time and
// sends what HandleBinding returns. It is not safe for concurrent use.
package ice

import (
	"bytes"
	"errors"
	"net/netip"
	"time"

	"github.com/nutsbolts/webrtc/rtcplug/internal/stun"
)

// ConsentTimeout is how long consent lasts after the last authenticated
// activity (RFC 7675 §5.1: 30 seconds). The peer keeps the clock: a lite
// agent sends no checks, so what refreshes consent is the peer's
// authenticated media, which only the peer sees.
const ConsentTimeout = 30 * time.Second

// maxUnknown bounds the types echoed in UNKNOWN-ATTRIBUTES.
const maxUnknown = 8

// maxTransactions bounds the answered transactions remembered to recognise
// retransmissions and replays. A browser sends a consent check every few
// seconds (RFC 7675 §5.1), so this covers a couple of minutes of its checks.
const maxTransactions = 32

// maxCachedResponse fits a success response with an IPv6 XOR-MAPPED-ADDRESS,
// MESSAGE-INTEGRITY and FINGERPRINT (76 bytes).
const maxCachedResponse = 96

// responseBufSize is the initial capacity of the reused response buffer: a
// success response with an IPv6 XOR-MAPPED-ADDRESS, MI and FINGERPRINT is
// 80 bytes.
const responseBufSize = 128

// STUN error codes an agent answers with (RFC 8489 §14.8, RFC 8445 §7.3.1.1).
const (
	CodeBadRequest       = 400
	CodeUnauthorized     = 401
	CodeUnknownAttribute = 420
	CodeRoleConflict     = 487
)

// Why a request was not accepted; Result.Err carries one of these.
var (
	ErrNotRequest     = errors.New("ice: not a Binding request")
	ErrNoFingerprint  = errors.New("ice: missing or bad FINGERPRINT")
	ErrNoCredentials  = errors.New("ice: request without USERNAME or MESSAGE-INTEGRITY")
	ErrUsername       = errors.New("ice: USERNAME does not name this agent")
	ErrIntegrity      = errors.New("ice: MESSAGE-INTEGRITY does not verify")
	ErrUnknownAttr    = errors.New("ice: unknown comprehension-required attribute")
	ErrRoleConflict   = errors.New("ice: peer claims the controlled role")
	ErrBadRequest     = errors.New("ice: missing or malformed PRIORITY")
	ErrResponseFailed = errors.New("ice: could not build the response")
)

// Result says what HandleBinding did with a request.
type Result struct {
	// Authenticated is set when the request verified and was answered with
	// a success response: its source address proved knowledge of the
	// password, so the caller may route that address to this peer.
	Authenticated bool
	// Nominated is set when the request carried USE-CANDIDATE: the caller
	// selects its source (RFC 8445 §8.1.1; a later nomination on another
	// pair replaces it: a controlling agent with regular nomination
	// nominates again only to move the session). The agent keeps no list of
	// addresses: the peer keeps the one list of authenticated addresses.
	Nominated bool
	// Retransmit is set when the request repeats a transaction already
	// answered (same transaction ID and MESSAGE-INTEGRITY): the response is
	// the one sent then, and nothing changed. From another address this is a
	// replay; it earns the old response and nothing else.
	Retransmit bool
	// Code is the error code of the response sent, 0 for a success
	// response or none.
	Code int
	// Err says why the request was refused or dropped; nil on success.
	Err error
}

// Agent answers one peer's connectivity checks.
type Agent struct {
	localUfrag  string
	localPwd    string
	remoteUfrag string
	remotePwd   string
	// username is "localUfrag:remoteUfrag", or "localUfrag:" while the
	// remote ufrag is unknown (then only the prefix is checked).
	username []byte
	integ    *stun.Integrity
	resp     stun.Message
	unknown  [maxUnknown]uint16

	// txs remembers the latest answered transactions, oldest overwritten
	// first (RFC 8489 §6.3.4: a server may answer a retransmission from a
	// cache instead of processing it again).
	txs    [maxTransactions]transaction
	txNext int
}

// transaction is one answered request and its response.
type transaction struct {
	id   [12]byte
	mi   [20]byte // the request's MESSAGE-INTEGRITY; a copy of the request has the same
	resp [maxCachedResponse]byte
	n    uint8 // len(resp); 0 marks an empty slot
}

// NewAgent returns an agent for the local credentials it advertised in its
// SDP (a=ice-ufrag, a=ice-pwd). The caller generates them (RFC 8445 §5.3:
// at least 24 bits of randomness in the ufrag and 128 in the password).
func NewAgent(localUfrag, localPwd string) *Agent {
	a := &Agent{
		localUfrag: localUfrag,
		localPwd:   localPwd,
		integ:      stun.NewIntegrity([]byte(localPwd)),
	}
	a.resp.Raw = make([]byte, 0, responseBufSize)
	a.resp.Attributes = make([]stun.Attribute, 0, 8)
	a.setUsername()
	return a
}

// SetRemoteCredentials records the peer's ufrag and password from its SDP.
//
// Until it is called, checks are answered when their USERNAME starts with
// "localUfrag:" followed by any non-empty remote part and their
// MESSAGE-INTEGRITY verifies with the local password: RFC 8445 §7.3 has an
// agent respond to checks that arrive before the peer's candidates, and the
// integrity check only needs the local password. After it, the remote part
// must equal ufrag. The remote password is kept for completeness; a lite
// agent sends no checks, so it never signs with it.
func (a *Agent) SetRemoteCredentials(ufrag, pwd string) {
	a.remoteUfrag, a.remotePwd = ufrag, pwd
	a.setUsername()
}

func (a *Agent) setUsername() {
	a.username = append(a.username[:0], a.localUfrag...)
	a.username = append(a.username, ':')
	a.username = append(a.username, a.remoteUfrag...)
}

func (a *Agent) usernameOK(u []byte) bool {
	if a.remoteUfrag != "" {
		return bytes.Equal(u, a.username)
	}
	return len(u) > len(a.username) && bytes.HasPrefix(u, a.username)
}

// HandleBinding processes a decoded STUN message from src that was routed to
// this agent (normally by LocalUfrag), appends the response to send back to
// src onto dst, and reports what happened. When nothing is to be sent, resp
// is dst unchanged. The checks follow RFC 8489 §6.3 and §9.1.3 and RFC 8445
// §7.3, in this order:
//
//   - Not a Binding request (indications, responses, other methods):
//     dropped. A lite agent sends no requests, so it expects no responses,
//     and Binding indications (RFC 8445 §11 keepalives) need no answer.
//   - FINGERPRINT missing or wrong: dropped (RFC 8445 §7 requires it; a
//     message that fails it is not taken for STUN, RFC 8489 §7.3).
//   - No USERNAME or no MESSAGE-INTEGRITY: 400.
//   - USERNAME other than "localUfrag:remoteUfrag": dropped silently, not
//     answered with 401 as RFC 8489 §9.1.3 suggests. Such a request is for
//     another peer or from someone guessing; silence tells them nothing and
//     costs nothing.
//   - MESSAGE-INTEGRITY fails with the local password: 401, without
//     MESSAGE-INTEGRITY (RFC 8489 §9.1.3), since nothing proves the sender
//     knows the key.
//
// From here the request is authenticated and every response carries
// MESSAGE-INTEGRITY and FINGERPRINT:
//
//   - Unknown comprehension-required attributes: 420 with
//     UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1).
//   - ICE-CONTROLLED: 487 Role Conflict. A lite agent is controlled and
//     cannot switch (RFC 8445 §6.1.1); answering as if our tie-breaker lost
//     (§7.3.1.1) makes a full peer switch to controlling. A lite peer never
//     sends checks, so two lite agents never get here.
//   - PRIORITY missing or malformed: 400 (RFC 8445 §7.1.1 makes it
//     mandatory).
//   - Otherwise: success with XOR-MAPPED-ADDRESS of src (Authenticated;
//     Nominated with USE-CANDIDATE).
//
// A request whose transaction ID and MESSAGE-INTEGRITY match one answered
// recently is a retransmission, or a replay of a captured check from
// anywhere: it gets the response sent then and changes nothing
// (Result.Retransmit). MESSAGE-INTEGRITY proves the sender once knew the
// password, not that it is the peer now, so a check never refreshes consent
// (RFC 7675 §5.1 rests consent on checks the agent itself sends, which a
// lite agent never does): the caller refreshes consent on what a replay
// cannot forge, authenticated SRTP/SRTCP. now is the caller's clock; the
// agent does not need it today.
//
// ICE-CONTROLLING needs no check: we are controlled, so there is no
// conflict. Nothing is remembered about a request that does not
// authenticate.
func (a *Agent) HandleBinding(now time.Time, src netip.AddrPort, m *stun.Message, dst []byte) (resp []byte, res Result) {
	if m.Type != stun.TypeBindingRequest {
		return dst, Result{Err: ErrNotRequest}
	}
	if m.CheckFingerprint() != nil {
		return dst, Result{Err: ErrNoFingerprint}
	}
	user, ok := m.Username()
	if !ok || !m.HasIntegrity() {
		return a.errorResponse(dst, m, CodeBadRequest, false, ErrNoCredentials)
	}
	if !a.usernameOK(user) {
		return dst, Result{Err: ErrUsername}
	}
	if tx := a.lookup(m); tx != nil {
		return append(dst, tx.resp[:tx.n]...), Result{Retransmit: true}
	}
	if a.integ.Check(m) != nil {
		return a.errorResponse(dst, m, CodeUnauthorized, false, ErrIntegrity)
	}

	if unknown := m.UnknownComprehensionRequired(a.unknown[:0]); len(unknown) > 0 {
		return a.errorResponse(dst, m, CodeUnknownAttribute, true, ErrUnknownAttr)
	}
	if m.Has(stun.AttrICEControlled) {
		return a.errorResponse(dst, m, CodeRoleConflict, true, ErrRoleConflict)
	}
	// RFC 8445 §7.1.1: a check carries PRIORITY. A lite agent learns no
	// peer-reflexive candidates from it (§7.3.1.3), so only its presence
	// matters.
	if _, err := m.Priority(); err != nil {
		return a.errorResponse(dst, m, CodeBadRequest, true, ErrBadRequest)
	}

	r := &a.resp
	r.Reset()
	r.SetType(stun.TypeBindingSuccess)
	r.SetTransactionID(m.TransactionID)
	r.AddXORMappedAddress(src)
	a.integ.AddTo(r)
	r.AddFingerprint()
	if r.Err() != nil {
		// Only an invalid src can get here; nothing to answer.
		return dst, Result{Err: ErrResponseFailed}
	}

	a.remember(m, r.Raw)
	return append(dst, r.Raw...), Result{Authenticated: true, Nominated: m.UseCandidate()}
}

// lookup finds an answered transaction that m repeats. It compares the
// MESSAGE-INTEGRITY value too, so a fresh request that happens to reuse an
// ID is processed, not answered from the cache.
func (a *Agent) lookup(m *stun.Message) *transaction {
	mi, ok := m.Get(stun.AttrMessageIntegrity)
	if !ok || len(mi) != 20 {
		return nil
	}
	for i := range a.txs {
		tx := &a.txs[i]
		if tx.n != 0 && tx.id == m.TransactionID && bytes.Equal(tx.mi[:], mi) {
			return tx
		}
	}
	return nil
}

// remember caches the response to the verified request m.
func (a *Agent) remember(m *stun.Message, resp []byte) {
	mi, ok := m.Get(stun.AttrMessageIntegrity)
	if !ok || len(mi) != 20 || len(resp) > maxCachedResponse {
		return
	}
	tx := &a.txs[a.txNext]
	a.txNext = (a.txNext + 1) % maxTransactions
	tx.id = m.TransactionID
	copy(tx.mi[:], mi)
	tx.n = uint8(copy(tx.resp[:], resp))
}

func (a *Agent) errorResponse(dst []byte, m *stun.Message, code int, sign bool, why error) ([]byte, Result) {
	r := &a.resp
	r.Reset()
	r.SetType(stun.TypeBindingError)
	r.SetTransactionID(m.TransactionID)
	r.AddErrorCode(code, reason(code))
	if code == CodeUnknownAttribute {
		r.AddUnknownAttributes(m.UnknownComprehensionRequired(a.unknown[:0]))
	}
	if sign {
		a.integ.AddTo(r)
	}
	r.AddFingerprint()
	if r.Err() != nil {
		return dst, Result{Err: errors.Join(why, ErrResponseFailed)}
	}
	return append(dst, r.Raw...), Result{Code: code, Err: why}
}

// reason returns the reason phrase RFC 8489 §14.8 and RFC 8445 suggest.
func reason(code int) string {
	switch code {
	case CodeBadRequest:
		return "Bad Request"
	case CodeUnauthorized:
		return "Unauthorized"
	case CodeUnknownAttribute:
		return "Unknown Attribute"
	case CodeRoleConflict:
		return "Role Conflict"
	}
	return ""
}

// LocalUfrag returns the recipient's ufrag from a request's USERNAME
// ("recipientUfrag:senderUfrag", RFC 8445 §7.2.2): the key that finds the
// agent a request is for. It allocates the string; LocalUfragBytes does not.
func LocalUfrag(m *stun.Message) (string, bool) {
	b, ok := LocalUfragBytes(m)
	return string(b), ok
}

// LocalUfragBytes is LocalUfrag without allocation; the result points into
// m.Raw. A map indexed with string(b) does not allocate either.
func LocalUfragBytes(m *stun.Message) ([]byte, bool) {
	u, ok := m.Username()
	if !ok {
		return nil, false
	}
	i := bytes.IndexByte(u, ':')
	if i <= 0 {
		return nil, false
	}
	return u[:i], true
}
