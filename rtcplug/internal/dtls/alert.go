package dtls

import "strconv"

// alert is a TLS alert description (RFC 5246 §7.2). A fatal protocol error is
// returned as an alert, which is an error, so that the step that found the
// problem also names what the peer is told.
type alert uint8

// Alert descriptions (RFC 5246 §7.2, RFC 5746, RFC 8446 §6).
const (
	alertCloseNotify            alert = 0
	alertUnexpectedMessage      alert = 10
	alertBadRecordMAC           alert = 20
	alertRecordOverflow         alert = 22
	alertHandshakeFailure       alert = 40
	alertBadCertificate         alert = 42
	alertUnsupportedCertificate alert = 43
	alertCertificateExpired     alert = 45
	alertCertificateUnknown     alert = 46
	alertIllegalParameter       alert = 47
	alertDecodeError            alert = 50
	alertDecryptError           alert = 51
	alertProtocolVersion        alert = 70
	alertInsufficientSecurity   alert = 71
	alertInternalError          alert = 80
	alertUserCanceled           alert = 90
	alertNoRenegotiation        alert = 100
	alertUnsupportedExtension   alert = 110
)

// Alert levels (RFC 5246 §7.2).
const (
	alertLevelWarning = 1
	alertLevelFatal   = 2
)

func (a alert) String() string {
	switch a {
	case alertCloseNotify:
		return "close notify"
	case alertUnexpectedMessage:
		return "unexpected message"
	case alertBadRecordMAC:
		return "bad record MAC"
	case alertRecordOverflow:
		return "record overflow"
	case alertHandshakeFailure:
		return "handshake failure"
	case alertBadCertificate:
		return "bad certificate"
	case alertUnsupportedCertificate:
		return "unsupported certificate"
	case alertCertificateExpired:
		return "certificate expired"
	case alertCertificateUnknown:
		return "certificate unknown"
	case alertIllegalParameter:
		return "illegal parameter"
	case alertDecodeError:
		return "error decoding message"
	case alertDecryptError:
		return "error decrypting message"
	case alertProtocolVersion:
		return "protocol version not supported"
	case alertInsufficientSecurity:
		return "insufficient security level"
	case alertInternalError:
		return "internal error"
	case alertUserCanceled:
		return "user canceled"
	case alertNoRenegotiation:
		return "no renegotiation"
	case alertUnsupportedExtension:
		return "unsupported extension"
	}
	return "alert(" + strconv.Itoa(int(a)) + ")"
}

func (a alert) Error() string { return "dtls: " + a.String() }

// AlertError is reported (in Event.Err and by HandleDatagram) when the
// connection ended with an alert, sent by us (Remote false) or received
// (Remote true).
type AlertError struct {
	Description uint8
	Remote      bool
}

func (e *AlertError) Error() string {
	if e.Remote {
		return "dtls: remote alert: " + alert(e.Description).String()
	}
	return "dtls: local alert: " + alert(e.Description).String()
}

// AlertCloseNotify, AlertBadCertificate, AlertHandshakeFailure are the
// descriptions the glue most often wants to tell apart.
const (
	AlertCloseNotify      uint8 = uint8(alertCloseNotify)
	AlertHandshakeFailure uint8 = uint8(alertHandshakeFailure)
	AlertBadCertificate   uint8 = uint8(alertBadCertificate)
)
