package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
