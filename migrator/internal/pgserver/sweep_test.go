package pgserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// What a deleted clone or cache directory left under PlacedDirRoot goes at the next placement;
// what may still be in use stays.
func TestSweepRemovesWhatADeletedOwnerLeft(t *testing.T) {
	root, live := t.TempDir(), t.TempDir()
	gone := filepath.Join(t.TempDir(), "deleted-clone")
	now := time.Now()
	// A process that has exited: its id names no process (until the system reuses it).
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		owner   string // "" for no owner file
		used    time.Duration
		pid     int // postmaster.pid, 0 for none
		removed bool
	}{
		{name: "owner deleted, server stopped", owner: gone, used: time.Hour, removed: true},
		{name: "owner deleted, pid of an exited process", owner: gone, used: time.Hour, pid: exited.Process.Pid, removed: true},
		{name: "owner still there", owner: live, used: time.Hour},
		{name: "owner deleted, server running", owner: gone, used: time.Hour, pid: os.Getpid()},
		{name: "owner deleted, used a moment ago", owner: gone, used: time.Second},
		{name: "no owner file", used: time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(root, filepath.Base(t.Name()))
			if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.pid != 0 {
				if err := os.WriteFile(filepath.Join(dir, "data", "postmaster.pid"), []byte(strconv.Itoa(tt.pid)+"\n/data\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.owner != "" {
				f := filepath.Join(dir, ownerFile)
				if err := os.WriteFile(f, []byte(tt.owner), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(f, now.Add(-tt.used), now.Add(-tt.used)); err != nil {
					t.Fatal(err)
				}
			}
			sweepPlaced(root, now)
			_, err := os.Stat(dir)
			if gotRemoved := os.IsNotExist(err); gotRemoved != tt.removed {
				t.Errorf("removed %v, want %v (stat: %v)", gotRemoved, tt.removed, err)
			}
		})
	}
}
