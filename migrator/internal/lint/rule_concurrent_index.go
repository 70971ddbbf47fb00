package lint

// The two CONCURRENTLY rules are seen from the file's text before it runs (lint.go, observe.go):
// PostgreSQL refuses the first outright, and the second only shows on an interrupted run.

var concurrentIndexInTransaction = Rule{
	ID:     "concurrent-index-in-transaction",
	Reason: "a CONCURRENTLY index operation in a transactional file: PostgreSQL refuses to run it inside a transaction",
	Fix:    "put it in its own file with -- migrator:no-transaction",
}

var concurrentIndexWithoutIfExists = Rule{
	ID: "concurrent-index-without-if-exists",
	Reason: "a CONCURRENTLY index operation without IF [NOT] EXISTS: a rerun after an interruption fails on the index that is already there " +
		"(or gone)",
	Fix: "CREATE INDEX CONCURRENTLY IF NOT EXISTS / DROP INDEX CONCURRENTLY IF EXISTS",
}
