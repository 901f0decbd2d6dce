//go:build !linux

package udpmux

import "net"

func setBuffers(c *net.UDPConn, want int) (rcv int, forced bool) {
	_ = c.SetReadBuffer(want)
	_ = c.SetWriteBuffer(want)
	return want, false
}

func newBatchReader(PacketConn) batchReader { return nil }
