// The benchmark's own module. Its path sits under the migrator's so that it may use the
// migrator's internal packages (Go's internal rule goes by import path, as gopls does with
// golang.org/x/tools/internal); its directory holds the results it writes.
module github.com/carthub/carthub-db/migrator/bench

go 1.26

require (
	github.com/carthub/carthub-db/migrations v0.0.0
	github.com/carthub/carthub-db/migrator v0.0.0
	github.com/jackc/pgx/v5 v5.12.0
)

require (
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace (
	github.com/carthub/carthub-db/migrations => ../migrations
	github.com/carthub/carthub-db/migrator => ../migrator
)

require github.com/carthub/carthub-db/names v0.0.0

replace github.com/carthub/carthub-db/names => ../names
