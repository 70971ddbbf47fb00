package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// A 50 MB migration (a data fix of many INSERTs) must fit the Job's memory limit (256 MiB) with
// room to spare: the migrator holds the file once, plus 24 bytes per statement, and sends a
// transactional file in batches of 1 MiB. status (which loads and parses every file) peaks below
// three times the file (measured: 120 MB for 50 MB; 225-272 MB before).
func TestLargeFileMemoryIsBounded(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "0001_big.sql"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "CREATE TABLE big (id int, note text);")
	pad := strings.Repeat("x", 60)
	size := 0
	for n := 0; size < 50<<20; n++ {
		k, _ := fmt.Fprintf(w, "INSERT INTO big VALUES (%d, '%s');\n", n, pad)
		size += k
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p := start(t, map[string]string{"DATABASE_URL": pgtest.NewDB(t), "MIGRATOR_DIR": dir}, "status", "--log-level", "warn")
	r := p.wait(t)
	mustCode(t, r, 0)
	peak := p.cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // kB on Linux
	t.Logf("status of a %d MB file: peak RSS %d MB", size>>20, peak>>20)
	if peak > 3*int64(size) {
		t.Errorf("peak RSS %d MB for a %d MB file, want below %d MB (3x the file)", peak>>20, size>>20, 3*size>>20)
	}
}
