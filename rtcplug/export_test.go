package rtcplug

import "time"

// WithSignalingTimeouts shortens JoinTimeout and AnswerTimeout for tests.
func WithSignalingTimeouts(join, answer time.Duration) Option {
	return func(c *config) error {
		c.joinTimeout, c.answerTimeout = join, answer
		return nil
	}
}

// WithWHIPBodyTimeout shortens the WHIP body deadline for tests.
func WithWHIPBodyTimeout(d time.Duration) Option {
	return func(c *config) error {
		c.whipBodyTimeout = d
		return nil
	}
}
