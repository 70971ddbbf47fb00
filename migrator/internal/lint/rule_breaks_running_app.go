package lint

import "fmt"

var breaksRunningApp = Rule{
	ID: "breaks-running-app",
	Reason: "a statement of the application's (queries.sql), kept prepared as a running service keeps it, worked before the file and fails " +
		"after it, or a read that returned rows returns none: the version still serving runs it on its next request",
	Fix: "expand and contract: keep what the running version uses (add the new column or table beside the old one, write both), roll the " +
		"application out, then remove the old one in a file marked -- migrator:post-deploy",
	check: func(j *judge, s *Statement) {
		for _, b := range s.breaks {
			s.addWithFix("breaks-running-app", fmt.Sprintf("%s (queries.sql:%d) %s: %s", b.query.Name, b.query.Line, summary(b.query.SQL), b.err), breakFix(s, b))
		}
	},
}

// breakFix is the fix for what the statement changed that broke the application's statement:
// the cause, where the catalog shows one, else the rule's own.
func breakFix(s *Statement, b appBreak) string {
	switch {
	case b.resultType:
		return "the running version keeps this statement prepared, and PostgreSQL refuses a cached plan whose result columns changed: " +
			"add a new column (or table) rather than change the type or add to what SELECT * returns, or roll the application out with a " +
			"statement cache that re-prepares (pgx: statement_cache_capacity=0 for the rollout) before this file"
	case len(s.droppedDefaults) > 0:
		return "keep the default until the release that writes the column itself is rolled out; drop it then in a -- migrator:post-deploy file"
	case len(s.revoked) > 0:
		return "revoke in a -- migrator:post-deploy file, after the release that no longer needs the privilege"
	case len(s.sequencesBack) > 0:
		return resetsSequence.Fix
	case len(s.hidden) > 0 || b.empty:
		return hidesRows.Fix
	}
	return ""
}
