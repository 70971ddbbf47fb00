package migrate_test

import (
	"context"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// The history is read without ORDER BY (a no-op run's one query stays off the primary key's
// index): rows an UPDATE moved to the end of the table still come back in version order.
func TestHistoryComesBackInVersionOrderWhateverTheRowsPlace(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, pgtest.NewDB(t))
	m := newMigrator(t, conn, migrate.Options{})
	up(t, m, 3)
	// A new row version of 0001 and 0002 lands after 0003's in the heap: a plain scan returns 3, 1, 2.
	if _, err := conn.Exec(ctx, "UPDATE "+migrate.DefaultHistoryTable+" SET applied_by = applied_by WHERE version IN (1, 2)"); err != nil {
		t.Fatal(err)
	}
	var first int
	if err := conn.QueryRow(ctx, "SELECT version FROM "+migrate.DefaultHistoryTable+" LIMIT 1").Scan(&first); err != nil || first != 3 {
		t.Fatalf("the heap's first row is %d (%v), want 3: the test no longer moves rows", first, err)
	}
	st, err := m.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var applied []int
	for _, a := range st.Applied {
		applied = append(applied, a.Version)
	}
	if len(applied) != 3 || applied[0] != 1 || applied[1] != 2 || applied[2] != 3 {
		t.Errorf("applied %v, want [1 2 3]", applied)
	}
	if len(st.Pending) != 2 || st.Pending[0].Version != 4 {
		t.Errorf("pending %d files from %v, want 0004 and 0005", len(st.Pending), st.Pending)
	}
	// up then finds nothing out of place and applies the rest.
	if done := up(t, m, 0); len(done) != 2 {
		t.Errorf("up applied %d files, want 2", len(done))
	}
}
