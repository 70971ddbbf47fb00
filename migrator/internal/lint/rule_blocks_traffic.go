package lint

import (
	"fmt"
	"slices"
)

var blocksTraffic = Rule{
	ID: "blocks-traffic",
	Reason: "a read or write of the application's would wait longer than --max-block at production's size for a lock this statement holds " +
		"(a table lock, or row locks on the rows it changed, held to the end of its transaction): requests stall, and time out where the services set a lock_timeout",
	Fix: "keep each transaction that locks live rows or tables short: backfill in batches of a few thousand rows with a commit after each " +
		"(a -- migrator:no-transaction file with a DO block that COMMITs per batch), and take strong locks only for catalog changes",
	check: func(j *judge, s *Statement) {
		budget := j.opts.MaxBlock
		// Row locks: every row the statement updated or deleted stays locked until its transaction
		// ends, whatever row the probe happened to pick.
		for _, tc := range s.Touched {
			if tc.Written == 0 || !s.written[tc.Table] || !j.isPopulated(tc.Table) || s.projectedUntilEnd <= budget {
				continue
			}
			s.add("blocks-traffic", fmt.Sprintf("%s: row locks on %s rows (%s at production's size) held %s: the application's writes of them wait that long (limit %s)",
				tc.Table, thousands(tc.Written), thousands(scaled(tc.Written, s, j, tc.Table)), measuredAndProjected(s.untilEnd, s.projectedUntilEnd), budget))
		}
		// Table locks that make the application's writes (or reads) wait.
		for _, lk := range s.Locks {
			if !j.isPopulated(lk.Table) || lk.Projected <= budget || s.has("blocks-traffic", lk.Table) {
				continue
			}
			if j.matview(lk.Table) && !conflictsWith(lk.Mode, "AccessShareLock") {
				continue // a materialized view is only read
			}
			if conflictsWith(lk.Mode, "RowExclusiveLock") {
				what := "write of " + lk.Table + " (ROW EXCLUSIVE on " + lk.Table + ")"
				if conflictsWith(lk.Mode, "AccessShareLock") {
					what = "read and write of " + lk.Table + " (ACCESS SHARE, ROW EXCLUSIVE on " + lk.Table + ")"
				}
				s.add("blocks-traffic", fmt.Sprintf("%s: the application's %s, which this statement's %s lock blocks, waits %s (limit %s)",
					lk.Table, what, modeName(lk.Mode), measuredAndProjected(lk.Hold, lk.Projected), budget))
			}
		}
		// What the probe measured beyond the model: a wait past the budget.
		for _, w := range s.Blocked {
			if s.has("blocks-traffic", w.Table) {
				continue
			}
			s.add("blocks-traffic", fmt.Sprintf("%s: the application's %s (%s) waited %s for %s%s (limit %s)",
				w.Table, w.Kind, w.SQL, round(w.Took), w.Lock, heldBy(s, w), budget))
		}
	},
}

// scaled is n rows of table at production's size, where the statement's cost grows with it.
func scaled(n int64, s *Statement, j *judge, table string) int64 {
	if !slices.Contains(s.growsWith(j.populated), table) || j.populated[table] == 0 {
		return n
	}
	return int64(float64(n) * float64(j.opts.productionRows(table)) / float64(j.populated[table]))
}

// heldBy says which lock of s the wait was for.
func heldBy(s *Statement, w Wait) string {
	if w.rowLock {
		return ", held by this statement's transaction"
	}
	for _, lk := range s.Locks {
		if lk.Table == w.Table && conflictsWith(lk.Mode, w.needs()) {
			return ", which this statement's " + modeName(lk.Mode) + " lock blocks"
		}
	}
	return ""
}
