package lint_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/lint"
)

var update = flag.Bool("update", false, "rewrite testdata/squawk-comparison.golden")

// squawkVersion is the pinned @squawk-cli/linux-x64 in package.json.
const squawkVersion = "2.66.0"

// TestSquawkComparison runs squawk, the static linter, over the same testdata and keeps the
// comparison in testdata/squawk-comparison.golden: for each case what migrator lint says (its
// verdicts are asserted by TestRules) and what squawk says. squawk's require-lock-timeout and
// require-statement-timeout are left out: the migrator sets both on every session itself.
func TestSquawkComparison(t *testing.T) {
	bin := squawkBinary(t)
	var b strings.Builder
	fmt.Fprintf(&b, "# migrator lint vs squawk %s (--pg-version 17.0; transactional files with --assume-in-transaction)\n", squawkVersion)
	fmt.Fprintf(&b, "# case | migrator lint | squawk\n")
	for _, rule := range lint.Rules {
		for _, kind := range []string{"bad", "good"} {
			file := filepath.Join("testdata", rule.ID, kind+".sql")
			ours := "ok"
			if kind == "bad" {
				ours = rule.ID
			}
			fmt.Fprintf(&b, "%s/%s | %s | %s\n", rule.ID, kind, ours, strings.Join(squawk(t, bin, file), ", "))
		}
	}
	fmt.Fprintf(&b, "allowed | table-rewrite (allowed) | %s\n", strings.Join(squawk(t, bin, "testdata/allowed.sql"), ", "))
	golden := filepath.Join("testdata", "squawk-comparison.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestSquawkComparison -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("squawk's findings changed; check and run with -update:\n--- got\n%s--- want\n%s", b.String(), want)
	}
}

// squawk returns the rule names squawk reports for one file.
func squawk(t *testing.T, bin, file string) []string {
	t.Helper()
	sql, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--reporter", "json", "--pg-version", "17.0", "--exclude", "require-lock-timeout,require-statement-timeout"}
	if !bytes.Contains(sql, []byte("-- migrator:no-transaction")) {
		args = append(args, "--assume-in-transaction")
	}
	cmd := exec.Command(bin, append(args, file)...)
	out, err := cmd.Output()
	if err != nil && cmd.ProcessState.ExitCode() != 1 { // 1: it found something
		t.Fatalf("squawk %s: %v\n%s", file, err, out)
	}
	var findings []struct {
		Rule string `json:"rule_name"`
	}
	if err := json.Unmarshal(out, &findings); err != nil {
		t.Fatalf("squawk %s: %v\n%s", file, err, out)
	}
	var rules []string
	for _, f := range findings {
		if !slices.Contains(rules, f.Rule) {
			rules = append(rules, f.Rule)
		}
	}
	slices.Sort(rules)
	if len(rules) == 0 {
		return []string{"ok"}
	}
	return rules
}

// squawkBinary finds the squawk that npm ci installed in the repository's node_modules.
func squawkBinary(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		bin := filepath.Join(dir, "node_modules", "@squawk-cli", "linux-x64", "bin", "squawk")
		if _, err := os.Stat(bin); err == nil {
			return bin
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no node_modules/@squawk-cli/linux-x64 above the package: run `npm ci` at the repository root (make test does)")
		}
		dir = parent
	}
}
