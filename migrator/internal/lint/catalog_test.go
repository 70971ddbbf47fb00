package lint_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/corpus"
	"github.com/carthub/carthub-db/migrator/internal/lint"
)

// withoutApplication lints without application statements, so that only what the catalog says counts.
func withoutApplication(o *lint.Options) { o.Queries = []corpus.Query{} }

// Objects are what they are, not their names: a renamed column is not a new column with a
// volatile default, a renamed constraint is not a new validated one.
func TestRenamesAreRenames(t *testing.T) {
	tests := []struct {
		name, sql string
		want      []string
	}{
		{"rename_column", "ALTER TABLE orders RENAME COLUMN status TO order_status;\n", []string{"renames-column"}},
		{"rename_constraint", "ALTER TABLE orders RENAME CONSTRAINT orders_total_amount_nonnegative TO orders_total_amount_not_negative;\n", nil},
		{"rename_index", "ALTER INDEX idx_orders_open_status RENAME TO idx_orders_pending;\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := lintWith(t, tt.sql, withoutApplication)
			if got := findings(rep, false); !slices.Equal(got, tt.want) {
				t.Errorf("findings %v, want %v\n%s", got, tt.want, text(t, rep))
			}
		})
	}
}

// The report says what happened to every table: a dropped table's own lock is listed.
func TestDroppedTableLockIsListed(t *testing.T) {
	rep := lintWith(t, "DROP TABLE order_items;\n", withoutApplication)
	s := rep.Files[0].Statements[0]
	if !slices.ContainsFunc(s.Locks, func(l lint.Lock) bool { return l.Table == "order_items" && l.Mode == "AccessExclusiveLock" }) {
		t.Errorf("DROP TABLE order_items: locks %+v, want order_items ACCESS EXCLUSIVE among them", s.Locks)
	}
}

// The count of failures is the count listed: a file refused for one reason fails once.
func TestFailuresCountedAsListed(t *testing.T) {
	rep := lintWith(t, "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_x ON orders (status);\n")
	out := text(t, rep)
	listed := strings.Count(out[strings.Index(out, "Failed:"):], "\n  0006_case.sql")
	if rep.Failed != 1 || listed != 1 || !strings.Contains(out, "1 finding(s) failed") {
		t.Errorf("failed %d, listed %d; want 1 and 1\n%s", rep.Failed, listed, out)
	}
}

// Each fix fits its statement: a REINDEX is told to reindex concurrently, not to prove a NOT NULL.
func TestFixFitsTheStatement(t *testing.T) {
	rep := lintWith(t, "REINDEX TABLE orders;\n", withoutApplication)
	out := text(t, rep)
	if !strings.Contains(out, "fix: REINDEX ... CONCURRENTLY") || strings.Contains(out, "SET NOT NULL") {
		t.Errorf("REINDEX TABLE's fix should be REINDEX CONCURRENTLY, and nothing about SET NOT NULL:\n%s", out)
	}
}
