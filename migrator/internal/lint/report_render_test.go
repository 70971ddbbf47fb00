package lint_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/lint"
)

// renderReport is a report as lint makes it, written by hand so that the renderers' output is
// the same on every machine: a file that passes, one that fails with a long statement (lint
// keeps its first 57 characters), a post-deploy file with an allowed finding and an application
// statement it could not check, and a file that does not apply, where lint stopped.
func renderReport() *lint.Report {
	ms := time.Millisecond
	return &lint.Report{
		Server: "17.10", Rows: 2000, MaxLockHold: time.Second, MaxBlock: 500 * ms, Queries: 9,
		Dataset: "the migrations below 0006 and 2000 rows per table copied from template carthub_lint_tpl_0123456789abcdef",
		Failed:  2, Allowed: 1, Took: 4321 * ms,
		Files: []*lint.File{
			{File: "0006_orders_note.sql", Loaded: map[string]int64{"orders": 2000, "carts": 2000}, LoadTook: 80 * ms, Took: 25 * ms,
				Statements: []*lint.Statement{{Line: 3, SQL: "ALTER TABLE orders ADD COLUMN note text", Duration: 4 * ms,
					Locks: []lint.Lock{{Table: "orders", Mode: "AccessExclusiveLock", Hold: 5 * ms}}}}},
			{File: "0007_orders_total_amount_index.sql", Took: 291 * ms,
				Statements: []*lint.Statement{{Line: 2, SQL: "CREATE INDEX IF NOT EXISTS idx_orders_total_amount ON ord...", Duration: 247 * ms,
					Locks:    []lint.Lock{{Table: "orders", Mode: "ShareLock", Hold: 259 * ms}},
					Scanned:  []string{"orders"},
					Blocked:  []lint.Wait{{Table: "orders", Kind: "write", Lock: "SHARE on orders", Took: 501 * ms}},
					Findings: []lint.Finding{{Rule: "blocking-index-build", Detail: "index idx_orders_total_amount built on orders (2000 rows) without CONCURRENTLY"}}}}},
			{File: "0008_drop_legacy_note.sql", PostDeploy: true, NoTransaction: true, Took: 12 * ms,
				NotChecked: map[string]string{"legacy_report": `ERROR: column "x" does not exist (SQLSTATE 42703)`},
				Statements: []*lint.Statement{{Line: 4, SQL: "ALTER TABLE orders DROP COLUMN IF EXISTS legacy_note", Duration: 3 * ms,
					Locks:    []lint.Lock{{Table: "orders", Mode: "AccessExclusiveLock", Hold: 3 * ms}},
					Findings: []lint.Finding{{Rule: "drops-column", Detail: "orders.legacy_note dropped", Allowed: "the application stopped reading it in 2.14 | rolled out"}}}}},
			{File: "0009_broken.sql", Took: 2 * ms, Error: `failed: ERROR: relation "order" does not exist (SQLSTATE 42P01)`,
				Statements: []*lint.Statement{{Line: 1, SQL: "UPDATE \"order\" SET status = 'x' WHERE `odd` | 1", Error: `relation "order" does not exist`}}},
		},
	}
}

// Each renderer writes the same report as its golden file says (go test -run TestReportFormats
// -update rewrites them; review the diff).
func TestReportFormats(t *testing.T) {
	for format, write := range lint.Formats {
		if format == "json" {
			continue // the model itself, tested where lint runs
		}
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := write(renderReport(), &b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "report", "report."+format+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestReportFormats -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("the %s report changed; check it and run with -update:\n--- got\n%s--- want\n%s", format, b.String(), want)
			}
		})
	}
}

// The Markdown comment keeps each statement on its table row whatever the statement holds, and
// says where lint stopped.
func TestMarkdownReportStaysReadable(t *testing.T) {
	var b bytes.Buffer
	if err := renderReport().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"❌ **NOT online-safe**: 2 finding(s) failed, 1 allowed, in 4 file(s)",
		"### ✅ `0006_orders_note.sql`",
		"### ❌ `0007_orders_total_amount_index.sql`",
		"- fix: CREATE INDEX CONCURRENTLY IF NOT EXISTS",
		"**post-deploy**: runs after the application's rollout",
		"allowed because: the application stopped reading it in 2.14 | rolled out",
		"Not checked (the application's statement already failed",
		"**Did not apply**: failed: ERROR: relation \"order\" does not exist",
		"Lint stopped at `0009_broken.sql`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| ") {
			if cells := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); cells != 10 {
				t.Errorf("a table row with %d cell borders, want 10: %s", cells, l)
			}
		}
	}
}

// The JUnit file is well-formed and counts a failing case per statement with a finding and one
// for a file that does not apply.
func TestJUnitReportCounts(t *testing.T) {
	var b bytes.Buffer
	if err := renderReport().WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Skipped int `xml:"skipped,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if got.Tests != 6 || got.Failures != 3 || len(got.Suites) != 4 || got.Suites[2].Skipped != 1 {
		t.Errorf("tests %d failures %d suites %d, want 6, 3 (the index, the broken statement, the file), 4:\n%s", got.Tests, got.Failures, len(got.Suites), b.String())
	}
}
