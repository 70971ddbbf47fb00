package lint

import "fmt"

var blockingIndexBuild = Rule{
	ID:     "blocking-index-build",
	Reason: "CREATE INDEX without CONCURRENTLY on a populated table blocks every write until the build ends",
	Fix:    "CREATE INDEX CONCURRENTLY IF NOT EXISTS, in a file with -- migrator:no-transaction",
	check: func(j *judge, s *Statement) {
		for _, ix := range s.newIndexes {
			if j.isPopulated(ix.table) && !s.concurrent {
				s.add("blocking-index-build", fmt.Sprintf("%s: index %s built without CONCURRENTLY (%d rows; %s)", ix.table, ix.name, j.populated[ix.table], j.production(ix.table)))
			}
		}
	},
}
