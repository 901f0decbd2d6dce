//go:build unix

package srtp

import (
	"syscall"
	"testing"
	"time"
)

// cpuTimer reports process CPU time per iteration ("cpu-ns/op") next to the
// wall-clock ns/op, because the benchmark machine is shared: wall time there
// includes time spent descheduled, CPU time much less so. Pause and Resume
// bracket work done with the benchmark timer stopped.
type cpuTimer struct {
	start, paused time.Duration
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() *cpuTimer { return &cpuTimer{start: cpuNow()} }

func (c *cpuTimer) Pause()  { c.paused = cpuNow() }
func (c *cpuTimer) Resume() { c.start += cpuNow() - c.paused }

func (c *cpuTimer) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-c.start)/float64(b.N), "cpu-ns/op")
	}
}
