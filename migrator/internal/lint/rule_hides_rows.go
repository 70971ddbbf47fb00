package lint

import "fmt"

var hidesRows = Rule{
	ID: "hides-rows",
	Reason: "row level security was turned on for a populated table that has no policy letting rows through: every role but the owner " +
		"(and the owner too, with FORCE) reads nothing and writes nothing, without an error",
	Fix: "create the policies the application's role needs first (CREATE POLICY ... TO app_role USING (...)), in an earlier file, " +
		"then ENABLE ROW LEVEL SECURITY",
	check: func(j *judge, s *Statement) {
		for _, t := range s.hidden {
			if j.isPopulated(t) {
				s.add("hides-rows", fmt.Sprintf("%s (%d rows): row level security on, no permissive policy", t, j.populated[t]))
			}
		}
	},
}
