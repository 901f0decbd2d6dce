// Package signal defines the JSON messages of the WebSocket signaling protocol
// and validates what a client sends. It knows nothing about the transport: the
// public package reads and writes the bytes.
//
// Every message is an envelope {"type": "...", "data": {...}}. The server
// offers, the client answers:
//
//	server → client  Welcome, SdpOffer, PeerState, Error
//	client → server  JoinConference, SdpAnswer, IceCandidate, LeaveConference
package signal

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Message types.
const (
	TypeWelcome         = "Welcome"
	TypeJoinConference  = "JoinConference"
	TypeSdpOffer        = "SdpOffer"
	TypeSdpAnswer       = "SdpAnswer"
	TypeIceCandidate    = "IceCandidate"
	TypePeerState       = "PeerState"
	TypeError           = "Error"
	TypeLeaveConference = "LeaveConference"
)

// Error codes sent in Error messages.
const (
	CodeBadRequest    = "bad-request"    // malformed JSON or missing fields
	CodeUnknownType   = "unknown-type"   // a type the server does not know
	CodeBadConference = "bad-conference" // conference name not 1–64 of [A-Za-z0-9_-]
	CodeNotJoined     = "not-joined"     // an answer or candidate before JoinConference
	CodeAlreadyJoined = "already-joined" // one peer per socket
	CodeBadAnswer     = "bad-answer"     // the SDP answer is unusable
	CodeUnauthorized  = "unauthorized"   // the host's authorization refused the join
	CodeFull          = "full"           // a limit on conferences or peers was reached
	CodeInternal      = "internal"       // the server could not set the peer up
	CodeTimeout       = "timeout"        // the answer did not come in time; the peer ended
)

// MaxConferenceName is the longest accepted conference name.
const MaxConferenceName = 64

// Envelope is the outer form of every message.
type Envelope struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Welcome is the first message the server sends on a new socket.
type Welcome struct {
	ID      int64  `json:"id"`
	Message string `json:"message"`
}

// JoinConference asks to join (and create if needed) a conference.
type JoinConference struct {
	ConferenceName string `json:"conferenceName"`
}

// SDP carries an offer (server → client) or an answer (client → server).
// The server adds the peer's id to its offer: it names the peer's snapshot
// directory.
type SDP struct {
	SDP  string `json:"sdp"`
	Peer string `json:"peer,omitempty"`
}

// PeerState reports a change of the peer's connection state.
type PeerState struct {
	State string `json:"state"`
	Peer  string `json:"peer,omitempty"`
}

// Error reports a refused request; the socket stays open.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error makes a protocol error usable as a Go error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Request is one decoded client message. Exactly the field that matches Type
// is set (LeaveConference and IceCandidate carry nothing the server uses).
type Request struct {
	Type   string
	Join   JoinConference
	Answer SDP
}

// Decode parses and validates one client message. The error, when not nil, is
// an *Error ready to be sent back.
func Decode(b []byte) (Request, *Error) {
	var env Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return Request{}, Errorf(CodeBadRequest, "malformed JSON: %v", err)
	}
	req := Request{Type: env.Type}
	switch env.Type {
	case TypeJoinConference:
		if err := unmarshalData(env.Data, &req.Join); err != nil {
			return req, err
		}
		if !ValidConferenceName(req.Join.ConferenceName) {
			return req, Errorf(CodeBadConference, "conference name must be 1-%d of A-Z a-z 0-9 _ -", MaxConferenceName)
		}
	case TypeSdpAnswer:
		if err := unmarshalData(env.Data, &req.Answer); err != nil {
			return req, err
		}
		if req.Answer.SDP == "" {
			return req, Errorf(CodeBadAnswer, "empty sdp")
		}
	case TypeIceCandidate, TypeLeaveConference:
		// Nothing to read: ICE-lite learns the client's addresses from its checks.
	case "":
		return req, Errorf(CodeBadRequest, "missing type")
	default:
		return req, Errorf(CodeUnknownType, "unknown message type %q", truncate(env.Type, 64))
	}
	return req, nil
}

func unmarshalData(data json.RawMessage, v any) *Error {
	if len(data) == 0 {
		return Errorf(CodeBadRequest, "missing data")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return Errorf(CodeBadRequest, "malformed data: %v", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ValidConferenceName reports whether s is 1–64 characters of [A-Za-z0-9_-].
// The name becomes a directory name, so nothing else is allowed.
func ValidConferenceName(s string) bool {
	if len(s) == 0 || len(s) > MaxConferenceName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Encode builds the JSON of a server message; data is one of the message
// structs above (or nil for none).
func Encode(typ string, data any) ([]byte, error) {
	env := struct {
		Type string `json:"type"`
		Data any    `json:"data,omitempty"`
	}{typ, data}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, errors.Join(errors.New("signal: encode"), err)
	}
	return b, nil
}
