//go:build !linux

package udpmux

import (
	"net"
	"time"
)

func setBuffers(c *net.UDPConn, want int) (rcv int, forced bool) {
	_ = c.SetReadBuffer(want)
	_ = c.SetWriteBuffer(want)
	return want, false
}

func newBatchReader(PacketConn) batchReader { return nil }

// pauseReads pauses the read loop for d (coalesce.go).
func pauseReads(d time.Duration) { time.Sleep(d) }
