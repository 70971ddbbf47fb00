package lint_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/lint"
)

// Every measured block is a verdict, whatever the lock mode: a SHARE lock held through a slow
// statement blocks the application's writes, and both the hold and the writes' wait fail the
// statement that took the lock, naming the lock and how long.
func TestEveryMeasuredBlockIsAVerdict(t *testing.T) {
	rep := lintWith(t, "LOCK TABLE orders IN SHARE MODE;\nSELECT pg_sleep(1.5);\n")
	lock := rep.Files[0].Statements[0]
	rules := ruleIDs(lock)
	if !slices.Contains(rules, "long-blocking-lock") || !slices.Contains(rules, "blocks-traffic") {
		t.Fatalf("LOCK TABLE orders IN SHARE MODE held through 1.2s: findings %v, want long-blocking-lock and blocks-traffic\n%s", rules, text(t, rep))
	}
	detail := findingDetail(lock, "blocks-traffic")
	for _, want := range []string{"write of orders", "ROW EXCLUSIVE on orders", "SHARE lock blocks", "limit 800ms"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the blocks-traffic finding lacks %q: %s", want, detail)
		}
	}
	if w := lock.Blocked[0]; w.Took < time.Second {
		t.Errorf("the write waited %s, want about the 1.2s the lock was held", w.Took)
	}
	if slices.Contains(ruleIDs(lock), "blocks-traffic") && strings.Contains(findingDetail(lock, "blocks-traffic"), "read of orders") {
		t.Errorf("a SHARE lock lets reads through, yet a read is reported blocked: %s", detail)
	}
	out := text(t, rep)
	for _, want := range []string{"held at most 1s (--max-lock-hold)", "wait at most 800ms (--max-block)", "write orders 1."} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}

// Row locks count: a backfill that keeps the rows it changed locked blocks the writes of them.
func TestRowLocksBlockTraffic(t *testing.T) {
	rep := lintWith(t, "UPDATE order_items SET product_name = upper(product_name);\nSELECT pg_sleep(1.5);\n")
	update := rep.Files[0].Statements[0]
	if d := findingDetail(update, "blocks-traffic"); !strings.Contains(d, "row locks on 5,000 rows") {
		t.Errorf("the UPDATE's finding should name the row lock the write waited for: %q\n%s", d, text(t, rep))
	}
}

func ruleIDs(s *lint.Statement) []string {
	var out []string
	for _, f := range s.Findings {
		out = append(out, f.Rule)
	}
	return out
}

func findingDetail(s *lint.Statement, rule string) string {
	for _, f := range s.Findings {
		if f.Rule == rule {
			return f.Detail
		}
	}
	return ""
}
