// Applying (or reverting) the pending files in turn, each recorded in the history.

package migrate

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// AppliedMigration is a migration this run applied or reverted, and how long it took.
type AppliedMigration struct {
	Migration
	Took time.Duration
}

// runAll applies (or, with down, reverts) each migration in turn, recording each in the history
// together with its changes, and stops at the first failure with a *PartialError.
func (m *Migrator) runAll(ctx context.Context, migs []Migration, down bool) ([]AppliedMigration, error) {
	verb, stmts := "apply", func(mig Migration) []sqlscript.Statement { return mig.Up }
	if down {
		verb, stmts = "revert", func(mig Migration) []sqlscript.Statement { return mig.Down }
	}
	var done []AppliedMigration
	for _, mig := range migs {
		log := m.opts.Logger.With("version", mig.Version, "name", mig.Name)
		log.InfoContext(ctx, verb+" migration", "transaction", !mig.NoTransaction)
		start := time.Now()
		resumeAt := 0
		if p, ok := m.partial[mig.Version]; ok && !down && p.Checksum == mig.Checksum && p.StatementsDone < len(mig.Up) {
			resumeAt = p.StatementsDone
			log.InfoContext(ctx, "resuming a partly applied file", "statements_done", resumeAt, "statements", len(mig.Up), "last_error", p.Error)
		}
		// The history row's duration adds up each write's share, so each takes the time since the last.
		last := start
		since := func() time.Duration {
			d := time.Since(last)
			last = time.Now()
			return d
		}
		var progress func(context.Context, int) error
		if mig.NoTransaction && !down {
			progress = func(ctx context.Context, done int) error { return m.recordProgress(ctx, mig, since(), done) }
		}
		stmtsDone, err := m.run(ctx, mig, stmts(mig), resumeAt, func(ctx context.Context, e execer) error {
			if down {
				return m.recordReverted(ctx, e, mig)
			}
			return m.recordApplied(ctx, e, mig, since(), KindApplied)
		}, progress)
		// A file must not see the session settings (SET search_path, SET ROLE, timeouts) of the
		// one before it; RESET ALL returns to the connection's own settings (a transactional file
		// did so with its COMMIT).
		if mig.NoTransaction {
			if rerr := m.resetSession(context.WithoutCancel(ctx)); rerr != nil && err == nil {
				err = fmt.Errorf("reset the session after %s: %w", mig.ID(), rerr)
			}
		}
		if err != nil && mig.NoTransaction && !down && stmtsDone > 0 && !m.conn.IsClosed() {
			// What ran stays applied, as recorded ahead of the failing statement; add why it
			// stopped. A lost connection cannot: the row written before the statement stands.
			if rerr := m.recordPartial(context.WithoutCancel(ctx), m.conn, mig, since(), stmtsDone, err); rerr != nil {
				log.WarnContext(ctx, "could not add the error to the partly applied file's history row; the progress recorded before the statement stands",
					"statements_done", stmtsDone, "error", rerr)
			}
		}
		if err != nil {
			applied := make([]Migration, len(done))
			for i, d := range done {
				applied[i] = d.Migration
			}
			return done, &PartialError{Applied: applied, Failed: mig, Err: err}
		}
		took := time.Since(start)
		log.InfoContext(ctx, verb+" migration done", "duration_ms", took.Milliseconds())
		done = append(done, AppliedMigration{Migration: mig, Took: took})
	}
	return done, nil
}

// resetSession runs RESET ALL and marks the session as the lock holder again (the mark is a
// session setting, which RESET ALL clears too), in one round trip on one server session.
func (m *Migrator) resetSession(ctx context.Context) error {
	_, err := m.conn.Exec(ctx, m.resetSQL(), pgx.QueryExecModeSimpleProtocol)
	return err
}

// recordProgress records, in a transaction of its own, that done statements of a no-transaction
// file are applied. The file's own session settings (a SET statement_timeout = '1ms') must not
// fail it, so it runs without timeouts: it is one row, written only by the lock holder.
func (m *Migrator) recordProgress(ctx context.Context, mig Migration, took time.Duration, done int) error {
	if _, err := m.conn.Exec(ctx, "BEGIN; SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0", pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("record the progress of %s: %w", mig.ID(), err)
	}
	err := m.recordPartial(ctx, m.conn, mig, took, done, nil)
	end := "COMMIT"
	if err != nil {
		end = "ROLLBACK"
	}
	if _, cerr := m.conn.Exec(ctx, end, pgx.QueryExecModeSimpleProtocol); cerr != nil && err == nil {
		err = fmt.Errorf("record the progress of %s: %w", mig.ID(), cerr)
	}
	return err
}

func (m *Migrator) resetSQL() string {
	sql := "RESET ALL"
	if m.owner != "" {
		sql += "; SELECT set_config('" + ownerSetting + "', '" + m.owner + "', false)" // owner is hex: safe inline
	}
	return sql
}
