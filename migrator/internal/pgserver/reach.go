package pgserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// As root, the servers run as the postgres user (PostgreSQL and pgbouncer refuse root), and that
// user must be able to execute the binaries and to enter the directory the server writes in. A
// clone in a directory only root may enter (/root, or mktemp -d) gives it neither, so the
// binaries and the server's files move to these system directories, readable by every user,
// which postgres reaches wherever the clone is.
var (
	// StagedBinRoot holds copies of PostgreSQL installations that the server user cannot reach
	// where they are, one directory per installation and build.
	StagedBinRoot = "/var/cache/carthub-db/postgres"
	// PlacedDirRoot holds the server directories (data, socket, certificates, log) of callers
	// whose own directory the server user cannot enter, one per caller's directory.
	PlacedDirRoot = "/var/lib/carthub-db/servers"
)

// CanReach reports whether owner may use path: for a directory, enter it (and so every
// directory above it); for a file, execute it. The kernel answers, through test(1) run as
// owner, so ACLs and group memberships count as they will for the server. A nil owner is the
// current user, who may.
func CanReach(ctx context.Context, owner *user.User, path string) bool {
	if owner == nil {
		return true
	}
	return exec.CommandContext(ctx, "runuser", "-u", owner.Username, "--", "test", "-x", path).Run() == nil
}

// ReachableBin returns bin when owner can execute the PostgreSQL binaries in it; otherwise a copy
// of the whole installation (bin's parent: bin, lib, share, as the npm builds lay it out; the
// binaries find lib and share relative to themselves) under StagedBinRoot, made once per build
// and shared by every later server and every clone.
func ReachableBin(ctx context.Context, owner *user.User, bin string) (string, error) {
	if CanReach(ctx, owner, filepath.Join(bin, "initdb")) {
		return bin, nil
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", err
	}
	// Named by the build (the postgres binary's content): every clone and reinstall of the same
	// build shares one copy.
	key, err := fileHash(filepath.Join(abs, "postgres"))
	if err != nil {
		return "", fmt.Errorf("no postgres binary in %s: %w", abs, err)
	}
	install := filepath.Dir(abs)
	staged := filepath.Join(StagedBinRoot, filepath.Base(filepath.Dir(install))+"-"+filepath.Base(install)+"-"+key[:12])
	stagedBin := filepath.Join(staged, filepath.Base(abs))
	if _, err := os.Stat(filepath.Join(stagedBin, "initdb")); err == nil {
		return stagedBin, nil
	}
	if err := mkdirShared(StagedBinRoot); err != nil {
		return "", fmt.Errorf("the %s user cannot execute the PostgreSQL binaries in %s (a directory above them is closed to it), "+
			"and they cannot be copied where it can: %w; clone the repository where every user may enter, or set PG_BINDIR to an installation it can reach",
			owner.Username, abs, err)
	}
	tmp, err := os.MkdirTemp(StagedBinRoot, ".staging-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left to remove
	if err := copyTree(ctx, install, tmp); err != nil {
		return "", fmt.Errorf("copy the PostgreSQL installation %s to %s: %w", install, StagedBinRoot, err)
	}
	// Another process may have staged the same build meanwhile: either copy will do.
	if err := os.Rename(tmp, staged); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, statErr := os.Stat(filepath.Join(stagedBin, "initdb")); statErr != nil {
			return "", fmt.Errorf("stage the PostgreSQL installation in %s: %w", staged, err)
		}
	}
	if !CanReach(ctx, owner, filepath.Join(stagedBin, "initdb")) {
		return "", fmt.Errorf("the %s user cannot execute the PostgreSQL binaries copied to %s either: make %s readable and searchable by every user",
			owner.Username, stagedBin, StagedBinRoot)
	}
	return stagedBin, nil
}

// BuildKey names the PostgreSQL build in bin by its postgres binary's content: the same build in
// any clone or install location has the same key.
func BuildKey(bin string) (string, error) {
	key, err := fileHash(filepath.Join(bin, "postgres"))
	if err != nil {
		return "", fmt.Errorf("no postgres binary in %s: %w", bin, err)
	}
	return key[:12], nil
}

// fileHash is the hex SHA-256 of a file's content.
func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ServerDir returns the directory a server run as owner keeps its files in for the caller's dir:
// dir itself when owner can enter it once it owns it (its parents are open to it), otherwise
// a directory of its own under PlacedDirRoot, named after dir, so that the same dir finds the
// same server again.
func ServerDir(ctx context.Context, owner *user.User, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if CanReach(ctx, owner, filepath.Dir(abs)) {
		return abs, nil
	}
	if err := mkdirShared(PlacedDirRoot); err != nil {
		return "", fmt.Errorf("the %s user cannot enter %s (a directory above it is closed to it), and no directory can be made for it in %s: %w; "+
			"use a directory every user may enter", owner.Username, abs, PlacedDirRoot, err)
	}
	sweepPlaced(PlacedDirRoot, time.Now())
	sum := sha256.Sum256([]byte(abs))
	placed := filepath.Join(PlacedDirRoot, filepath.Base(abs)+"-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(placed, 0o700); err != nil {
		return "", err
	}
	// Rewritten at every use: its time is the last use, which the sweep of other callers' leftovers reads.
	if err := os.WriteFile(filepath.Join(placed, ownerFile), []byte(abs), 0o644); err != nil {
		return "", err
	}
	return placed, nil
}

// mkdirShared makes dir (and its parents) readable and searchable by every user.
func mkdirShared(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o005 != 0o005 {
			return fmt.Errorf("%s is mode %v, closed to other users", d, st.Mode().Perm())
		}
	}
	return nil
}

// copyTree copies everything under src into dst with cp -a (files, directories and the
// libraries' symbolic links, modes kept), then opens it to every user to read and enter.
func copyTree(ctx context.Context, src, dst string) error {
	for _, args := range [][]string{{"cp", "-a", src + "/.", dst}, {"chmod", "-R", "a+rX", dst}} {
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}
