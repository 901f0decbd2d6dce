//go:build !unix

package media

import "time"

func schedCPU() time.Duration { return 0 }
