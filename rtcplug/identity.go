package rtcplug

import "net/http"

// authorize asks the WithAuthorize function about r. A refusal is an
// ErrUnauthorized (errors.Is) whose text is the host's, for the client.
func (p *Plugin) authorize(r *http.Request, conf string) (identity string, err error) {
	fn := p.cfg.authorize
	if fn == nil {
		return "", nil
	}
	id, err := fn(r, conf)
	if err != nil {
		return "", authError{err}
	}
	return id, nil
}

type authError struct{ err error }

func (e authError) Error() string        { return e.err.Error() }
func (e authError) Unwrap() error        { return e.err }
func (e authError) Is(target error) bool { return target == ErrUnauthorized }
