package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// lintDir is our migrations plus extra as 0006.
func lintDir(t *testing.T, extra string) string {
	t.Helper()
	files := map[string]string{"0006_extra.sql": extra}
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(migrations.FS, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return writeMigrations(t, files)
}

// With --database-url, lint works in a scratch database it creates on that server and drops
// afterwards, as the role it is given (which needs CREATEDB), and touches no other database. An
// unsafe file is exit 8; the JSON report carries the finding.
func TestLintOnAGivenServer(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, "CREATE TABLE untouched (id int); INSERT INTO untouched VALUES (1)")
	bad, err := os.ReadFile("../../internal/lint/testdata/blocking-index-build/bad.sql")
	if err != nil {
		t.Fatal(err)
	}
	r := cli(t, map[string]string{"MIGRATOR_DIR": lintDir(t, string(bad))},
		"lint", "--database-url", url, "--from", "6", "--rows", "2000", "--format", "json")
	mustCode(t, r, exitLint)
	var rep struct {
		Failed int `json:"failed"`
		Files  []struct {
			File       string `json:"file"`
			Statements []struct {
				Findings []struct{ Rule string } `json:"findings"`
			} `json:"statements"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--format json: %v\n%s", err, r.stdout)
	}
	// At production's size the build also holds its SHARE lock past both budgets.
	var rules []string
	if len(rep.Files) == 1 && len(rep.Files[0].Statements) > 0 {
		for _, f := range rep.Files[0].Statements[0].Findings {
			rules = append(rules, f.Rule)
		}
	}
	if rep.Failed != len(rules) || len(rep.Files) != 1 || rep.Files[0].File != "0006_extra.sql" || !slices.Contains(rules, "blocking-index-build") {
		t.Errorf("report = %+v", rep)
	}
	conn := pgtest.Connect(t, url)
	var scratch int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname LIKE 'carthub_lint_%'").Scan(&scratch); err != nil {
		t.Fatal(err)
	}
	if scratch != 0 {
		t.Errorf("%d scratch databases left behind", scratch)
	}
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM untouched").Scan(&n); err != nil || n != 1 {
		t.Errorf("the database named in --database-url was changed: %v, %d rows", err, n)
	}
	var tables int
	_ = conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_tables WHERE tablename = 'orders'").Scan(&tables)
	if tables != 0 {
		t.Error("lint applied migrations to the database named in --database-url instead of a scratch one")
	}
}

// An allow directive naming no rule is refused before anything runs.
func TestLintRefusesAnUnknownRule(t *testing.T) {
	dir := lintDir(t, "-- migrator:allow no-such-rule: because\nSELECT 1;\n")
	r := cli(t, nil, "lint", "--dir", dir)
	mustCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, `0006_extra.sql:1 allows \"no-such-rule\", which is not a lint rule`) &&
		!strings.Contains(r.stderr, `0006_extra.sql:1 allows "no-such-rule", which is not a lint rule`) {
		t.Errorf("stderr: %s", r.stderr)
	}
}
