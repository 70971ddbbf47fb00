package lint

var renamesTable = Rule{
	ID:     "renames-table",
	Reason: "a table was renamed: every statement of the running version that names it fails",
	Fix:    "create the new table (or a view under the new name), roll the application out, then drop the old name in a -- migrator:post-deploy file",
	check: func(j *judge, s *Statement) {
		if len(s.breaks) > 0 {
			return
		}
		for _, r := range s.renamedTables {
			s.add("renames-table", r.String())
		}
	},
}
