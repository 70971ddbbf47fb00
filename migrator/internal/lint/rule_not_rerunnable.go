package lint

// not-rerunnable is found by running a no-transaction file a second time (lint.go, rerun).
var notRerunnable = Rule{
	ID: "not-rerunnable",
	Reason: "a statement of a no-transaction file failed when the file ran a second time: a run interrupted after it cannot be resumed " +
		"(the migrator resumes a partly applied no-transaction file at the statement it stopped in)",
	Fix: "make each statement idempotent: IF [NOT] EXISTS, DROP ... IF EXISTS before ADD, WHERE clauses that skip done rows",
}
