package lint

import "fmt"

var constraintWithoutNotValid = Rule{
	ID:     "constraint-without-not-valid",
	Reason: "a CHECK or FOREIGN KEY constraint was added validated on a populated table: the validating scan runs under a lock that blocks writes",
	Fix:    "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later statement outside that transaction (it takes a lock that lets writes through)",
	check: func(j *judge, s *Statement) {
		for _, c := range s.newValidConstraints {
			if j.isPopulated(c.table) {
				s.add("constraint-without-not-valid", fmt.Sprintf("%s: %s added validated (%d rows; %s)", c.table, c.name, j.populated[c.table], j.production(c.table)))
			}
		}
	},
}
