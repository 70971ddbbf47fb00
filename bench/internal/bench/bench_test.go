package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

func TestSummarise(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	s := Summarise(d)
	if s.Median != 50.5 || s.Min != 1 || s.Max != 100 || s.P99 != 99.01 || s.N != 100 {
		t.Errorf("Summarise = %+v", s)
	}
}

// Every peer gets all of our SQL, and no statement that must run alone shares a peer migration.
func TestPeersGetTheSameSQL(t *testing.T) {
	migs, err := migrate.Load(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := Peers(migs, dir, "/nonexistent", "migrator"); err != nil {
		t.Fatal(err)
	}
	statements := 0
	for _, m := range migs {
		statements += len(m.Up)
	}
	for _, peer := range []string{"goose", "golang-migrate", "tern"} {
		files, _ := filepath.Glob(filepath.Join(dir, peer, "*.sql"))
		var all strings.Builder
		for _, f := range files {
			b, _ := os.ReadFile(f)
			all.Write(b)
			if peer != "goose" && strings.Contains(string(b), "CONCURRENTLY") && strings.Count(string(b), ";") > 1 {
				t.Errorf("%s: %s runs CREATE/DROP INDEX CONCURRENTLY with other statements", peer, filepath.Base(f))
			}
		}
		for _, m := range migs {
			for _, st := range m.Up {
				if !strings.Contains(all.String(), st.SQL) {
					t.Errorf("%s lacks a statement of %s: %.60s", peer, m.File, st.SQL)
				}
			}
		}
	}
	if n, _ := filepath.Glob(filepath.Join(dir, "tern", "*.sql")); len(n) <= len(migs) || len(n) > statements {
		t.Errorf("tern got %d migrations for %d files with %d statements", len(n), len(migs), statements)
	}
}

func TestFigures(t *testing.T) {
	figs := []Figure{AtMost("noop", "no-op vs floor", 1.117, "x", 1.1), Below("pf", "pre-flight", 612.345, "ms", 750)}
	if figs[0].Holds || !figs[1].Holds || figs[1].Value != 612.35 {
		t.Errorf("figures %+v", figs)
	}
	table := Table(figs)
	for _, w := range []string{"| no-op vs floor | 1.12x | at most 1.10x | **no** |", "| pre-flight | 612.35 ms | under 750 ms | yes |"} {
		if !strings.Contains(table, w) {
			t.Errorf("table lacks %q:\n%s", w, table)
		}
	}
}
