package lint

var renamesColumn = Rule{
	ID:     "renames-column",
	Reason: "a column was renamed: every statement of the running version that names it fails",
	Fix:    "add the new column, write both and backfill, roll the application out, then drop the old column in a -- migrator:post-deploy file",
	check: func(j *judge, s *Statement) {
		if len(s.breaks) > 0 {
			return
		}
		for _, r := range s.renamedColumns {
			s.add("renames-column", r.String())
		}
	},
}
