package migrations

import (
	"io/fs"
	"strings"
	"testing"
)

// Every migration opens with a comment saying what it changes and which locks it takes: the
// reviewer of a migration on a live database needs both before reading the SQL.
func TestEveryFileSaysWhatAndWhichLocks(t *testing.T) {
	names, err := fs.Glob(FS, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations embedded: %v", err)
	}
	for _, name := range names {
		b, _ := fs.ReadFile(FS, name)
		text := string(b)
		if !strings.HasPrefix(text, "-- "+strings.TrimSuffix(name, ".sql")+": ") {
			t.Errorf("%s must start with \"-- %s: <what it changes>\"", name, strings.TrimSuffix(name, ".sql"))
		}
		header, _, _ := strings.Cut(text, "\n\n")
		if !strings.Contains(header, "-- Locks:") {
			t.Errorf("%s: its opening comment must say which locks it takes (\"-- Locks: ...\")", name)
		}
	}
	if !strings.Contains(ExpectedSchema, "table carts") || !strings.Contains(BaselineSchema, "index carts.idx_carts_customer_id") {
		t.Error("the schema snapshots are not embedded")
	}
}
