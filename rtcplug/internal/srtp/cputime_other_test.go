//go:build !unix

package srtp

import "testing"

type cpuTimer struct{}

func startCPU() *cpuTimer             { return &cpuTimer{} }
func (*cpuTimer) Pause()              {}
func (*cpuTimer) Resume()             {}
func (*cpuTimer) report(_ *testing.B) {}
