package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procCPU is the user+system CPU seconds of process pid (/proc/pid/stat
// fields 14 and 15, in clock ticks of 1/100 s on Linux); 0 elsewhere.
func procCPU(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100
}

// procHWM is the peak resident set of process pid in KiB (VmHWM); a
// taskset parent has exec'd into the receiver, so its pid is the receiver's.
func procHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// rcvbufErrors is the system's UDP RcvbufErrors counter (/proc/net/snmp):
// datagrams the kernel dropped because a socket buffer was full.
func rcvbufErrors() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "Udp: ") {
			continue
		}
		f := strings.Fields(line)[1:]
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseInt(f[i], 10, 64)
				return v
			}
		}
	}
	return 0
}

// loadavg is the 1-minute load average and the CPU count.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load ?"
	}
	f := strings.Fields(string(b))
	return "load " + f[0]
}

// socketDrops is the kernel's drop counter of the UDP socket bound to port
// (the last column of /proc/net/udp and udp6; the port is hex in field 2).
func socketDrops(port uint16) uint64 {
	var total uint64
	want := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 13 || !strings.HasSuffix(fs[1], want) {
				continue
			}
			n, _ := strconv.ParseUint(fs[len(fs)-1], 10, 64)
			total += n
		}
	}
	return total
}
