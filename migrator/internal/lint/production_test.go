package lint_test

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/internal/corpus"
	"github.com/carthub/carthub-db/migrator/internal/lint"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

// lintFiles lints our migrations plus extra (named 0006_..., 0007_...) from 0006 on, with the
// application's statements of queries.sql plus moreQueries.
func lintFiles(t *testing.T, extra map[string]string, moreQueries string, change ...func(*lint.Options)) *lint.Report {
	t.Helper()
	files := fstest.MapFS{}
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := fs.ReadFile(migrations.FS, e.Name())
		files[e.Name()] = &fstest.MapFile{Data: b}
	}
	for name, text := range extra {
		files[name] = &fstest.MapFile{Data: []byte(text)}
	}
	migs, err := migrate.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	qs := applicationQueries(t)
	if moreQueries != "" {
		more, err := corpus.Parse("more.sql", moreQueries)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, more...)
	}
	expected, _ := schema.Parse(migrations.ExpectedSchema)
	baseline, _ := schema.Parse(migrations.BaselineSchema)
	url := pgtest.NewDB(t)
	connect := func(ctx context.Context) (*pgx.Conn, error) {
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			return nil, err
		}
		cfg.RuntimeParams["timezone"] = "UTC"
		return pgx.ConnectConfig(ctx, cfg)
	}
	opts := lint.Options{
		From: len(entries) + 1, Rows: testRows, MaxLockHold: time.Second, MaxBlock: testMaxBlock, Queries: qs,
		Engine: migrate.Options{Migrations: migs, Baseline: baseline, Tables: expected.Tables()},
	}
	for _, c := range change {
		c(&opts)
	}
	rep, err := lint.Run(context.Background(), connect, opts)
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	return rep
}

// failedRules are the rules that failed in the report, each once, sorted.
func failedRules(rep *lint.Report) []string {
	var out []string
	for _, r := range findings(rep, false) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// findingOf is the first finding of rule in the report, or a zero one.
func findingOf(rep *lint.Report, rule string) lint.Finding {
	for _, f := range rep.Files {
		for _, s := range f.Statements {
			for _, fd := range s.Findings {
				if fd.Rule == rule {
					return fd
				}
			}
		}
	}
	return lint.Finding{}
}

// superuser: the tests' role is a superuser (PGTEST_ROLE=superuser).
func superuser(t *testing.T) bool {
	t.Helper()
	var super bool
	if err := pgtest.Connect(t, pgtest.NewDB(t)).QueryRow(context.Background(), "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		t.Fatal(err)
	}
	return super
}

// hasFinding: some finding of rule has detail in its text.
func hasFinding(rep *lint.Report, rule, detail string) bool {
	for _, f := range rep.Files {
		for _, s := range f.Statements {
			for _, fd := range s.Findings {
				if fd.Rule == rule && strings.Contains(fd.Detail, detail) {
					return true
				}
			}
		}
	}
	return false
}

// The verdict is about production's size, not lint's dataset: the same file is judged the same
// at 20,000, 50,000 and 200,000 rows, and the holds that grow with rows are shown projected.
func TestVerdictDoesNotMoveWithTheDatasetSize(t *testing.T) {
	cases := map[string]struct {
		sql       string
		want      []string
		projected bool // the report shows a hold or time projected to production
	}{
		"backfill_in_one_statement": {"UPDATE order_items SET product_name = upper(product_name);\n", []string{"blocks-traffic"}, true},
		"lock_then_update":          {"LOCK TABLE orders IN EXCLUSIVE MODE;\nUPDATE orders SET status = 'cancelled' WHERE status = 'pending';\n", []string{"blocks-traffic", "long-blocking-lock"}, true},
		"catalog_change_alone":      {"ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;\n", nil, false},
		// TRUNCATE swaps in empty files for the table and its indexes: no cost that grows with rows.
		"truncate": {"TRUNCATE cart_items;\n", []string{"breaks-running-app", "empties-table"}, false},
	}
	for name, c := range cases {
		for _, rows := range []int{20_000, 50_000, 200_000} {
			t.Run(fmt.Sprintf("%s_%d", name, rows), func(t *testing.T) {
				t.Parallel()
				rep := lintFiles(t, map[string]string{"0006_case.sql": c.sql}, "", func(o *lint.Options) { o.Rows = rows })
				if got := failedRules(rep); !slices.Equal(got, c.want) {
					t.Errorf("at %d rows: failed %v, want %v\n%s", rows, got, c.want, text(t, rep))
				}
				if c.projected && !strings.Contains(text(t, rep), "projected to production") {
					t.Errorf("the report does not show the projection:\n%s", text(t, rep))
				}
			})
		}
	}
}

// A lock taken by an earlier statement of the transaction is held when a later one scans: the
// VALIDATE after ADD ... NOT VALID in the same transaction reads the table under ACCESS
// EXCLUSIVE (a CHECK) or SHARE ROW EXCLUSIVE (a FOREIGN KEY).
func TestLocksHeldSinceAnEarlierStatementCount(t *testing.T) {
	for name, sql := range map[string]string{
		"check":       "ALTER TABLE orders ADD CONSTRAINT orders_total_small CHECK (total_amount < 100000) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_small;\n",
		"foreign_key": "ALTER TABLE order_items ADD CONSTRAINT order_items_order_fk2 FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;\nALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_fk2;\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rep := lintFiles(t, map[string]string{"0006_case.sql": sql}, "")
			validate := rep.Files[0].Statements[1]
			if !slices.ContainsFunc(validate.Findings, func(f lint.Finding) bool {
				return f.Rule == "scan-under-write-lock" && strings.Contains(f.Detail, "earlier statement of the same transaction")
			}) {
				t.Errorf("the VALIDATE is not judged under the ADD's lock: %+v\n%s", validate.Findings, text(t, rep))
			}
			if !slices.Contains(failedRules(rep), "long-blocking-lock") {
				t.Errorf("the ADD's lock, held through the scan, is not a long lock: %v", failedRules(rep))
			}
		})
	}
}

// One file, one verdict: a collation change rebuilds the column's index (a scan of the table
// under ACCESS EXCLUSIVE); ten runs side by side on a busy machine give the same findings.
func TestOneFileOneVerdict(t *testing.T) {
	const file = "ALTER TABLE orders ALTER COLUMN customer_id TYPE varchar(255) COLLATE \"C\";\n"
	verdicts := make([]string, 10)
	t.Run("runs", func(t *testing.T) {
		for i := range verdicts {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				verdicts[i] = strings.Join(failedRules(lintFiles(t, map[string]string{"0006_case.sql": file}, "")), ",")
			})
		}
	})
	for _, v := range verdicts[1:] {
		if v != verdicts[0] {
			t.Fatalf("ten runs of the same file gave different verdicts: %q", verdicts)
		}
	}
	if !strings.Contains(verdicts[0], "scan-under-write-lock") {
		t.Errorf("the index rebuild under ACCESS EXCLUSIVE is not a finding: %q", verdicts[0])
	}
}

// The application's statements run the way a running application runs them: prepared before
// the file and executed after it, with values that touch rows, and a read that goes empty broke
// it as surely as an error.
func TestTheAppRunsAsItReallyRuns(t *testing.T) {
	cases := []struct {
		name, sql, queries, rule, detail string
	}{
		{"kept_prepared", "ALTER TABLE order_items ALTER COLUMN product_id TYPE varchar(400);\n", "",
			"breaks-running-app", "cached plan must not change result type"},
		{"trigger_fires", "CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS trigger AS $$\nBEGIN\n    NEW.updated_at = now();\n    NEW.updated_by = current_user;\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n", "",
			"breaks-running-app", "updated_by"},
		{"values_from_the_check", "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_valid;\nALTER TABLE orders ADD CONSTRAINT orders_status_valid CHECK (status IN ('archived')) NOT VALID;\n",
			"-- name: cancel_order\nUPDATE orders SET status = $1 WHERE id = $2;\n", "breaks-running-app", "cancel_order"},
		{"a_value_the_check_no_longer_allows", "ALTER TABLE orders\n    DROP CONSTRAINT orders_status_valid,\n    ADD CONSTRAINT orders_status_valid CHECK (status IN ('pending', 'processing', 'shipped', 'delivered')) NOT VALID;\n",
			"-- name: cancel_order\nUPDATE orders SET status = $1 WHERE id = $2;\n", "breaks-running-app", "'cancelled'"},
		{"read_goes_empty", "ALTER TABLE carts ENABLE ROW LEVEL SECURITY;\nALTER TABLE carts FORCE ROW LEVEL SECURITY;\n", "",
			"breaks-running-app", "none after it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep := lintFiles(t, map[string]string{"0006_case.sql": c.sql}, c.queries)
			// A superuser reads through row level security even when it is forced: the catalog's
			// hides-rows is what sees it then (make test runs as a non-superuser owner, as RDS does).
			if !hasFinding(rep, c.rule, c.detail) && !(c.name == "read_goes_empty" && superuser(t) && hasFinding(rep, "hides-rows", "carts")) {
				t.Errorf("no %s finding naming %q:\n%s", c.rule, c.detail, text(t, rep))
			}
			for name, err := range rep.Files[0].NotChecked {
				t.Errorf("the application's %s was not checked: %s", name, err)
			}
		})
	}
}

// Relations that are not plain tables are measured and judged like tables: a materialized view
// refreshed without CONCURRENTLY holds ACCESS EXCLUSIVE on a view the application reads.
func TestMaterializedViewRefresh(t *testing.T) {
	files := map[string]string{
		"0006_view.sql":    "CREATE MATERIALIZED VIEW customer_order_totals AS SELECT customer_id, sum(total_amount) AS total FROM orders GROUP BY customer_id;\nCREATE UNIQUE INDEX customer_order_totals_customer ON customer_order_totals (customer_id);\n",
		"0007_refresh.sql": "REFRESH MATERIALIZED VIEW customer_order_totals;\n",
	}
	queries := "-- name: customer_total\nSELECT total FROM customer_order_totals WHERE customer_id = $1;\n"
	rep := lintFiles(t, files, queries, func(o *lint.Options) { o.MaxLockHold = 100 * time.Millisecond })
	refresh := rep.Files[len(rep.Files)-1].Statements[0]
	if !slices.ContainsFunc(refresh.Locks, func(l lint.Lock) bool { return l.Table == "customer_order_totals" && l.Mode == "AccessExclusiveLock" }) {
		t.Errorf("the refresh's ACCESS EXCLUSIVE on the view is not listed: %+v", refresh.Locks)
	}
	if f := findingOf(rep, "table-rewrite"); f.Fix == "" || !strings.Contains(f.Fix, "CONCURRENTLY") {
		t.Errorf("the refresh is not judged with its own fix: %+v\n%s", f, text(t, rep))
	}
	if !slices.Contains(failedRules(rep), "long-blocking-lock") {
		t.Errorf("the view's lock is not judged against --max-lock-hold: %v\n%s", failedRules(rep), text(t, rep))
	}
	// CONCURRENTLY takes EXCLUSIVE on the view, which lets its readers through: nobody writes a view.
	files["0007_refresh.sql"] = "-- migrator:no-transaction\nREFRESH MATERIALIZED VIEW CONCURRENTLY customer_order_totals;\n"
	rep = lintFiles(t, files, queries)
	if got := failedRules(rep); len(got) != 0 {
		t.Errorf("REFRESH ... CONCURRENTLY failed %v\n%s", got, text(t, rep))
	}
}

// Each finding speaks to its cause.
func TestFindingsSpeakToTheirCause(t *testing.T) {
	cases := []struct{ name, sql, rule, text string }{
		{"truncate", "TRUNCATE cart_items;\n", "empties-table", "never empty a live table"},
		{"stored_generated_column", "ALTER TABLE order_items ADD COLUMN line_total numeric GENERATED ALWAYS AS (price * quantity) STORED;\n", "table-rewrite", "stored generated column"},
		{"sequence_restart", "ALTER SEQUENCE orders_id_seq RESTART WITH 1;\n", "resets-sequence", "setval"},
		{"revoke", "GRANT SELECT ON orders TO PUBLIC;\nREVOKE SELECT ON orders FROM PUBLIC;\n", "revokes-privilege", "post-deploy"},
		{"drop_default", "ALTER TABLE orders ALTER COLUMN created_at DROP DEFAULT;\n", "breaks-running-app", "keep the default"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep := lintFiles(t, map[string]string{"0006_case.sql": c.sql}, "")
			f := findingOf(rep, c.rule)
			rule, _ := lint.RuleByID(c.rule)
			fix := f.Fix
			if fix == "" {
				fix = rule.Fix
			}
			if f.Rule == "" || !strings.Contains(fix, c.text) {
				t.Errorf("%s: want %s with a fix about %q, got %+v (fix %q)\n%s", c.name, c.rule, c.text, f, fix, text(t, rep))
			}
			if slices.Contains(failedRules(rep), "volatile-default") {
				t.Errorf("%s is not a volatile default", c.name)
			}
		})
	}
}
