package main

import (
	"os"
	"testing"
	"time"
)

func TestPct(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 20; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := pct(d); got != "11.0 / 20.0" {
		t.Fatalf("pct = %q", got)
	}
	if got := pct(nil); got != "–" {
		t.Fatalf("pct(nil) = %q", got)
	}
}

func TestProcReaders(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	// Burn CPU until a clock tick has been charged to us.
	for end := time.Now().Add(10 * time.Second); procCPU(os.Getpid()) == 0 && time.Now().Before(end); {
	}
	if procCPU(os.Getpid()) <= 0 || procHWM(os.Getpid()) <= 0 {
		t.Fatalf("cpu %v, hwm %v", procCPU(os.Getpid()), procHWM(os.Getpid()))
	}
	_ = rcvbufErrors()
}
