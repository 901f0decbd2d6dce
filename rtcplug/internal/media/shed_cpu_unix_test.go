//go:build unix

package media

import (
	"syscall"
	"time"
)

// schedCPU is the process's user+system CPU time, reported per operation
// beside wall time, which other load on the machine inflates.
func schedCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
