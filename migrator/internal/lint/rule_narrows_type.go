package lint

import "fmt"

var narrowsType = Rule{
	ID: "narrows-type",
	Reason: "a column's type was narrowed (e.g. varchar(255) to varchar(50)): the ALTER fails on a longer value in production, or a USING " +
		"clause cuts it, and the running application's longer writes start failing",
	Fix: "keep the wider type and enforce the new limit with a CHECK (... ) NOT VALID, then VALIDATE it; or add a narrower column beside the " +
		"old one and move the data in batches",
	check: func(j *judge, s *Statement) {
		for _, n := range s.narrowedColumns {
			s.add("narrows-type", fmt.Sprintf("%s from %s to %s", n.relation, n.from, n.to))
		}
	},
}
