// Package migrations holds the Carthub schema migrations and the schema they must produce.
//
// Files are named NNNN_name.sql. The part before a line "-- migrator:down" is applied by
// `migrator up`; the part after it, if present, by `migrator down`. A line
// "-- migrator:no-transaction" runs the file statement by statement outside a transaction
// (required for CREATE INDEX CONCURRENTLY); such files must be safe to run again.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed [0-9]*.sql
var files embed.FS

// FS is the set of versioned migration files, embedded in every binary that imports this package.
var FS fs.FS = files

// ExpectedSchema is the normalized catalog snapshot that all migrations together must produce;
// `migrator verify` compares the live database with it.
//
//go:embed schema.sql
var ExpectedSchema string

// BaselineSchema is the snapshot of 0001_baseline alone: the legacy schema that `migrator up`
// adopts when it finds those tables without a history table.
//
//go:embed baseline-schema.sql
var BaselineSchema string

// Queries is the application's statements (queries.sql): what the cart services run, with $n
// parameters as pg_stat_statements normalizes them. `migrator lint` runs them around every
// migration; `make bench` drives them as its workload.
//
//go:embed queries.sql
var Queries string
