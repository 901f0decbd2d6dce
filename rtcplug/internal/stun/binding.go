package stun

import (
	"errors"
	"io"
	"net/netip"
	"strconv"
)

// The client side of a Binding transaction (RFC 8489 §6.2, §6.3.3), used to
// learn the server-reflexive address: BuildBindingRequest makes the request,
// CheckBindingResponse validates the answer and extracts the address. The
// retransmission schedule belongs to the caller (see package discover).

// BuildBindingRequest resets m to a Binding request with a transaction ID
// read from rand and a FINGERPRINT (RFC 8489 §7.1, so that the answer can be
// told from media on a multiplexed socket). The request is m.Raw; the
// transaction ID to match is m.TransactionID.
func (m *Message) BuildBindingRequest(rand io.Reader) error {
	m.Reset()
	m.SetType(TypeBindingRequest)
	if err := m.NewTransactionID(rand); err != nil {
		return err
	}
	m.AddFingerprint()
	return m.Err()
}

// ErrorResponse is returned by CheckBindingResponse for a Binding error
// response: the server understood the request and refused it.
type ErrorResponse struct {
	Code   int
	Reason string
}

func (e *ErrorResponse) Error() string {
	return "stun: error response " + strconv.Itoa(e.Code) + " " + strconv.Quote(e.Reason)
}

// CheckBindingResponse validates a decoded message as the response to the
// Binding request with transaction ID id and returns the mapped address:
// XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from servers that predate RFC 5389.
// It checks the transaction ID, the method, FINGERPRINT when present, and
// unknown comprehension-required attributes (RFC 8489 §6.3.3 treats those
// as a failed transaction). An error response yields *ErrorResponse.
func (m *Message) CheckBindingResponse(id [12]byte) (netip.AddrPort, error) {
	if m.TransactionID != id {
		return netip.AddrPort{}, ErrTransactionID
	}
	if m.Method() != MethodBinding {
		return netip.AddrPort{}, ErrUnexpectedType
	}
	if m.HasFingerprint() {
		if err := m.CheckFingerprint(); err != nil {
			return netip.AddrPort{}, err
		}
	}
	var unknown [1]uint16
	if len(m.UnknownComprehensionRequired(unknown[:0])) != 0 {
		return netip.AddrPort{}, ErrUnknownRequired
	}
	switch m.Class() {
	case ClassSuccess:
	case ClassError:
		code, reason, err := m.ErrorCode()
		if err != nil {
			return netip.AddrPort{}, errors.Join(ErrUnexpectedType, err)
		}
		return netip.AddrPort{}, &ErrorResponse{Code: code, Reason: string(reason)}
	default:
		return netip.AddrPort{}, ErrUnexpectedType
	}
	ap, err := m.XORMappedAddress()
	if errors.Is(err, ErrNoAttribute) {
		ap, err = m.MappedAddress()
	}
	if errors.Is(err, ErrNoAttribute) {
		return netip.AddrPort{}, ErrNoMappedAddress
	}
	return ap, err
}
