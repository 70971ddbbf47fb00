package pipeline

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// registry is a real OCI registry (go-containerregistry's, served by crane) on a free port, with
// a two-platform image list under dev:abc as build.sh pushes it (the list and TAG-ARCH).
type registry struct {
	crane, addr string
}

func startRegistry(t *testing.T) *registry {
	t.Helper()
	crane, err := filepath.Abs(filepath.Join("..", "..", ".data", "tools", "crane"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(crane); err != nil {
		t.Fatalf("no %s: run make crane (make test-infra does)", crane)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := exec.Command(crane, "registry", "serve", "--address", addr)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	r := &registry{crane: crane, addr: addr}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("crane registry serve did not listen on %s", addr)
		}
	}
	layer := filepath.Join(t.TempDir(), "layer.tar")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "migrator"), []byte("a stand-in binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-C", dir, "-cf", layer, "migrator").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		ref := r.ref("dev:abc-" + arch)
		r.crane_(t, "append", "-f", layer, "-t", ref)
		r.crane_(t, "mutate", "--set-platform", "linux/"+arch, ref, "-t", ref)
	}
	r.crane_(t, "index", "append", "-m", r.ref("dev:abc-amd64"), "-m", r.ref("dev:abc-arm64"), "-t", r.ref("dev:abc"))
	return r
}

func (r *registry) ref(name string) string { return r.addr + "/" + name }

func (r *registry) crane_(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(r.crane, args...).Output()
	if err != nil {
		t.Fatalf("crane %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func (r *registry) promote(t *testing.T, tag string) (string, string, error) {
	t.Helper()
	cmd := exec.Command("./promote.sh", r.ref("dev"), tag, r.ref("prod"))
	cmd.Env = append(os.Environ(), "CRANE="+r.crane)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return strings.TrimSpace(stdout.String()), stderr.String(), err
}

// Prod runs an image it owns: promote.sh copies dev's list and its platform images into prod's
// repository with the digests unchanged (the Job names the image by digest), tagged as build.sh
// tags them, so that prod's age-based expiry takes them together; a rerun changes nothing; a
// commit dev never built is refused with what to do.
func TestPromoteCopiesTheImageByDigest(t *testing.T) {
	r := startRegistry(t)
	want := r.crane_(t, "digest", r.ref("dev:abc"))
	got, stderr, err := r.promote(t, "abc")
	if err != nil {
		t.Fatalf("promote.sh: %v\n%s", err, stderr)
	}
	if got != want {
		t.Fatalf("promote.sh printed %q, want dev's digest %s", got, want)
	}
	if d := r.crane_(t, "digest", r.ref("prod:abc")); d != want {
		t.Errorf("prod:abc is %s, want %s", d, want)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if d, w := r.crane_(t, "digest", r.ref("prod:abc-"+arch)), r.crane_(t, "digest", r.ref("dev:abc-"+arch)); d != w {
			t.Errorf("prod:abc-%s is %s, want dev's %s", arch, d, w)
		}
	}
	// The copy is complete: the platform image prod's arm64 nodes pull resolves in prod alone.
	r.crane_(t, "pull", "--platform", "linux/arm64", r.ref("prod@"+want), filepath.Join(t.TempDir(), "img.tar"))

	again, stderr, err := r.promote(t, "abc")
	if err != nil || again != want || !strings.Contains(stderr, "already holds") {
		t.Errorf("rerun: %q, %v\n%s", again, err, stderr)
	}

	_, stderr, err = r.promote(t, "0000deadbeef")
	if err == nil || !strings.Contains(stderr, "commit 0000deadbeef has no image in "+r.ref("dev")+": run it through that environment's pipeline first") {
		t.Errorf("a commit dev never built: %v\n%s", err, stderr)
	}

	// A prod tag that holds another image is never overwritten.
	r.crane_(t, "copy", r.ref("dev:abc-amd64"), r.ref("prod:other"))
	r.crane_(t, "tag", r.ref("dev:abc"), "other")
	_, stderr, err = r.promote(t, "other")
	if err == nil || !strings.Contains(stderr, fmt.Sprintf("%s already holds", r.ref("prod:other"))) {
		t.Errorf("a conflicting prod tag: %v\n%s", err, stderr)
	}
}

func TestPipelineScriptsPassShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is required (apt-get install shellcheck; make lint installs it)")
	}
	for _, script := range []string{"promote.sh", "../../migrator/image/build.sh"} {
		if out, err := exec.Command(sc, script).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s:\n%s", script, out)
		}
	}
	if !bytes.Contains(PromoteScript, []byte("set -euo pipefail")) {
		t.Error("promote.sh must run with set -euo pipefail")
	}
}
