package lint

import "fmt"

var emptiesTable = Rule{
	ID: "empties-table",
	Reason: "a populated table has no rows after the statement (TRUNCATE, DELETE without a WHERE): every live row (carts, orders) is gone, " +
		"and TRUNCATE also holds ACCESS EXCLUSIVE",
	Fix: "never empty a live table in a migration: delete only the rows you mean, in batches (WHERE ... with a commit per batch), or move " +
		"the data away with the application's consent; a table no release uses any more is dropped in a -- migrator:post-deploy file",
	check: func(j *judge, s *Statement) {
		for _, t := range s.emptied {
			s.add("empties-table", fmt.Sprintf("%s: %d rows before, none after", t, j.populated[t]))
		}
	},
}
