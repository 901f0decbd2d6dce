//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// checkFileLimit warns when n senders (a socket each, and a connection while
// posting the offer) and the receiver's own files may not fit the open-file
// limit. The Go runtime already raises the soft limit to the hard one at
// start, in this process and in the receiver's; only the hard limit can be
// short.
func checkFileLimit(n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	need := uint64(3*n + 256)
	if lim.Cur < need && lim.Max > lim.Cur {
		lim.Cur = min(lim.Max, need)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Cur < need {
		fmt.Fprintf(os.Stderr, "rtcload: the open-file limit (%d) may be short for %d senders; raise it (ulimit -n)\n", lim.Cur, n)
	}
}
