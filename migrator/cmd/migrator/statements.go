package main

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/corpus"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

// statementsHeader opens the corpus the Job logs: what lint's --production-statements reads.
const statementsHeader = `The statements production ran, read from pg_stat_statements by the migration Job after a run
that applied something: comments removed, literals as $1, $2, ...; a text that still held a
constant stayed in the database. migrator lint --production-statements merges them with queries.sql.`

// statementsLimit bounds the logged corpus: the most called statements first.
const statementsLimit = 200

// logStatements logs the statements production runs after a run that applied something (never
// on the no-op path), beside the table shape: the pipeline's Deploy stage stores them where the
// next Build and Review stages' lint reads them. pg_stat_statements must be preloaded (RDS
// does, and infra's parameter group keeps it); the extension is created here when it is missing
// and the role may (on RDS the master user may; elsewhere a superuser). Nothing fails the run:
// the migration is done, and lint keeps queries.sql and the last stored statements.
func (a *app) logStatements(ctx context.Context, s *session) {
	if err := ensureStatementsExtension(ctx, s.conn); err != nil {
		a.log.WarnContext(ctx, "pg_stat_statements is not there to read; lint keeps queries.sql and the last stored statements", "error", err)
		return
	}
	got, err := corpus.Capture(ctx, s.conn, migrate.DefaultHistoryTable, statementsLimit)
	if err != nil {
		a.log.WarnContext(ctx, "could not read the statements production runs; lint keeps the last stored ones", "error", err)
		return
	}
	if got.Hidden > 0 {
		a.log.WarnContext(ctx, "some statements' texts are hidden from this role: grant it pg_read_all_stats", "hidden", got.Hidden)
	}
	a.log.InfoContext(ctx, "application statements", "count", len(got.Queries), "left_out", got.LeftOut,
		"statements", corpus.Format(statementsHeader, got.Queries))
}

// ensureStatementsExtension creates pg_stat_statements in the database when it is missing. A
// role that may not (not a superuser, nor RDS's master user) gets an error saying who may.
func ensureStatementsExtension(ctx context.Context, conn *pgx.Conn) error {
	var present, available bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_stat_statements'),
       EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_stat_statements')`).Scan(&present, &available); err != nil {
		return err
	}
	switch {
	case present:
		return nil
	case !available:
		return errors.New("this server has no pg_stat_statements extension to create (RDS has it; a self-built server needs contrib)")
	}
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42501" {
			return errors.New("this role may not create pg_stat_statements: on RDS the master user may, elsewhere a superuser, once: " +
				"CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
		}
		return err
	}
	return nil
}
