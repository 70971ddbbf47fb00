package dataset_test

import (
	"context"
	"os"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// A shaped plan gives each table its share of the shape's rows, and each column the shape's
// NULL fraction, distinct count and width, which the generated table's own statistics then show.
func TestFillFollowsTheShape(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Connect(t, pgtest.NewDB(t))
	if _, err := conn.Exec(ctx, `CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent, note text, kind int)`); err != nil {
		t.Fatal(err)
	}
	shape := &dataset.Shape{Tables: map[string]dataset.TableShape{
		"parent": {Rows: 1000},
		"child": {Rows: 10000, Columns: map[string]dataset.ColumnShape{
			"note": {NullFrac: 0.3, AvgWidth: 41, NDistinct: -0.5},
			"kind": {NDistinct: 7},
		}},
	}}
	loaded, err := dataset.FillPlan(ctx, conn, "none", dataset.Plan{Shape: shape, Fraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if loaded["parent"] != 500 || loaded["child"] != 5000 {
		t.Fatalf("loaded %v, want half of the shape's rows", loaded)
	}
	got, err := dataset.ReadShape(ctx, conn, "none")
	if err != nil {
		t.Fatal(err)
	}
	note, kind := got.Tables["child"].Columns["note"], got.Tables["child"].Columns["kind"]
	if note.NullFrac < 0.25 || note.NullFrac > 0.35 || note.AvgWidth < 38 || note.AvgWidth > 44 || kind.NDistinct != 7 {
		t.Errorf("generated child: note %+v, kind %+v; want about 30%% NULLs, width 41, kind with 7 values", note, kind)
	}
	distinct := note.NDistinct // pg_stats: a count, or minus a fraction of the rows
	if distinct < 0 {
		distinct *= -5000
	}
	if distinct < 2000 || distinct > 2600 {
		t.Errorf("note has %v distinct values, want about 2500 (half of 5000 rows)", distinct)
	}
}
