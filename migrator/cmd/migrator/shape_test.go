package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

type lintReport struct {
	Rows  int    `json:"rows_per_table"`
	Shape string `json:"shape"`
	Files []struct {
		File       string `json:"file"`
		Statements []struct {
			Duration time.Duration `json:"duration_ns"`
			Locks    []struct {
				Table string        `json:"table"`
				Hold  time.Duration `json:"hold_ns"`
			} `json:"locks"`
		} `json:"statements"`
		Loaded map[string]int64 `json:"loaded"`
	} `json:"files"`
}

// held sums the lock holds of the report's statements on table.
func (r lintReport) held(table string) time.Duration {
	var d time.Duration
	for _, f := range r.Files {
		for _, s := range f.Statements {
			for _, l := range s.Locks {
				if l.Table == table {
					d += l.Hold
				}
			}
		}
	}
	return d
}

func lintJSON(t *testing.T, url string, args ...string) lintReport {
	t.Helper()
	r := cli(t, nil, append([]string{"lint", "--database-url", url, "--format", "json", "--from", "4"}, args...)...)
	if r.code != 0 && r.code != exitLint {
		t.Fatalf("lint: exit %d\n%s", r.code, r.stderr)
	}
	var rep lintReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("lint --format json: %v\n%s", err, r.stdout)
	}
	return rep
}

// migrator shape reads a database's shape from its statistics alone (no value of a row leaves
// it); lint --shape generates a dataset of that shape and says so, and the locks it measures on
// the table that is far larger in that shape (orders, with ten items each) are held longer than
// on the default dataset, as the sizes predict.
func TestLintOnAProductionShape(t *testing.T) {
	prod := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(prod), "up"), 0)
	const secret = "private-customer-value"
	pgtest.Exec(t, prod, `INSERT INTO carts (customer_id) SELECT 'c' || g FROM generate_series(1, 200) g;
INSERT INTO orders (customer_id, total_amount, status)
  SELECT '`+secret+`-' || g || repeat('a', 40), g % 500, 'pending' FROM generate_series(1, 20000) g;
INSERT INTO order_items (order_id, product_id, product_name, price, quantity)
  SELECT o.id, 'p' || i, 'product', 1, 1 + i % 3 FROM orders o, generate_series(1, 10) i;
ANALYZE`)
	out := filepath.Join(t.TempDir(), "shape.json")
	mustCode(t, cli(t, dbEnv(prod), "shape", "--out", out), 0)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) || strings.Contains(string(b), "aaaa") {
		t.Fatalf("the shape file holds row values:\n%s", b)
	}
	s, err := dataset.LoadShape(out)
	if err != nil {
		t.Fatal(err)
	}
	if o := s.Tables["orders"]; o.Rows != 20000 || o.Columns["customer_id"].AvgWidth < 60 || o.Columns["status"].NDistinct != 1 {
		t.Errorf("orders shape = %+v", o)
	}
	if s.Tables["order_items"].Rows != 200000 {
		t.Errorf("order_items rows = %d", s.Tables["order_items"].Rows)
	}

	scratch := pgtest.NewDB(t)
	def := lintJSON(t, scratch, "--rows", "2000")
	shaped := lintJSON(t, scratch, "--shape", out, "--shape-fraction", "1")
	if def.Shape != "" || !strings.Contains(shaped.Shape, "the shape of ") || !strings.Contains(shaped.Shape, "at 1 of its rows") {
		t.Errorf("report shapes: default %q, shaped %q", def.Shape, shaped.Shape)
	}
	if n := shaped.Files[0].Loaded["order_items"]; n != 200000 {
		t.Errorf("shaped dataset loaded %d order_items, want 200000 (the shape at fraction 1): %v", n, shaped.Files[0].Loaded)
	}
	for _, table := range []string{"orders", "order_items"} {
		d, sh := def.held(table), shaped.held(table)
		if sh <= d {
			t.Errorf("%s: locks held %v on the shaped dataset, %v on 2000 rows: the larger table should hold them longer", table, sh, d)
		}
		t.Logf("%s: locks held %v on 2000 rows, %v on the shape", table, d, sh)
	}
}
