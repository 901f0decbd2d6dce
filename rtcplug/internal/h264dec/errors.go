package h264dec

import (
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by every error about a stream feature this
// decoder does not implement (P/B slices, interlace, 4:2:2/4:4:4, high bit
// depth, FMO/ASO, data partitioning ...). Test with errors.Is.
var ErrUnsupported = errors.New("h264dec: unsupported")

// ErrNotIntra is wrapped by the error for a picture with P, B, SP or SI
// slices: the expected case between keyframes. It wraps ErrUnsupported.
var ErrNotIntra = fmt.Errorf("%w: not an intra picture", ErrUnsupported)

// ErrInvalid is wrapped by every error about a malformed bitstream.
var ErrInvalid = errors.New("h264dec: invalid bitstream")

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, a...)...)
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
}
