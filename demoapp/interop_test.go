//go:build linux

package main

// Helpers of the interop tests (Firefox, GStreamer): each runs, like the
// Chromium test, in a network namespace of its own that the test binary
// creates (runInNetns). Some senders gather no loopback candidates, so the
// namespace also gets a veth pair with a TEST-NET-1 address (RFC 5737) and no
// route out of it: traffic to that address stays inside the namespace.

import (
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// testNetAddr is inside the namespace only; the demo server offers it
	// as a host candidate because it lists every up interface at Mount.
	testNetAddr = "192.0.2.1"
	testNetIf   = "rtcplug0"
	testNetPeer = "rtcplug1"
	// procStopGrace is how long a sender gets to exit by itself.
	procStopGrace = 10 * time.Second
)

// addTestNet gives the (fresh) namespace a veth pair with testNetAddr/24 on
// one end. The pair goes with the namespace; the cleanup deletes it sooner.
func addTestNet(t *testing.T) {
	t.Helper()
	ipPath, err := exec.LookPath("ip")
	if err != nil {
		skipOrFail(t, "the ip command is not installed (apt-get install iproute2): %v", err)
	}
	ip := func(args ...string) error {
		out, err := exec.Command(ipPath, args...).CombinedOutput()
		if err != nil {
			return errors.New("ip " + strings.Join(args, " ") + ": " + err.Error() + ": " + string(out))
		}
		return nil
	}
	if err := ip("link", "add", testNetIf, "type", "veth", "peer", "name", testNetPeer); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ip("link", "del", testNetIf); err != nil {
			t.Errorf("remove the test interface: %v", err)
		}
	})
	for _, args := range [][]string{
		{"addr", "add", testNetAddr + "/24", "dev", testNetIf},
		{"link", "set", testNetIf, "up"},
		{"link", "set", testNetPeer, "up"},
	} {
		if err := ip(args...); err != nil {
			t.Fatal(err)
		}
	}
}

// startProc starts cmd in a process group of its own, so that the cleanup
// can end it and every process it started (Firefox's content processes, for
// one) by the group's id. The returned function waits for the exit, at most
// procStopGrace, then kills the group; it is also the cleanup. exited is
// closed when the process has ended.
func startProc(t *testing.T, cmd *exec.Cmd) (wait func() error, exited <-chan struct{}) {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	ended := make(chan struct{})
	go func() {
		err := cmd.Wait()
		close(ended)
		done <- err
	}()
	var result error
	waited := false
	wait = func() error {
		if waited {
			return result
		}
		waited = true
		select {
		case result = <-done:
		case <-time.After(procStopGrace):
			syscall.Kill(-pgid, syscall.SIGKILL)
			result = <-done
			if result == nil {
				result = errors.New("killed after it did not exit")
			}
		}
		// Whatever is left of the group (children that outlived the
		// leader) goes too.
		syscall.Kill(-pgid, syscall.SIGKILL)
		return result
	}
	t.Cleanup(func() {
		if !waited {
			syscall.Kill(-pgid, syscall.SIGTERM)
		}
		wait()
	})
	return wait, ended
}

// waitJPEG waits until a file matching pattern decodes as a JPEG, or ctx
// ends, or failed reports a reason to stop early.
func waitJPEG(ctx context.Context, t *testing.T, pattern string, failed func() error) (string, image.Point) {
	t.Helper()
	for {
		if p, sz := decodedJPEG(t, pattern); p != "" {
			return p, sz
		}
		if err := failed(); err != nil {
			t.Fatalf("no JPEG matching %s: %v", filepath.Base(pattern), err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no JPEG matching %s: %v", pattern, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// commandVersion is the first line a tool prints for --version, for the log.
func commandVersion(path string, args ...string) string {
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for i, c := range out {
		if c == '\n' {
			return string(out[:i])
		}
	}
	return string(out)
}

// fileExists is os.Stat without the error.
func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
