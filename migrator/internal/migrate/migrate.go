// Package migrate applies versioned SQL migrations to PostgreSQL: it loads them strictly, keeps
// a history table with checksums, serialises migrators with an advisory lock, adopts the legacy
// schema, and applies each file with lock_timeout and bounded retries.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/schema"
	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// Options configure a Migrator. A zero means zero (no wait, no retry); the CLI's flags hold the
// defaults users get.
type Options struct {
	Migrations   []Migration     // required, as returned by Load
	Baseline     schema.Snapshot // the schema 0001 produces; enables adopting legacy databases
	HistoryTable string          // default DefaultHistoryTable
	// Tables are the tables the migrations own; invalid indexes on them are dropped before a rerun.
	Tables []string
	// LockWait bounds how long to poll for the advisory lock (0: try once).
	LockWait time.Duration
	// LockRetries is how many times a migration that hit lock_timeout is tried again.
	LockRetries int
	// RetryBackoff is the first pause after a lock_timeout; it doubles, with jitter.
	RetryBackoff time.Duration
	AppliedBy    string // who applies, recorded in the history (default "carthub-migrator")
	// WaitReport is how often a waiting concurrent index operation is logged (0: never).
	WaitReport time.Duration
	Logger     *slog.Logger
}

// Migrator runs migrations over one connection. It is not safe for concurrent use.
type Migrator struct {
	conn *pgx.Conn
	opts Options
	// schema holds the history table, read under the lock (see table).
	schema string
	// partial is the partial history row of each version, from the last prepare.
	partial map[int]Applied
	// owner is the token that marks the server session holding the lock (see Lock).
	owner string
	// indexNames are the indexes the migrations create: the only ones dropInvalidIndexes drops.
	indexNames []string
	// observer sees each statement during Up or Down (Hooks.Observer).
	observer Observer
}

// New validates the options and returns a Migrator on conn.
func New(conn *pgx.Conn, opts Options) (*Migrator, error) {
	if len(opts.Migrations) == 0 {
		return nil, errors.New("migrate: no migrations given")
	}
	for i, m := range opts.Migrations {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrate: migrations must be numbered 1..n in order, %s is at position %d", m.File, i+1)
		}
	}
	if opts.HistoryTable == "" {
		opts.HistoryTable = DefaultHistoryTable
	}
	if opts.LockWait < 0 || opts.LockRetries < 0 || opts.RetryBackoff < 0 {
		return nil, errors.New("migrate: lock wait, lock retries and retry backoff must not be negative")
	}
	if opts.AppliedBy == "" {
		opts.AppliedBy = "carthub-migrator"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Migrator{conn: conn, opts: opts, indexNames: indexNamesOf(opts.Migrations)}, nil
}

// Latest is the highest version the migrator knows.
func (m *Migrator) Latest() int { return len(m.opts.Migrations) }

// Migrations are the known migrations in version order.
func (m *Migrator) Migrations() []Migration { return m.opts.Migrations }

// State is what the database has applied compared with the known migrations.
type State struct {
	HistoryExists bool
	// Outdated: the history table has the first release's shape; prepare upgrades it.
	Outdated bool
	Applied  []Applied   // applied and adopted rows, in version order
	Partial  []Applied   // no-transaction files that stopped part-way (their versions are pending)
	Pending  []Migration // in version order
	// Fresh: prepare found an empty database (no history, no legacy tables) and made the history.
	// Nothing was there before this run, so nothing can be left over from an earlier one.
	Fresh bool
}

// VerifyFailed is the report of a verify that failed after the newest applied version, if any.
func (s State) VerifyFailed() string {
	if len(s.Applied) == 0 {
		return ""
	}
	return s.Applied[len(s.Applied)-1].VerifyError
}

// UpToDate: nothing to apply up to target, and nothing left to check again (a failed verify,
// a history table to upgrade).
func (s State) UpToDate(target int) bool {
	return s.HistoryExists && !s.Outdated && len(s.PendingUpTo(target)) == 0 && s.VerifyFailed() == ""
}

// Current is the highest applied version (0 when nothing is applied).
func (s State) Current() int {
	if len(s.Applied) == 0 {
		return 0
	}
	return s.Applied[len(s.Applied)-1].Version
}

// PendingUpTo lists the pending migrations with versions up to target (0: all).
func (s State) PendingUpTo(target int) []Migration {
	var out []Migration
	for _, p := range s.Pending {
		if target == 0 || p.Version <= target {
			out = append(out, p)
		}
	}
	return out
}

// Check reads the history without taking the lock and compares it with the files. A DriftError
// says the two disagree. This is the only query a no-op `up` makes.
func (m *Migrator) Check(ctx context.Context) (State, error) {
	rows, exists, err := m.readHistory(ctx, m.conn)
	outdated := errors.Is(err, errOutdatedHistory)
	if err != nil && !outdated {
		return State{}, err
	}
	st := State{HistoryExists: exists, Outdated: outdated}
	for _, r := range rows {
		if r.Kind == KindPartial {
			st.Partial = append(st.Partial, r)
		} else {
			st.Applied = append(st.Applied, r)
		}
	}
	return st, m.compare(&st)
}

// compare fills st.Pending and reports drift: changed checksums, unknown versions, and pending
// files below an applied version.
func (m *Migrator) compare(st *State) error {
	applied := map[int]Applied{}
	var problems []string
	for _, a := range st.Applied {
		applied[a.Version] = a
		if a.Version < 1 || a.Version > m.Latest() {
			problems = append(problems, fmt.Sprintf(
				"the database has version %04d (%s) applied, but this migrator knows only versions up to %04d: "+
					"it is older than the schema, so deploy the image that has migration %04d", a.Version, a.Name, m.Latest(), a.Version))
			continue
		}
		f := m.opts.Migrations[a.Version-1]
		if f.Checksum != a.Checksum {
			problems = append(problems, fmt.Sprintf(
				"%s was changed after it was applied (checksum in database %.12s…, file %.12s…): restore the file as it was "+
					"and put the change in a new migration", f.File, a.Checksum, f.Checksum))
		}
	}
	st.Pending = nil
	current := st.Current()
	for _, f := range m.opts.Migrations {
		if _, ok := applied[f.Version]; ok {
			continue
		}
		st.Pending = append(st.Pending, f)
		if f.Version < current {
			problems = append(problems, fmt.Sprintf(
				"%s is not applied but a later version (%04d) is: renumber it after %04d", f.File, current, current))
		}
	}
	if len(problems) > 0 {
		return &DriftError{Problems: problems}
	}
	return nil
}

// prepare must run under the lock. It re-reads the history (another migrator may have just
// finished), adopts a legacy database or creates the history table, and checks for drift.
func (m *Migrator) prepare(ctx context.Context) (State, error) {
	if m.schema == "" {
		if err := m.conn.QueryRow(ctx, "SELECT current_schema()", pgx.QueryExecModeSimpleProtocol).Scan(&m.schema); err != nil {
			return State{}, fmt.Errorf("read the current schema: %w", err)
		}
	}
	st, err := m.Check(ctx)
	if err == nil && st.Outdated {
		if _, err := m.conn.Exec(ctx, m.upgradeHistorySQL()); err != nil {
			return State{}, fmt.Errorf("upgrade %s: %w", m.opts.HistoryTable, err)
		}
		m.opts.Logger.InfoContext(ctx, "upgraded the history table: it now records partly applied files and verify results", "table", m.opts.HistoryTable)
		st, err = m.Check(ctx)
	}
	m.partial = map[int]Applied{}
	for _, p := range st.Partial {
		m.partial[p.Version] = p
	}
	if err != nil || st.HistoryExists {
		return st, err
	}
	adopted, err := m.adoptOrCreate(ctx)
	if err != nil {
		return State{}, err
	}
	if !adopted {
		// A new, empty history: everything is pending, nothing to read back.
		st = State{HistoryExists: true, Fresh: true}
		return st, m.compare(&st)
	}
	m.opts.Logger.InfoContext(ctx, "adopted the legacy schema as the baseline", "version", 1, "name", m.opts.Migrations[0].Name)
	return m.Check(ctx)
}

// Legacy reports whether the baseline's tables exist in a database without history, and how
// they differ from the baseline. Read-only.
func (m *Migrator) Legacy(ctx context.Context) (present bool, diffs []schema.Difference, err error) {
	if len(m.opts.Baseline) == 0 {
		return false, nil, nil
	}
	// The common case, an empty database, costs one small query instead of a catalog read.
	var found bool
	if err := m.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_class
 WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') AND relname = ANY ($1::text[]))`,
		pgx.QueryExecModeSimpleProtocol, m.opts.Baseline.Tables()).Scan(&found); err != nil {
		return false, nil, fmt.Errorf("look for legacy tables: %w", err)
	}
	if !found {
		return false, nil, nil
	}
	live, err := schema.Read(ctx, m.conn, schema.ForSnapshot(m.opts.Baseline, m.opts.HistoryTable))
	if err != nil {
		return false, nil, err
	}
	if len(live.Tables()) == 0 {
		return false, nil, nil
	}
	diffs, err = schema.Compare(ctx, m.conn, m.opts.Baseline, live)
	return true, diffs, err
}

// adoptOrCreate creates the history table; when the baseline's tables already exist and match it
// exactly, it records the baseline as adopted in the same transaction.
func (m *Migrator) adoptOrCreate(ctx context.Context) (adopted bool, err error) {
	present, diffs, err := m.Legacy(ctx)
	if err != nil {
		return false, err
	}
	if len(diffs) > 0 {
		return false, &AdoptError{Report: schema.Report(diffs)}
	}
	if present {
		if err := m.checkOwnership(ctx); err != nil {
			return false, err
		}
	}
	if !present { // one statement, atomic on its own: no transaction round trips
		if _, err := m.conn.Exec(ctx, m.createHistorySQL(), pgx.QueryExecModeSimpleProtocol); err != nil {
			return false, fmt.Errorf("create %s: %w", m.opts.HistoryTable, err)
		}
		return false, nil
	}
	err = pgx.BeginFunc(ctx, m.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, m.createHistorySQL()); err != nil {
			return fmt.Errorf("create %s: %w", m.opts.HistoryTable, err)
		}
		return m.recordApplied(ctx, tx, m.opts.Migrations[0], 0, KindAdopted)
	})
	return true, err
}

// checkOwnership refuses to adopt tables the migrator's role cannot alter: the migrations after
// the baseline change them, and would fail one file in with "must be owner".
func (m *Migrator) checkOwnership(ctx context.Context) error {
	rows, err := m.conn.Query(ctx, `SELECT c.relname, pg_get_userbyid(c.relowner), current_user
  FROM pg_class c
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname = ANY ($1::text[])
   AND NOT pg_has_role(current_user, c.relowner, 'USAGE')
 ORDER BY c.relname`, pgx.QueryExecModeSimpleProtocol, m.opts.Baseline.Tables())
	if err != nil {
		return fmt.Errorf("check table ownership: %w", err)
	}
	type owned struct{ table, owner, me string }
	bad, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (owned, error) {
		var o owned
		return o, r.Scan(&o.table, &o.owner, &o.me)
	})
	if err != nil {
		return fmt.Errorf("check table ownership: %w", err)
	}
	if len(bad) == 0 {
		return nil
	}
	e := &OwnershipError{Role: bad[0].me}
	for _, b := range bad {
		e.Tables = append(e.Tables, b.table+" (owner "+b.owner+")")
		e.Fix = append(e.Fix, fmt.Sprintf("ALTER TABLE %s OWNER TO %s;", pgx.Identifier{b.table}.Sanitize(), pgx.Identifier{b.me}.Sanitize()))
	}
	return e
}

// AppliedMigration is a migration this run applied or reverted, and how long it took.
type AppliedMigration struct {
	Migration
	Took time.Duration
}

// revertible lists the applied migrations above target, newest first, and refuses when one of
// them has no down part.
func (m *Migrator) revertible(st State, target int) ([]Migration, error) {
	var todo []Migration
	for i := len(st.Applied) - 1; i >= 0; i-- {
		a := st.Applied[i]
		if a.Version <= target {
			break
		}
		mig := m.opts.Migrations[a.Version-1]
		if !mig.HasDown {
			return nil, fmt.Errorf("%s has no down part (no %q line), so the database cannot go below version %04d; nothing was reverted",
				mig.File, DirectiveDown, mig.Version)
		}
		todo = append(todo, mig)
	}
	return todo, nil
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
		stmtsDone, err := m.run(ctx, mig, stmts(mig), resumeAt, func(ctx context.Context, e execer) error {
			if down {
				return m.recordReverted(ctx, e, mig)
			}
			return m.recordApplied(ctx, e, mig, time.Since(start), KindApplied)
		})
		// A file must not see the session settings (SET search_path, SET ROLE, timeouts) of the
		// one before it; RESET ALL returns to the connection's own settings (a transactional file
		// did so with its COMMIT).
		if mig.NoTransaction {
			if rerr := m.resetSession(context.WithoutCancel(ctx)); rerr != nil && err == nil {
				err = fmt.Errorf("reset the session after %s: %w", mig.ID(), rerr)
			}
		}
		if err != nil && mig.NoTransaction && !down && stmtsDone > 0 {
			// What ran stays applied: say so in the history, so that status shows it and the
			// next run resumes there instead of calling the file pending.
			if rerr := m.recordPartial(context.WithoutCancel(ctx), m.conn, mig, time.Since(start), stmtsDone, err); rerr != nil {
				log.ErrorContext(ctx, "could not record the partly applied file", "error", rerr)
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

func (m *Migrator) resetSQL() string {
	sql := "RESET ALL"
	if m.owner != "" {
		sql += "; SELECT set_config('" + ownerSetting + "', '" + m.owner + "', false)" // owner is hex: safe inline
	}
	return sql
}

// backoff is the pause before retry n (0-based) after a lock_timeout: exponential, capped at
// 30s, with full jitter so that retries of several migrators do not line up.
func (m *Migrator) backoff(n int) time.Duration {
	d := m.opts.RetryBackoff << min(n, 6)
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
