package lint

import (
	"fmt"
	"slices"
)

var tableRewrite = Rule{
	ID:     "table-rewrite",
	Reason: "a populated table was rewritten (new relfilenode) under ACCESS EXCLUSIVE: reads and writes wait for the whole copy",
	Fix: "add a new column, backfill it in batches and swap, or pick a change PostgreSQL does in place (e.g. varchar(n) to text, timestamp " +
		"to timestamptz with timezone UTC)",
	check: func(j *judge, s *Statement) {
		for _, t := range s.Rewrote {
			if !j.isPopulated(t) || slices.Contains(s.emptied, t) {
				continue // an emptied table has its own rule
			}
			detail := fmt.Sprintf("%s (%d rows; %s) rewritten", t, j.populated[t], j.production(t))
			switch {
			case slices.ContainsFunc(s.generatedColumns, func(c relation) bool { return c.table == t }):
				s.addWithFix("table-rewrite", detail+" to store a generated column", generatedFix)
			case j.matview(t):
				s.addWithFix("table-rewrite", detail+": a materialized view refreshed without CONCURRENTLY, unreadable until it ends", refreshFix)
			default:
				s.add("table-rewrite", detail)
			}
		}
	},
}

// generatedFix is table-rewrite's fix for an added stored generated column.
const generatedFix = "a stored generated column computes and writes a value into every row at once: add a plain nullable column, " +
	"fill it in batches, keep it current with a trigger (or in the application), then add a CHECK ... NOT VALID and VALIDATE it"

// refreshFix is table-rewrite's fix for REFRESH MATERIALIZED VIEW.
const refreshFix = "REFRESH MATERIALIZED VIEW CONCURRENTLY (it needs a unique index on the view): readers keep the old rows until the new ones are in"
