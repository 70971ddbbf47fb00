package stacks

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeDocker stands in for the Build stage's Docker, which this machine does not have (podman
// builds the image in make image-test). It records each call and keeps a "registry": a file per
// pushed tag; imagetools inspect answers from it. Pushing a tag that is already there fails, as
// ECR's immutable tags do.
const fakeDocker = `#!/usr/bin/env bash
echo "docker $*" >> "$CALLS"
case "$1 $2" in
  "buildx imagetools")
    case "$3" in
      inspect) [ -f "$REGISTRY/$(echo "$4" | tr '/:' '__')" ] ;;
      create) shift 5; for v in "$@"; do [ -f "$REGISTRY/$(echo "$v" | tr '/:' '__')" ] || { echo "$v: not found" >&2; exit 1; }; done ;;
    esac ;;
  "push "*)
    f="$REGISTRY/$(echo "$2" | tr '/:' '__')"
    [ ! -f "$f" ] || { echo "tag invalid: The image tag '$2' already exists and cannot be overwritten because the repository is immutable." >&2; exit 1; }
    touch "$f" ;;
esac
`

func pushImage(t *testing.T, registry string) []string {
	t.Helper()
	bin := t.TempDir()
	calls := filepath.Join(t.TempDir(), "calls")
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fakeDocker), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(RepoRoot(), "migrator/image/build.sh"), "--push",
		"123.dkr.ecr.us-east-1.amazonaws.com/carthub-database-dev:abc", "linux/amd64,linux/arm64", "docker", "--", "--build-arg", "VERSION=abc")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "CALLS="+calls, "REGISTRY="+registry)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh --push: %v\n%s", err, out)
	}
	b, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// The Build stage's multi-platform push: plain image manifests (no attestation index, which
// docker manifest create refused), joined in the registry, and a retry after a failed push that
// reuses what the registry already holds instead of colliding with its immutable tags.
func TestImagePushWithDocker(t *testing.T) {
	const repo = "123.dkr.ecr.us-east-1.amazonaws.com/carthub-database-dev"
	registry := t.TempDir()
	calls := pushImage(t, registry)
	builds := 0
	for _, c := range calls {
		if strings.HasPrefix(c, "docker build ") {
			builds++
			if !strings.Contains(c, "--provenance=false --sbom=false") {
				t.Errorf("%s: without --provenance=false --sbom=false a containerd-store Docker pushes an index with an attestation", c)
			}
		}
		if strings.HasPrefix(c, "docker manifest ") {
			t.Errorf("%s: docker manifest create refuses variants pushed as indexes; use docker buildx imagetools create", c)
		}
	}
	want := "docker buildx imagetools create --tag " + repo + ":abc " + repo + ":abc-amd64 " + repo + ":abc-arm64"
	if builds != 2 || !slices.Contains(calls, want) {
		t.Fatalf("calls:\n%s\nwant two builds and %q", strings.Join(calls, "\n"), want)
	}

	// A retry after the list failed to push: both variants are there, nothing is rebuilt.
	calls = pushImage(t, registry)
	for _, c := range calls {
		if strings.HasPrefix(c, "docker build ") || strings.HasPrefix(c, "docker push ") {
			t.Errorf("retry: %s (the registry already holds this variant under its immutable tag)", c)
		}
	}
	if !slices.Contains(calls, want) {
		t.Errorf("retry calls:\n%s\nwant %q", strings.Join(calls, "\n"), want)
	}

	// A retry after only amd64 was pushed builds and pushes arm64 alone.
	if err := os.Remove(filepath.Join(registry, strings.NewReplacer("/", "_", ":", "_").Replace(repo+":abc-arm64"))); err != nil {
		t.Fatal(err)
	}
	calls = pushImage(t, registry)
	var pushed []string
	for _, c := range calls {
		if p, ok := strings.CutPrefix(c, "docker push "); ok {
			pushed = append(pushed, p)
		}
	}
	if !slices.Equal(pushed, []string{repo + ":abc-arm64"}) {
		t.Errorf("pushed %v after amd64 was already in the registry, want only the arm64 variant", pushed)
	}
}
