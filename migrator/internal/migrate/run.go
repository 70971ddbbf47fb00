package migrate

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// run executes one migration's statements and its history change. A transactional file runs as
// one transaction, retried whole when a statement hits lock_timeout. A no-transaction file runs
// statement by statement, each retried on its own; its history row is written last.
func (m *Migrator) run(ctx context.Context, mig Migration, stmts []sqlscript.Statement, record func(context.Context, execer) error) error {
	if !mig.NoTransaction {
		return m.retryOnLockTimeout(ctx, mig, func() error {
			return pgx.BeginFunc(ctx, m.conn, func(tx pgx.Tx) error {
				for _, st := range stmts {
					if _, err := tx.Exec(ctx, st.SQL); err != nil {
						return &StatementError{File: mig.File, Statement: st, Err: err}
					}
				}
				return record(ctx, tx)
			})
		})
	}
	for _, st := range stmts {
		err := m.retryOnLockTimeout(ctx, mig, func() error {
			if _, err := m.conn.Exec(ctx, st.SQL); err != nil {
				return &StatementError{File: mig.File, Statement: st, Err: err}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return record(ctx, m.conn)
}

// retryOnLockTimeout runs attempt until it succeeds, fails for another reason, or has hit
// lock_timeout LockRetries+1 times. Giving up the lock queue and coming back later keeps live
// traffic from piling up behind a waiting ALTER.
func (m *Migrator) retryOnLockTimeout(ctx context.Context, mig Migration, attempt func() error) error {
	for n := 0; ; n++ {
		err := attempt()
		if err == nil || !isLockTimeout(err) || ctx.Err() != nil {
			return err
		}
		if n >= m.opts.LockRetries {
			return fmt.Errorf("gave up after %d lock timeouts; the tables are busy with long transactions, "+
				"find them in pg_stat_activity or run again later: %w", n+1, err)
		}
		if mig.NoTransaction {
			// A CREATE INDEX CONCURRENTLY that timed out leaves an INVALID index; IF NOT EXISTS would
			// then skip the rebuild, so drop it before trying again.
			if err := m.DropInvalidIndexes(ctx); err != nil {
				return err
			}
		}
		wait := m.backoff(n)
		m.opts.Logger.WarnContext(ctx, "lock_timeout: another transaction holds a lock this migration needs; retrying",
			"version", mig.Version, "name", mig.Name, "attempt", n+1, "retry_in_ms", wait.Milliseconds())
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// DropInvalidIndexes drops indexes left INVALID by an interrupted CREATE INDEX CONCURRENTLY on
// the migrator's tables (Options.Tables), so that a rerun builds them again.
func (m *Migrator) DropInvalidIndexes(ctx context.Context) error {
	rows, err := m.conn.Query(ctx, `SELECT quote_ident(n.nspname) || '.' || quote_ident(ic.relname)
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = ic.relnamespace
 WHERE NOT i.indisvalid AND n.nspname = current_schema() AND t.relname = ANY ($1::text[])`,
		pgx.QueryExecModeSimpleProtocol, m.opts.Tables)
	if err != nil {
		return fmt.Errorf("find invalid indexes: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("find invalid indexes: %w", err)
	}
	for _, name := range names {
		start := time.Now()
		if _, err := m.conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+name); err != nil {
			return fmt.Errorf("drop invalid index %s: %w", name, err)
		}
		m.opts.Logger.InfoContext(ctx, "dropped invalid index left by an interrupted build", "index", name,
			"duration_ms", time.Since(start).Milliseconds())
	}
	return nil
}
