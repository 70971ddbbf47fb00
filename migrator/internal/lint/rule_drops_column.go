package lint

var dropsColumn = Rule{
	ID:     "drops-column",
	Reason: "a column the running application may still read or write was dropped (the application's statements do not show it: lint cannot prove nothing uses it)",
	Fix:    "drop it in a -- migrator:post-deploy file, after a release that no longer uses it",
	check: func(j *judge, s *Statement) {
		if len(s.breaks) > 0 {
			return
		}
		for _, c := range s.droppedColumns {
			s.add("drops-column", c.String()+" dropped")
		}
	},
}
