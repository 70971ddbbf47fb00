package lint

import "fmt"

var volatileDefault = Rule{
	ID:     "volatile-default",
	Reason: "ADD COLUMN with a volatile default (random(), clock_timestamp(), gen_random_uuid()) rewrites the populated table to store a value per row",
	Fix:    "add the column without a default (or with a constant one), then backfill it in batches and SET DEFAULT afterwards",
	check: func(j *judge, s *Statement) {
		for _, c := range s.volatileColumns {
			if j.isPopulated(c.table) {
				s.add("volatile-default", fmt.Sprintf("%s.%s added with a volatile default", c.table, c.name))
			}
		}
	},
}
