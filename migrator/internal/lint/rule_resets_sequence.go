package lint

import "fmt"

var resetsSequence = Rule{
	ID: "resets-sequence",
	Reason: "a sequence a key column draws from was set back to values the column already holds: the application's next inserts " +
		"collide with existing rows (duplicate key) until it passes them",
	Fix: "never restart a key's sequence below its column's largest value; to move it on, SELECT setval(seq, (SELECT max(col) FROM t)) " +
		"(setval only ever helps when it moves forward)",
	check: func(j *judge, s *Statement) {
		for _, r := range s.sequencesBack {
			s.add("resets-sequence", fmt.Sprintf("%s: %s gives %d next, and %s.%s already holds values up to %d", r.table, r.sequence, r.next, r.table, r.column, r.max))
		}
	},
}

// sequenceReset is a sequence whose next value is at or below its column's largest value.
type sequenceReset struct {
	sequence, table, column string
	next, max               int64
}
