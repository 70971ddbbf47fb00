package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// --format markdown --output FILE --junit FILE: the comment's Markdown goes to the file, not to
// standard output, and the same report as JUnit XML beside it, also when lint fails (exit 8).
func TestLintWritesMarkdownAndJUnitFiles(t *testing.T) {
	url := pgtest.NewDB(t)
	bad, err := os.ReadFile("../../internal/lint/testdata/blocking-index-build/bad.sql")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	md, junit := filepath.Join(out, "lint.md"), filepath.Join(out, "reports", "lint.xml")
	if err := os.Mkdir(filepath.Dir(junit), 0o755); err != nil {
		t.Fatal(err)
	}
	r := cli(t, map[string]string{"MIGRATOR_DIR": lintDir(t, string(bad))},
		"lint", "--database-url", url, "--from", "6", "--rows", "2000", "--format", "markdown", "--output", md, "--junit", junit)
	mustCode(t, r, exitLint)
	if strings.Contains(r.stdout, "NOT online-safe") {
		t.Errorf("the report went to standard output too:\n%s", r.stdout)
	}
	for file, want := range map[string]string{md: "❌ **blocking-index-build**, line 2", junit: `<failure type="blocking-index-build"`} {
		b, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v, want %q in:\n%s", file, err, want, b)
		}
	}
}

// An unknown format and a report file in a directory that does not exist are refused before
// lint starts anything.
func TestLintRefusesBadOutputFlags(t *testing.T) {
	r := cli(t, nil, "lint", "--format", "html")
	mustCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "use one of json, junit, markdown, text") {
		t.Errorf("stderr: %s", r.stderr)
	}
	r = cli(t, nil, "lint", "--junit", "/nonexistent/dir/lint.xml")
	mustCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "its directory /nonexistent/dir does not exist: create it first") {
		t.Errorf("stderr: %s", r.stderr)
	}
}
