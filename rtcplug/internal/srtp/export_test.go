package srtp

import "testing"

// CPUTimer is the benchmark CPU-time metric, for the external test
// package's pion benchmark.
type CPUTimer interface {
	Pause()
	Resume()
	Report(*testing.B)
}

// StartCPU starts a CPUTimer.
func StartCPU() CPUTimer { return startCPU() }

// Report is cpuTimer.report, exported for the external test package.
func (c *cpuTimer) Report(b *testing.B) { c.report(b) }

// BenchRing returns the master key and salt and the ring of protected
// packets BenchmarkDecryptRTP decrypts, so that the pion benchmark works on
// exactly the same bytes.
func BenchRing(b *testing.B, p Profile) (key, salt []byte, ring [][]byte) {
	key, salt = testKeys(p, 1)
	_, ring = benchRTPRing(b, p)
	return key, salt, ring
}
