package lint_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/internal/corpus"
	"github.com/carthub/carthub-db/migrator/internal/lint"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testRows keeps the tests quick: what the rules look at (catalog changes, relfilenodes, scan
// counters, errors) does not depend on the size; make bench and the default --rows do.
const testRows = 5000

// testMaxBlock is the blocking budget of the tests: the cases that must break it hold their lock
// through a 1.5 s sleep, so they wait at least that; the ones that must not wait milliseconds on
// an idle machine, and stay well under it when CI runs three servers' tests on 2 cores at once.
const testMaxBlock = 800 * time.Millisecond

// applicationQueries is the application's statements lint runs by default: migrations/queries.sql.
func applicationQueries(t *testing.T) []corpus.Query {
	t.Helper()
	qs, err := corpus.Parse("queries.sql", migrations.Queries)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// lintWith lints the migrations with extra as 0006, from version 6, on a fresh database, with
// the application's statements of migrations/queries.sql (extra "": all of ours, from 0001);
// change changes the options.
func lintWith(t *testing.T, extra string, change ...func(*lint.Options)) *lint.Report {
	t.Helper()
	if extra == "" {
		return lintFiles(t, nil, "", append([]func(*lint.Options){func(o *lint.Options) { o.From = 1 }}, change...)...)
	}
	return lintFiles(t, map[string]string{"0006_case.sql": extra}, "", change...)
}

func findings(rep *lint.Report, allowed bool) []string {
	var out []string
	for _, f := range rep.Files {
		for _, s := range f.Statements {
			for _, fd := range s.Findings {
				if (fd.Allowed != "") == allowed {
					out = append(out, fd.Rule)
				}
			}
		}
	}
	return out
}

// Every rule has a bad migration that it flags and a safe twin that passes.
func TestRules(t *testing.T) {
	for _, rule := range lint.Rules {
		t.Run(rule.ID, func(t *testing.T) {
			t.Parallel()
			bad, err := os.ReadFile(filepath.Join("testdata", rule.ID, "bad.sql"))
			if err != nil {
				t.Fatalf("rule %s has no testdata/%s/bad.sql: %v", rule.ID, rule.ID, err)
			}
			good, err := os.ReadFile(filepath.Join("testdata", rule.ID, "good.sql"))
			if err != nil {
				t.Fatalf("rule %s has no testdata/%s/good.sql: %v", rule.ID, rule.ID, err)
			}
			// A rule may bring its own application statements (queries.sql beside the case):
			// the static backstops are for what those do not show.
			var change []func(*lint.Options)
			if q, err := os.ReadFile(filepath.Join("testdata", rule.ID, "queries.sql")); err == nil {
				qs, err := corpus.Parse("queries.sql", string(q))
				if err != nil {
					t.Fatal(err)
				}
				change = append(change, func(o *lint.Options) { o.Queries = qs })
			}
			rep := lintWith(t, string(bad), change...)
			if got := findings(rep, false); !slices.Contains(got, rule.ID) {
				t.Errorf("bad.sql: findings %v, want %s\n%s", got, rule.ID, text(t, rep))
			}
			rep = lintWith(t, string(good), change...)
			if rep.Failed != 0 || rep.Files[len(rep.Files)-1].Error != "" {
				t.Errorf("good.sql: %d findings %v\n%s", rep.Failed, findings(rep, false), text(t, rep))
			}
		})
	}
}

// What lint measures is there to read: the long lock's hold, the probe it blocked, the rewrite.
func TestReportShowsTheMeasurements(t *testing.T) {
	bad, _ := os.ReadFile("testdata/long-blocking-lock/bad.sql")
	rep := lintWith(t, string(bad))
	alter := rep.Files[0].Statements[0]
	var hold time.Duration
	for _, l := range alter.Locks {
		if l.Table == "orders" && l.Mode == "AccessExclusiveLock" {
			hold = l.Hold
		}
	}
	if hold < 2*time.Second {
		t.Errorf("the ALTER's ACCESS EXCLUSIVE on orders held %s, want it to last to the end of the transaction (>= 2s, the sleep): %+v", hold, alter.Locks)
	}
	sleep := rep.Files[0].Statements[1]
	// The probe waited while the sleep ran; the ALTER's lock made it wait, so the wait is the ALTER's.
	if !blocked(alter, "read", "orders") || !blocked(alter, "write", "orders") || len(sleep.Blocked) != 0 {
		t.Errorf("the probe's waits on orders belong to the ALTER: ALTER %v, sleep %v", alter.Blocked, sleep.Blocked)
	}
	rewrite, _ := os.ReadFile("testdata/table-rewrite/bad.sql")
	rep = lintWith(t, string(rewrite))
	if s := rep.Files[0].Statements[0]; !slices.Contains(s.Rewrote, "order_items") {
		t.Errorf("rewrote %v, want order_items", s.Rewrote)
	}
	out := text(t, rep)
	for _, want := range []string{"0006_case.sql", "LOCKS (HOLD -> PROJECTED)", "order_items ACCESS EXCLUSIVE", "FAIL table-rewrite", "fix: ", "NOT online-safe: 4 finding(s) failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the text report lacks %q:\n%s", want, out)
		}
	}
}

// An allow directive turns a finding into a reported, not failed, one.
func TestAllowDirective(t *testing.T) {
	allowed, _ := os.ReadFile("testdata/allowed.sql")
	rep := lintWith(t, string(allowed))
	if rep.Failed != 0 || !slices.Contains(findings(rep, true), "table-rewrite") {
		t.Errorf("failed %d, allowed %v; want table-rewrite allowed\n%s", rep.Failed, findings(rep, true), text(t, rep))
	}
	if out := text(t, rep); !strings.Contains(out, "allowed: order_items is rewritten on purpose") {
		t.Errorf("the report does not give the reason:\n%s", out)
	}
}

// A file that does not apply fails lint: it is not online-safe, and nothing after it was seen.
func TestFileThatFailsFailsLint(t *testing.T) {
	rep := lintWith(t, "ALTER TABLE orders ADD COLUMN note text;\nSELECT no_such_column FROM orders;\n")
	if rep.Failed != 1 || !strings.Contains(rep.Files[0].Error, "no_such_column") {
		t.Errorf("failed %d, error %q; want the file's failure counted\n%s", rep.Failed, rep.Files[0].Error, text(t, rep))
	}
	if out := text(t, rep); !strings.Contains(out, "NOT online-safe") {
		t.Errorf("the report calls a file that failed online-safe:\n%s", out)
	}
}

// Our own migrations are online-safe, from the legacy tables on (0001 creates them empty).
func TestOurMigrationsAreOnlineSafe(t *testing.T) {
	rep := lintWith(t, "")
	if rep.Failed != 0 || len(rep.Files) != 5 {
		t.Errorf("%d files linted, %d findings: %v\n%s", len(rep.Files), rep.Failed, findings(rep, false), text(t, rep))
	}
}

func text(t *testing.T, rep *lint.Report) string {
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// blocked: the probe's kind (read, write) of table waited past the budget because of s.
func blocked(s *lint.Statement, kind, table string) bool {
	return slices.ContainsFunc(s.Blocked, func(w lint.Wait) bool { return w.Kind == kind && w.Table == table })
}
