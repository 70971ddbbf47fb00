package lint

import "fmt"

var slowsRunningApp = Rule{
	ID: "slows-running-app",
	Reason: "a statement of the application's plans a full scan of a populated table where it used an index before the file, or its " +
		"estimated cost grew past --max-plan-growth: it still works, on every request, at production's size much slower",
	Fix: "keep the index the statement uses (create its replacement CONCURRENTLY first, drop the old one in a later, post-deploy file), " +
		"or ANALYZE the table in the same file where a rewrite dropped its statistics",
	check: func(j *judge, s *Statement) {
		for _, c := range s.slowed {
			s.add("slows-running-app", fmt.Sprintf("%s (queries.sql:%d): %s\n      before: %s\n      after:  %s",
				c.query.Name, c.query.Line, c.why, c.before, c.after))
		}
	},
}
