package rtcplug

import (
	"testing"
	"time"
)

func TestSnapshotLimitOptions(t *testing.T) {
	c := defaults()
	for _, o := range []Option{WithSnapshotRate(5, 2*time.Second), WithSnapshotDiskLimit(1 << 20)} {
		if err := o(c); err != nil {
			t.Fatal(err)
		}
	}
	if c.snapshotRate != 5 || c.snapshotPer != 2*time.Second || c.snapshotDisk != 1<<20 {
		t.Fatalf("config %d/%v %d", c.snapshotRate, c.snapshotPer, c.snapshotDisk)
	}
	// 0 turns either limit off.
	if err := WithSnapshotRate(0, 0)(c); err != nil || c.snapshotRate != 0 {
		t.Fatalf("rate off: %v", err)
	}
	if err := WithSnapshotDiskLimit(0)(c); err != nil || c.snapshotDisk != 0 {
		t.Fatalf("disk off: %v", err)
	}
	for _, o := range []Option{WithSnapshotRate(-1, time.Second), WithSnapshotRate(1, 0), WithSnapshotDiskLimit(-1)} {
		if o(defaults()) == nil {
			t.Fatal("bad limit accepted")
		}
	}
}
