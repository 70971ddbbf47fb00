package lint_test

import (
	"strings"
	"testing"
)

// The running application keeps working, proven by running its statements: each change that
// breaks a statement of queries.sql fails with the statement, the file's line and PostgreSQL's
// error; the expand step of the same change passes.
func TestBreaksRunningApp(t *testing.T) {
	tests := []struct {
		name, sql string
		want      []string // in the finding's detail
	}{
		{"drop_column", "-- the old version still reads it\nALTER TABLE orders DROP COLUMN total_amount;\n",
			[]string{"0006_case.sql:2", "customer_orders (queries.sql:", `column "total_amount" does not exist`}},
		{"rename_column", "ALTER TABLE orders RENAME COLUMN status TO order_status;\n", []string{`column "status" does not exist`}},
		{"rename_table", "ALTER TABLE carts RENAME TO shopping_carts;\n", []string{`relation "carts" does not exist`}},
		{"drop_table", "DROP TABLE order_items;\n", []string{`relation "order_items" does not exist`}},
		{"not_null_without_default", "ALTER TABLE orders ADD COLUMN currency char(3);\nUPDATE orders SET currency = 'EUR';\nALTER TABLE orders ALTER COLUMN currency SET NOT NULL;\n",
			[]string{"0006_case.sql:3", "checkout_order", `null value in column "currency"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := lintWith(t, tt.sql)
			out := text(t, rep)
			i := strings.Index(out, "breaks-running-app: ")
			if i < 0 {
				t.Fatalf("no breaks-running-app finding:\n%s", out)
			}
			entry := out[strings.LastIndex(out[:i], "\n")+1:]
			entry = entry[:strings.Index(entry, "\n    fix:")]
			for _, want := range tt.want {
				if !strings.Contains(entry, want) {
					t.Errorf("the finding lacks %q:\n%s", want, entry)
				}
			}
		})
	}
}

// Within a transaction the application sees only the end: a view dropped and made again in the
// same file breaks nothing.
func TestTransactionRepairsAreNotBreaks(t *testing.T) {
	rep := lintWith(t, "ALTER TABLE orders RENAME COLUMN status TO order_status;\nALTER TABLE orders RENAME COLUMN order_status TO status;\n")
	if rep.Failed != 0 {
		t.Errorf("a rename undone in the same transaction: %d findings %v\n%s", rep.Failed, findings(rep, false), text(t, rep))
	}
}

// A post-deploy file runs after the rollout: what it breaks of the old version is reported for
// the reviewer, not failed; the blocking budgets hold it as any other file.
func TestPostDeployReportsBreaksAndKeepsBudgets(t *testing.T) {
	rep := lintWith(t, "-- migrator:post-deploy\nALTER TABLE orders DROP COLUMN total_amount;\n")
	if rep.Failed != 0 || len(findings(rep, true)) == 0 || findings(rep, true)[0] != "breaks-running-app" {
		t.Errorf("failed %d, reported %v; want breaks-running-app reported, nothing failed\n%s", rep.Failed, findings(rep, true), text(t, rep))
	}
	if out := text(t, rep); !strings.Contains(out, "post-deploy file: it runs after the rollout") || !strings.Contains(out, "one transaction, post-deploy") {
		t.Errorf("the report does not say why it is only reported:\n%s", out)
	}
	rep = lintWith(t, "-- migrator:post-deploy\nLOCK TABLE orders IN SHARE MODE;\nSELECT pg_sleep(1.5);\n")
	if got := findings(rep, false); len(got) < 2 {
		t.Errorf("a post-deploy file that blocks writes for 1.2s: failed %v, want long-blocking-lock and blocks-traffic", got)
	}
}
