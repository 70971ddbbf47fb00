package lint

import "fmt"

var dropsTable = Rule{
	ID:     "drops-table",
	Reason: "a table the running application may still use was dropped (the application's statements do not show it using it: lint cannot prove it does not)",
	Fix:    "drop it in a -- migrator:post-deploy file, after a release that no longer uses it; add the statements that use it to queries.sql",
	check: func(j *judge, s *Statement) {
		if len(s.breaks) > 0 { // a static backstop, where the application's statements are silent
			return
		}
		for _, t := range s.droppedTables {
			if j.isPopulated(t) {
				s.add("drops-table", fmt.Sprintf("%s (%d rows) dropped", t, j.populated[t]))
			}
		}
	},
}
