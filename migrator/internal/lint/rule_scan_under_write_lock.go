package lint

import (
	"fmt"
	"slices"
	"strings"
)

var scanUnderWriteLock = Rule{
	ID:     "scan-under-write-lock",
	Reason: "a populated table was read in full while its transaction held a lock on it that blocks writes",
	Fix: "prove the condition first with a validated CHECK (ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT, which lets writes " +
		"through), then SET NOT NULL, which then skips the scan",
	check: func(j *judge, s *Statement) {
		scanned := slices.Clone(s.Scanned)
		for _, ix := range s.rebuiltIndexes { // a rebuilt index reads its table in full, whatever the counters caught
			if !slices.Contains(scanned, ix.table) && !slices.Contains(s.Rewrote, ix.table) {
				scanned = append(scanned, ix.table)
			}
		}
		slices.Sort(scanned)
		for _, t := range scanned {
			if slices.Contains(s.Rewrote, t) || slices.ContainsFunc(s.newIndexes, func(ix relation) bool { return ix.table == t }) ||
				slices.ContainsFunc(s.newValidConstraints, func(c relation) bool { return c.table == t }) {
				continue // a rewrite, an index build or a validated constraint reads the table in full: their own rules say so
			}
			mode := s.heldMode(t)
			if !j.isPopulated(t) || !slices.Contains(writeBlocking, mode) || (j.matview(t) && mode != "AccessExclusiveLock") {
				continue // a materialized view is only read: a lock that lets reads through blocks nobody
			}
			detail := fmt.Sprintf("%s (%d rows; %s) read in full under %s", t, j.populated[t], j.production(t), modeName(mode))
			switch {
			case s.strongestLock(t) != mode:
				s.addWithFix("scan-under-write-lock", detail+", taken by an earlier statement of the same transaction and held until its COMMIT", earlierLockFix)
			case len(namesOn(s.rebuiltConstraints, t)) > 0:
				s.addWithFix("scan-under-write-lock", detail+" to check "+strings.Join(namesOn(s.rebuiltConstraints, t), ", ")+" again", recheckFix)
			case len(namesOn(s.rebuiltIndexes, t)) > 0:
				s.addWithFix("scan-under-write-lock", detail+" to rebuild "+strings.Join(namesOn(s.rebuiltIndexes, t), ", "), reindexFix)
			default:
				s.add("scan-under-write-lock", detail)
			}
		}
	},
}

// earlierLockFix is the fix for a scan under a lock an earlier statement of the transaction took.
const earlierLockFix = "run the scanning statement (VALIDATE CONSTRAINT, SET NOT NULL, ...) outside the transaction that took the strong lock: " +
	"in a -- migrator:no-transaction file each statement commits on its own, so the catalog change's lock ends before the scan starts"

// recheckFix is the fix for an ALTER COLUMN TYPE that checks the column's constraints again.
const recheckFix = "in one transaction drop the constraint, change the type and add the constraint back NOT VALID (catalog changes only); " +
	"VALIDATE CONSTRAINT in a later statement, which lets writes through"

// reindexFix is the fix for a statement that rebuilt indexes in place.
const reindexFix = "REINDEX ... CONCURRENTLY (or CREATE INDEX CONCURRENTLY beside the old index, then DROP INDEX CONCURRENTLY), in a file " +
	"with -- migrator:no-transaction; for a collation or type change, add a new column with the new collation and move to it"
