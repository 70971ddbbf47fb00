package migrate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// run executes one migration's statements and its history change, and returns how many of a
// no-transaction file's statements are done (resumeAt of them were done by an earlier run). A
// transactional file runs as one transaction, retried whole when a statement hits lock_timeout.
// A no-transaction file runs statement by statement, each retried on its own; progress, when
// set, records how many are done ahead of each statement after the first, and its history row is
// written last.
func (m *Migrator) run(ctx context.Context, mig Migration, stmts []sqlscript.Statement, resumeAt int,
	record func(context.Context, execer) error, progress func(ctx context.Context, done int) error) (done int, err error) {
	if !mig.NoTransaction && m.observer != nil {
		return 0, m.retryOnLockTimeout(ctx, mig, func() error { return m.runObservedTransaction(ctx, mig, stmts, record) })
	}
	if !mig.NoTransaction {
		// BEGIN, the statements, the history row (which also proves the lock's session, see
		// upsert), then COMMIT together with the session reset in one round trip.
		return 0, m.retryOnLockTimeout(ctx, mig, func() error {
			err := func() error {
				// The file's statements go as psql -1 would send them, in as few round trips as
				// maxBatch allows, with the reset of the timeouts the history row must not inherit
				// from the file.
				if err := m.execBatches(ctx, mig, stmts); err != nil {
					return err
				}
				return record(ctx, m.conn)
			}()
			return m.endTransaction(ctx, mig, err)
		})
	}
	done = resumeAt
	if err := m.CheckLockHeld(ctx, m.conn); err != nil {
		return done, err
	}
	for i, st := range stmts[resumeAt:] {
		if progress != nil && i > 0 {
			// Written while the connection is known to work, and committed before the next
			// statement starts: a run killed in it (kill -9, an OOM kill, a failover) resumes there.
			if err := progress(ctx, done); err != nil {
				m.fileDone(ctx, mig, err)
				return done, err
			}
		}
		err := m.retryOnLockTimeout(ctx, mig, func() error {
			exec := m.conn.Exec
			if ConcurrentIndexOp(st.SQL) {
				exec = m.execConcurrentIndexOp
			}
			tag := new(pgconn.CommandTag)
			run := func(ctx context.Context) error {
				var err error
				if *tag, err = exec(ctx, st.SQL); err != nil {
					return &StatementError{File: mig.File, Statement: st, Err: err}
				}
				return nil
			}
			if m.observer != nil {
				return m.observer.Statement(ctx, ObservedStatement{Migration: mig, Index: resumeAt + i, Statement: st, Conn: m.conn, Tag: tag}, run)
			}
			return run(ctx)
		})
		if err != nil {
			m.fileDone(ctx, mig, err)
			return done, err
		}
		done++
	}
	if _, err := m.conn.Exec(ctx, resetTimeouts, pgx.QueryExecModeSimpleProtocol); err != nil {
		return done, err
	}
	err = record(ctx, m.conn)
	m.fileDone(ctx, mig, err)
	return done, err
}

// runObservedTransaction runs a transactional file statement by statement inside one
// transaction, each statement through the observer, and commits with the history row.
func (m *Migrator) runObservedTransaction(ctx context.Context, mig Migration, stmts []sqlscript.Statement,
	record func(context.Context, execer) error) error {
	if _, err := m.conn.Exec(ctx, "BEGIN", pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("begin %s: %w", mig.ID(), err)
	}
	err := func() error {
		for i, st := range stmts {
			tag := new(pgconn.CommandTag)
			err := m.observer.Statement(ctx, ObservedStatement{Migration: mig, Index: i, Statement: st, Conn: m.conn, InTransaction: true, Tag: tag},
				func(ctx context.Context) error {
					var err error
					if *tag, err = m.conn.Exec(ctx, st.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
						return &StatementError{File: mig.File, Statement: st, Err: err}
					}
					return nil
				})
			if err != nil {
				return err
			}
		}
		if _, err := m.conn.Exec(ctx, resetTimeouts, pgx.QueryExecModeSimpleProtocol); err != nil {
			return err
		}
		return record(ctx, m.conn)
	}()
	err = m.endTransaction(ctx, mig, err)
	m.fileDone(ctx, mig, err)
	return err
}

// endTransaction commits a file's transaction (or rolls it back after err) together with the
// session reset, in one round trip.
func (m *Migrator) endTransaction(ctx context.Context, mig Migration, err error) error {
	end := "COMMIT"
	if err != nil {
		end = "ROLLBACK"
	}
	if _, cerr := m.conn.Exec(context.WithoutCancel(ctx), end+"; "+m.resetSQL(), pgx.QueryExecModeSimpleProtocol); cerr != nil && err == nil {
		err = fmt.Errorf("commit %s: %w", mig.ID(), cerr)
	}
	return err
}

func (m *Migrator) fileDone(ctx context.Context, mig Migration, err error) {
	if m.observer != nil {
		m.observer.FileDone(ctx, mig, err)
	}
}

// dropInvalidIndexes drops the indexes left INVALID by an interrupted CREATE INDEX CONCURRENTLY
// of the migrations, so that a rerun builds them again. It touches only indexes the migrations
// name, on the migrator's tables (Options.Tables), and leaves alone any on a table where another
// session is building an index right now (an INVALID index there may be that build).
func (m *Migrator) dropInvalidIndexes(ctx context.Context) error {
	rows, err := m.conn.Query(ctx, `SELECT quote_ident(n.nspname) || '.' || quote_ident(ic.relname)
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = ic.relnamespace
 WHERE NOT i.indisvalid AND n.nspname = current_schema() AND t.relname = ANY ($1::text[]) AND ic.relname = ANY ($2::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.relid = i.indrelid AND p.pid <> pg_backend_pid())`,
		pgx.QueryExecModeSimpleProtocol, m.opts.Tables, indexNamesOf(m.opts.Migrations)) // only the indexes the migrations create; matched here, off the no-op path
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

// resetTimeouts ends a transactional file's statements: a file that SETs statement_timeout or
// lock_timeout (say, to 1ms) must not fail its own history row. RESET returns to the connection's
// settings (the CLI's --statement-timeout and --lock-timeout).
const resetTimeouts = "RESET statement_timeout;\nRESET lock_timeout;\n"

// maxBatch bounds the bytes sent in one round trip of a transactional file: a small file goes
// in one, and a large one (a 50 MB data fix) costs memory near its own size instead of several
// copies of it (the script, BEGIN added, pgx's write buffer).
const maxBatch = 1 << 20

// execBatches runs a transactional file's statements after BEGIN, then resetTimeouts, in batches
// of at most maxBatch bytes (a statement longer than that goes alone), and names the statement
// that failed.
func (m *Migrator) execBatches(ctx context.Context, mig Migration, stmts []sqlscript.Statement) error {
	for from := 0; from < len(stmts); {
		to, size := from, 0
		for to < len(stmts) && (to == from || size+len(stmts[to].SQL)+2 <= maxBatch) {
			size += len(stmts[to].SQL) + 2
			to++
		}
		prefix, suffix := "", ""
		if from == 0 {
			prefix = "BEGIN;\n"
		}
		if to == len(stmts) {
			suffix = resetTimeouts
		}
		script, starts := batch(prefix, stmts[from:to], suffix)
		completed, err := m.execScript(ctx, script)
		if err != nil {
			if prefix != "" {
				completed-- // BEGIN is the first
			}
			return statementError(mig, stmts[from:to], starts, completed, err)
		}
		from = to
	}
	return nil
}

// batch joins statements into one script between prefix and suffix, and returns where each
// starts, in characters from the start of the script (PostgreSQL reports error positions in
// characters).
func batch(prefix string, stmts []sqlscript.Statement, suffix string) (script string, starts []int) {
	var b strings.Builder
	n := len(prefix) + len(suffix)
	for _, st := range stmts {
		n += len(st.SQL) + 2
	}
	b.Grow(n)
	b.WriteString(prefix)
	offset := utf8.RuneCountInString(prefix)
	for _, st := range stmts {
		starts = append(starts, offset)
		b.WriteString(st.SQL)
		b.WriteString(";\n")
		offset += utf8.RuneCountInString(st.SQL) + 2
	}
	b.WriteString(suffix)
	return b.String(), starts
}

// execScript runs a script of several statements in one round trip (the simple protocol) and
// returns how many of them completed before the first error: the server answers each with its
// own result, so the failing statement is known without running anything again.
func (m *Migrator) execScript(ctx context.Context, script string) (completed int, err error) {
	mrr := m.conn.PgConn().Exec(ctx, script)
	for mrr.NextResult() {
		if _, err := mrr.ResultReader().Close(); err == nil {
			completed++
		}
	}
	return completed, mrr.Close()
}

// statementError names the statement of a batch that failed: where the server's position points,
// else the one after the failed statements that completed (many DDL errors, lock and statement
// timeouts and cancellations have no position).
func statementError(mig Migration, stmts []sqlscript.Statement, starts []int, completed int, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Position > 0 {
		i := len(starts) - 1
		for i > 0 && int(pgErr.Position) <= starts[i] {
			i--
		}
		relative := *pgErr
		relative.Position = pgErr.Position - int32(starts[i])
		return &StatementError{File: mig.File, Statement: stmts[i], Err: &relative}
	}
	return &StatementError{File: mig.File, Statement: stmts[min(max(completed, 0), len(stmts)-1)], Err: err}
}

// concurrentIndexStatement matches CREATE [UNIQUE] INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY and
// REINDEX ... CONCURRENTLY, after any leading comments.
var concurrentIndexStatement = regexp.MustCompile(`(?is)^(\s|--[^\n]*\n|/\*.*?\*/)*` +
	`(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|REINDEX\s+(\(.*?\)\s*)?\w+\s+CONCURRENTLY)\b`)

// ConcurrentIndexOp reports whether sql is a CONCURRENTLY index operation, which cannot run in a
// transaction block and which the engine runs without lock_timeout.
func ConcurrentIndexOp(sql string) bool { return concurrentIndexStatement.MatchString(sql) }

// execConcurrentIndexOp runs a concurrent index build or drop without lock_timeout. Such a
// statement waits for every older transaction in the database (a report, a pg_dump) to end, and
// PostgreSQL counts that as a lock wait; but the wait blocks no reads or writes, so timing out
// would only throw a finished build away and start again. statement_timeout still bounds it, and
// while it waits the log names what it waits for.
func (m *Migrator) execConcurrentIndexOp(ctx context.Context, sql string, _ ...any) (pgconn.CommandTag, error) {
	if _, err := m.conn.Exec(ctx, "SET lock_timeout = 0"); err != nil {
		return pgconn.CommandTag{}, err
	}
	defer func() { _, _ = m.conn.Exec(context.WithoutCancel(ctx), "RESET lock_timeout") }()
	stop := m.reportIndexWaits(ctx, m.conn.PgConn().PID())
	defer stop()
	return m.conn.Exec(ctx, sql)
}

// reportIndexWaits logs, every Options.WaitReport while the index operation of backend pid runs,
// its phase and the sessions it waits for. It opens its own connection only once the operation
// has run that long, so a quick build costs nothing.
func (m *Migrator) reportIndexWaits(ctx context.Context, pid uint32) (stop func()) {
	if m.opts.WaitReport <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var watcher *pgx.Conn
		defer func() {
			if watcher != nil {
				_ = watcher.Close(context.WithoutCancel(ctx))
			}
		}()
		start := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(m.opts.WaitReport):
			}
			if watcher == nil {
				var err error
				if watcher, err = pgx.ConnectConfig(ctx, m.conn.Config().Copy()); err != nil {
					return
				}
			}
			var phase string
			var blockers []string
			err := watcher.QueryRow(ctx, `SELECT coalesce((SELECT phase FROM pg_stat_progress_create_index WHERE pid = $1), ''),
       coalesce(array_agg(format('pid %s (%s, %s, transaction open %ss)', a.pid, coalesce(nullif(a.application_name, ''), a.usename::text),
                                 a.state, round(extract(epoch FROM now() - a.xact_start)))) FILTER (WHERE a.pid IS NOT NULL), '{}')
  FROM unnest(pg_blocking_pids($1)) AS b(pid) LEFT JOIN pg_stat_activity a ON a.pid = b.pid`, int32(pid)).Scan(&phase, &blockers)
			if err != nil {
				continue
			}
			m.opts.Logger.WarnContext(ctx, "concurrent index operation is waiting for older transactions to end; it blocks no reads or writes",
				"phase", phase, "waiting_for", blockers, "elapsed_s", int(time.Since(start).Seconds()))
		}
	}()
	return func() { cancel(); <-done }
}

// createdIndex finds the names of the indexes a statement creates.
var createdIndex = regexp.MustCompile(`(?i)\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"?([A-Za-z_][A-Za-z0-9_$]*)"?`)

// indexNamesOf lists the indexes the migrations create (up and down parts).
func indexNamesOf(migs []Migration) []string {
	var out []string
	for _, mig := range migs {
		for _, part := range [][]sqlscript.Statement{mig.Up, mig.Down} {
			for _, st := range part {
				for _, m := range createdIndex.FindAllStringSubmatch(st.SQL, -1) {
					out = append(out, strings.ToLower(m[1]))
				}
			}
		}
	}
	return out
}
