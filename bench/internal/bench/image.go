package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ImagePayload builds the image's two binaries for goarch as the Dockerfile does (static,
// -trimpath, -s -w, the migrator module alone) and adds the files beside them: the bytes the
// image's layers hold (`podman image ls` adds the tar headers, a few KB). repo is the
// repository's root, files the CA bundles the image copies.
func ImagePayload(ctx context.Context, repo, goarch, version string, files ...string) (int64, error) {
	dir, err := os.MkdirTemp("", "carthub-image-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var paths []string
	for _, cmd := range []string{"migrator", "migrator-aws"} {
		out := filepath.Join(dir, cmd)
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", out, "./cmd/"+cmd)
		build.Dir = filepath.Join(repo, "migrator")
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOWORK=off")
		if b, err := build.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("build %s for %s: %v\n%s", cmd, goarch, err, b)
		}
		paths = append(paths, out)
	}
	var total int64
	for _, p := range append(paths, files...) {
		st, err := os.Stat(p)
		if err != nil {
			return 0, err
		}
		total += st.Size()
	}
	return total, nil
}
