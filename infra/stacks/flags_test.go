package stacks

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// cdk.json holds every feature flag a new project of this aws-cdk-lib gets (its
// recommended-feature-flags.json, read from the jsii bundle the Go module ships), at the
// recommended value or, where the templates should not change, another with its reason under
// carthub:featureFlagNotes. Otherwise cdk synth says flags are unset and their old defaults
// apply unseen.
func TestFeatureFlagsAreTheRecommendedOnes(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-cdk-go/awscdk/v2").Output()
	if err != nil {
		t.Fatalf("go list the CDK module: %v", err)
	}
	bundles, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "jsii", "aws-cdk-lib-*.tgz"))
	if len(bundles) != 1 {
		t.Fatalf("jsii bundles of aws-cdk-lib: %v", bundles)
	}
	recommended := readFromTarball(t, bundles[0], "package/recommended-feature-flags.json")
	b, err := os.ReadFile(filepath.Join(RepoRoot(), "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cdk struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &cdk); err != nil {
		t.Fatal(err)
	}
	notes, _ := cdk.Context["carthub:featureFlagNotes"].(map[string]any)
	if len(recommended) < 50 {
		t.Fatalf("only %d recommended flags read", len(recommended))
	}
	for flag, want := range recommended {
		got, set := cdk.Context[flag]
		switch {
		case !set:
			t.Errorf("cdk.json lacks %s (recommended: %v)", flag, want)
		case !reflect.DeepEqual(got, want) && notes[flag] == nil:
			t.Errorf("cdk.json sets %s to %v, not the recommended %v, without a reason in carthub:featureFlagNotes", flag, got, want)
		}
	}
}

func readFromTarball(t *testing.T, path, name string) map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s has no %s", path, name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name {
			var out map[string]any
			if err := json.NewDecoder(tr).Decode(&out); err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
}
