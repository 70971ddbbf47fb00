package pgserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A clone in a directory only its owner may enter (/root, mktemp -d) holds the npm PostgreSQL
// builds and .data/pg. As root the server runs as postgres, who cannot enter it: the binaries
// are copied, and the server's files placed, where it can. As another user nothing moves.
func TestStartsFromAPrivateDirectory(t *testing.T) {
	bin, err := FindBin()
	if err != nil {
		t.Fatal(err)
	}
	owner, err := RunAs()
	if err != nil {
		t.Fatal(err)
	}
	// The system roots, moved to an open temporary directory so the test leaves nothing behind.
	open, err := os.MkdirTemp("", "carthub-open-") // t.TempDir's parent is closed to others
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(open) })
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	oldStaged, oldPlaced := StagedBinRoot, PlacedDirRoot
	StagedBinRoot, PlacedDirRoot = filepath.Join(open, "cache"), filepath.Join(open, "servers")
	t.Cleanup(func() { StagedBinRoot, PlacedDirRoot = oldStaged, oldPlaced })

	clone := t.TempDir() // 0700, like mktemp -d
	if err := os.Chmod(clone, 0o700); err != nil {
		t.Fatal(err)
	}
	install := filepath.Join(clone, "node_modules", "postgres", "native")
	if err := os.MkdirAll(filepath.Dir(install), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(install, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(context.Background(), filepath.Dir(bin), install); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PG_BINDIR", filepath.Join(install, filepath.Base(bin)))

	ctx := context.Background()
	dir := filepath.Join(clone, ".data", "pg")
	srv, err := Start(ctx, Options{Dir: dir, Detach: true})
	if err != nil {
		t.Fatalf("start a server for %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = Remove(ctx, dir) })
	conn, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	if owner == nil {
		if srv.Bin != os.Getenv("PG_BINDIR") || srv.Files != dir {
			t.Errorf("as %d nothing should move: binaries %s, files %s", os.Geteuid(), srv.Bin, srv.Files)
		}
	} else {
		if !strings.HasPrefix(srv.Bin, StagedBinRoot+"/") || !strings.HasPrefix(srv.Files, PlacedDirRoot+"/") {
			t.Errorf("as root the binaries and files must move where %s can reach them: binaries %s, files %s", owner.Username, srv.Bin, srv.Files)
		}
		// The placed directory names its owner, so that once the clone is deleted the next
		// placement removes what it left (sweepPlaced).
		if b, err := os.ReadFile(filepath.Join(srv.Files, ownerFile)); err != nil || string(b) != dir {
			t.Errorf("the placed directory's owner file holds %q (%v), want %s", b, err, dir)
		}
	}
	// The state stays in dir: the next command (devdb url, stop) finds the server again.
	again, running := Running(ctx, dir)
	if !running || again.Port != srv.Port {
		t.Fatalf("the server recorded in %s is not found again: running=%v", dir, running)
	}
	// The same build is staged once: the next server reuses the copy.
	if next, err := ReachableBin(ctx, owner, os.Getenv("PG_BINDIR")); err != nil || next != srv.Bin {
		t.Errorf("the second server gets %s (%v), want the first one's %s", next, err, srv.Bin)
	}
	if err := Remove(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, srv.Files} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there after Remove (err %v)", p, err)
		}
	}
}
