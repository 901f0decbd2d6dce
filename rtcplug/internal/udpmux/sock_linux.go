//go:build linux

package udpmux

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setBuffers asks for a kernel receive and send buffer of want bytes each.
// SO_RCVBUF is capped by net.core.rmem_max (often 208 KiB); with
// CAP_NET_ADMIN SO_RCVBUFFORCE goes past the cap (socket(7)). It returns the
// effective receive buffer (the kernel reports double the asked size, its
// bookkeeping included) and whether the cap had to be forced.
func setBuffers(c *net.UDPConn, want int) (rcv int, forced bool) {
	_ = c.SetReadBuffer(want)
	_ = c.SetWriteBuffer(want)
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, false
	}
	_ = rc.Control(func(fd uintptr) {
		rcv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		if rcv < want {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, want) == nil {
				forced = true
				rcv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
			}
		}
		if snd, _ := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF); snd < want {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, want)
		}
	})
	return rcv, forced
}

// mmsgReader reads up to batchSize datagrams per system call with
// recvmmsg(2), through the runtime's poller (RawConn.Read), without
// allocating.
type mmsgReader struct {
	rc    syscall.RawConn
	hdrs  [batchSize]unix.Mmsghdr
	iovs  [batchSize]unix.Iovec
	names [batchSize]unix.RawSockaddrInet6
	bufs  [batchSize][readBufSize]byte
	n     int
	errno syscall.Errno
	wait  bool // the current read waits for a datagram
	fn    func(fd uintptr) bool
}

func newBatchReader(c PacketConn) batchReader {
	sc, ok := c.(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &mmsgReader{rc: rc}
	for i := range batchSize {
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(readBufSize)
		r.hdrs[i].Hdr.Iov = &r.iovs[i]
		r.hdrs[i].Hdr.SetIovlen(1)
		r.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		r.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
	}
	r.fn = r.recv
	return r
}

// recv is the RawConn.Read callback: false asks the poller to wait. The
// call never blocks (MSG_DONTWAIT), so it goes without the runtime's syscall
// bookkeeping: that would wake the runtime's monitor thread out of its deep
// sleep after every idle moment, to poll at a 20 µs period for a while.
func (r *mmsgReader) recv(fd uintptr) bool {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), batchSize,
		unix.MSG_DONTWAIT, 0, 0)
	if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
		return !r.wait // false asks the poller to wait
	}
	r.errno = e
	if e == 0 {
		r.n = int(n)
	}
	return true
}

// read fills the batch and returns how many datagrams it holds; without wait
// an empty socket returns 0.
func (r *mmsgReader) read(wait bool) (int, error) {
	r.wait, r.errno = wait, 0
	// The kernel rewrote the headers of the datagrams it returned last time.
	for i := range r.n {
		r.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		r.hdrs[i].Hdr.Flags = 0
	}
	r.n = 0
	if err := r.rc.Read(r.fn); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, r.errno
	}
	return r.n, nil
}

var errBadFamily = errors.New("udpmux: unknown address family")

// datagram returns the i-th datagram of the batch and its source.
func (r *mmsgReader) datagram(i int) ([]byte, netip.AddrPort, error) {
	b := r.bufs[i][:min(int(r.hdrs[i].Len), readBufSize)]
	sa := &r.names[i]
	switch sa.Family {
	case unix.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return b, netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(p[0])<<8|uint16(p[1])), nil
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return b, netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), uint16(p[0])<<8|uint16(p[1])), nil
	}
	return nil, netip.AddrPort{}, errBadFamily
}

// pauseReads pauses the read loop for d (coalesce.go) without giving up its
// P: a goroutine that parks in time.Sleep leaves the runtime's network
// poller waiting on the socket, and every datagram that arrives would wake
// the process again, which is what the pause is for avoiding. The read loop
// yields to the other goroutines first, and pauses only for what is left of
// the spacing once they have run (nothing, after a decode), so no work that
// was runnable waits; but with GOMAXPROCS 1 a goroutine that becomes
// runnable during the pause (a timer, an HTTP request) waits for its end, at
// most coalesceMax.
func pauseReads(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	// An interrupting signal (EINTR) ends the pause early, which is fine.
	_, _, _ = unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
}
