package pgserver

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ownerFile, in a directory placed under PlacedDirRoot, holds the caller's directory it serves.
const ownerFile = "owner"

// sweepGrace is how long a placed directory is kept after its last use whatever else is true:
// its caller may not have made its own directory yet.
const sweepGrace = time.Minute

// sweepPlaced removes the directories under root that a deleted clone or cache directory left
// behind: the caller's directory named in the owner file is gone, no server runs from it, and it
// was last used more than sweepGrace ago. A server's data is hundreds of MB, and nothing else
// would ever remove it (Remove needs the caller's directory, which recorded the server). A
// directory without an owner file (placed before it was written) is left alone.
func sweepPlaced(root string, now time.Time) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		owner, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil || len(owner) == 0 {
			continue
		}
		st, err := os.Stat(filepath.Join(dir, ownerFile))
		if err != nil || now.Sub(st.ModTime()) < sweepGrace {
			continue
		}
		if _, err := os.Stat(string(owner)); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if pid, ok := postmasterPID(dir); ok && alive(pid) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			slog.Warn("a server directory whose owner is gone could not be removed", "dir", dir, "owner", string(owner), "error", err)
		}
	}
}

// postmasterPID is the process id in the postmaster.pid of the server whose files are in files.
func postmasterPID(files string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(files, "data", "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(first)
	return pid, err == nil && pid > 0
}

// alive reports whether a process with that id exists (EPERM: it does, as another user's).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
