package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procWait is the time in seconds the threads of process pid have spent
// runnable but waiting for a CPU (the second field of
// /proc/pid/task/*/schedstat, in ns): on a shared machine, the share of a
// window a pinned process waited says how much of its loss is someone
// else's load. Threads that have exited are not counted. 0 elsewhere.
func procWait(pid int) float64 {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/schedstat")
	var ns float64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			v, _ := strconv.ParseFloat(f[1], 64)
			ns += v
		}
	}
	return ns / 1e9
}

// sched is the CPU time and run-queue wait of this process and the
// receiver's at the start of a window.
type sched struct {
	t0                 time.Time
	cpu, wait, srvWait float64
	srv                *server
}

func startSched(srv *server) sched {
	s := sched{t0: time.Now(), cpu: procCPU(os.Getpid()), wait: procWait(os.Getpid()), srv: srv}
	if srv != nil {
		s.srvWait = procWait(srv.pid)
	}
	return s
}

// report notes on stderr the senders' CPU share in the window and how long
// each side waited for a CPU: that tells a loaded machine from a receiver
// that cannot keep up.
func (s sched) report(senders string) {
	if s.srv != nil && s.srv.pid == os.Getpid() {
		return // one process: nothing to tell apart
	}
	win := time.Since(s.t0).Seconds()
	msg := fmt.Sprintf("rtcload: %s used %.1f%% CPU and waited %.1f%% for it", senders,
		(procCPU(os.Getpid())-s.cpu)*100/win, (procWait(os.Getpid())-s.wait)*100/win)
	if s.srv != nil {
		msg += fmt.Sprintf("; the receiver waited %.1f%%", (procWait(s.srv.pid)-s.srvWait)*100/win)
	}
	fmt.Fprintln(os.Stderr, msg)
}
