package lint

import (
	"fmt"
	"slices"
)

var longBlockingLock = Rule{
	ID: "long-blocking-lock",
	Reason: "a lock that blocks the application's writes (SHARE or stronger) or reads (ACCESS EXCLUSIVE) is held on a populated table longer " +
		"than --max-lock-hold at production's size: every such statement waits that long",
	Fix: "split the work: change the catalog in one short statement (ADD ... NOT VALID, ADD COLUMN without a volatile default) and do the long " +
		"part (VALIDATE, backfill in batches) after it, outside that lock",
	check: func(j *judge, s *Statement) {
		for _, lk := range s.Locks {
			if !slices.Contains(writeBlocking, lk.Mode) || !j.isPopulated(lk.Table) || lk.Projected <= j.opts.MaxLockHold || s.has("long-blocking-lock", lk.Table) {
				continue
			}
			if j.matview(lk.Table) && lk.Mode != "AccessExclusiveLock" {
				continue // nobody writes a materialized view: only a lock that blocks its reads matters
			}
			blocks := "writes"
			if lk.Mode == "AccessExclusiveLock" {
				blocks = "reads and writes"
			}
			s.add("long-blocking-lock", fmt.Sprintf("%s: %s held %s, blocking its %s (limit %s; %s)",
				lk.Table, modeName(lk.Mode), measuredAndProjected(lk.Hold, lk.Projected), blocks, j.opts.MaxLockHold, j.production(lk.Table)))
		}
	},
}
