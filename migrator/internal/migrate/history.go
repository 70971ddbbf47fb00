package migrate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/names"
)

// DefaultHistoryTable records what was applied, in the connection's current schema.
const DefaultHistoryTable = names.HistoryTable

// Kinds of history rows.
const (
	KindApplied = "applied" // the file ran to the end and committed
	KindAdopted = "adopted" // the legacy schema was recorded as 0001, not run
	KindPartial = "partial" // a no-transaction file stopped after StatementsDone statements
)

// Phases of a history row: when in a release the file ran (expand and contract).
const (
	PhasePreDeploy  = "pre-deploy"  // before the application's rollout, by plain `up`
	PhasePostDeploy = "post-deploy" // after it, by `up --post-deploy` (the file says -- migrator:post-deploy)
)

// Applied is one row of the history table.
type Applied struct {
	Version   int
	Name      string
	Checksum  string
	AppliedAt time.Time
	Duration  time.Duration
	AppliedBy string
	Kind      string // KindApplied, KindAdopted or KindPartial
	// StatementsDone and Error describe a partial row: how far the file got and why it stopped.
	StatementsDone int
	Error          string
	// VerifyError is set on the newest row when the schema failed verify after it, and cleared
	// when it passes: a failed verify keeps the next run from being a no-op.
	VerifyError string
	// Phase is PhasePreDeploy or PhasePostDeploy ("" for rows written before phases existed).
	Phase string
}

// table is the history table, qualified with the schema it lives in once prepare has read it, so
// that a migration that changes search_path cannot send the history elsewhere.
func (m *Migrator) table() string {
	if m.schema != "" {
		return pgx.Identifier{m.schema, m.opts.HistoryTable}.Sanitize()
	}
	return pgx.Identifier{m.opts.HistoryTable}.Sanitize()
}

func (m *Migrator) createHistorySQL() string {
	return `CREATE TABLE IF NOT EXISTS ` + m.table() + ` (
    version         integer PRIMARY KEY,
    name            text        NOT NULL,
    checksum        text        NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT now(),
    duration_ms     bigint      NOT NULL,
    applied_by      text        NOT NULL,
    kind            text        NOT NULL DEFAULT 'applied',
    statements_done integer,
    error           text,
    verify_error    text,
    phase           text,
    CONSTRAINT ` + pgx.Identifier{m.opts.HistoryTable + "_kind_check"}.Sanitize() + ` CHECK (kind IN ('applied', 'adopted', 'partial'))
)`
}

// upgradeHistorySQL brings a history table of an earlier release (no partial rows, no verify
// result, no phase) to the current shape. Catalog-only: no rewrite.
func (m *Migrator) upgradeHistorySQL() string {
	check := pgx.Identifier{m.opts.HistoryTable + "_kind_check"}.Sanitize()
	return `ALTER TABLE ` + m.table() + `
    ADD COLUMN IF NOT EXISTS statements_done integer,
    ADD COLUMN IF NOT EXISTS error text,
    ADD COLUMN IF NOT EXISTS verify_error text,
    ADD COLUMN IF NOT EXISTS phase text,
    DROP CONSTRAINT IF EXISTS ` + check + `,
    ADD CONSTRAINT ` + check + ` CHECK (kind IN ('applied', 'adopted', 'partial'))`
}

// errOutdatedHistory: the history table predates some of the current columns.
var errOutdatedHistory = errors.New("the history table has an earlier release's shape")

const historyColumns = `version, name, checksum, applied_at, duration_ms, applied_by, kind`

// readHistory returns the rows in version order; exists is false when there is no history table
// yet. One simple-protocol round trip: this is the whole cost of a no-op run.
func (m *Migrator) readHistory(ctx context.Context, q queryer) (rows []Applied, exists bool, err error) {
	// The current shape first; an earlier release's table is read in its own shape (the next run
	// under the lock upgrades it).
	for shape := historyShapes; shape >= 1; shape-- {
		rows, exists, err = m.readHistoryColumns(ctx, q, shape)
		if !errors.Is(err, errOutdatedHistory) {
			if err == nil && shape < historyShapes {
				err = errOutdatedHistory
			}
			return rows, exists, err
		}
	}
	return rows, exists, err
}

// historyShapes counts the shapes of the history table: 1, the first release's; 2 with partial
// rows and the verify result; 3 with the phase.
const historyShapes = 3

func (m *Migrator) readHistoryColumns(ctx context.Context, q queryer, shape int) ([]Applied, bool, error) {
	cols := historyColumns
	if shape >= 2 {
		cols += `, coalesce(statements_done, 0), coalesce(error, ''), coalesce(verify_error, '')`
	}
	if shape >= 3 {
		cols += `, coalesce(phase, '')`
	}
	// No ORDER BY: the rows are sorted here. Ordering on the server makes a fresh session's
	// planner open the primary key's index too, about 0.4 ms of a no-op run's 1.2 ms query.
	r, err := q.Query(ctx, `SELECT `+cols+` FROM `+m.table(), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return historyResult(err)
	}
	var rows []Applied
	for r.Next() {
		var a Applied
		var ms int64
		dest := []any{&a.Version, &a.Name, &a.Checksum, &a.AppliedAt, &ms, &a.AppliedBy, &a.Kind}
		if shape >= 2 {
			dest = append(dest, &a.StatementsDone, &a.Error, &a.VerifyError)
		}
		if shape >= 3 {
			dest = append(dest, &a.Phase)
		}
		if err := r.Scan(dest...); err != nil {
			r.Close()
			return nil, false, fmt.Errorf("read migration history: %w", err)
		}
		a.Duration = time.Duration(ms) * time.Millisecond
		rows = append(rows, a)
	}
	if err := r.Err(); err != nil {
		return historyResult(err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Version < rows[j].Version })
	return rows, true, nil
}

func historyResult(err error) ([]Applied, bool, error) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "42P01": // undefined_table: a database never migrated
			return nil, false, nil
		case "42703": // undefined_column: a history table of the first release
			return nil, true, errOutdatedHistory
		}
	}
	return nil, false, fmt.Errorf("read migration history: %w", err)
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// recordApplied writes mig's row (replacing a partial one).
func (m *Migrator) recordApplied(ctx context.Context, e execer, mig Migration, took time.Duration, kind string) error {
	return m.upsert(ctx, e, mig, took, kind, 0, "")
}

// recordPartial records that done statements of a no-transaction file are applied: ahead of the
// next one (cause nil), or after it failed, with the error.
func (m *Migrator) recordPartial(ctx context.Context, e execer, mig Migration, took time.Duration, done int, cause error) error {
	why := ""
	if cause != nil {
		why = cause.Error()
	}
	return m.upsert(ctx, e, mig, took, KindPartial, done, why)
}

// upsert writes mig's row. The row is written only on the server session that holds the
// migration lock: a transaction whose history row is refused that way is rolled back whole, so a
// transaction pooler that moved it elsewhere changes nothing (see Lock).
func (m *Migrator) upsert(ctx context.Context, e execer, mig Migration, took time.Duration, kind string, done int, cause string) error {
	phase := PhasePreDeploy
	if mig.PostDeploy {
		phase = PhasePostDeploy
	}
	tag, err := e.Exec(ctx, `INSERT INTO `+m.table()+` AS h (version, name, checksum, duration_ms, applied_by, kind, statements_done, error, phase)
SELECT $1::integer, $2::text, $3::text, $4::bigint, current_user || ' via ' || $5::text, $6::text, nullif($7::integer, 0), nullif($8::text, ''), $10::text
 WHERE $9::text = '' OR current_setting('`+ownerSetting+`', true) = $9
ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, applied_at = now(),
    duration_ms = h.duration_ms + excluded.duration_ms, applied_by = excluded.applied_by, kind = excluded.kind,
    statements_done = excluded.statements_done, error = excluded.error, verify_error = NULL, phase = excluded.phase`,
		mig.Version, mig.Name, mig.Checksum, took.Milliseconds(), m.opts.AppliedBy, kind, done, cause, m.owner, phase)
	if err != nil {
		return fmt.Errorf("record %s in %s: %w", mig.ID(), m.opts.HistoryTable, err)
	}
	if tag.RowsAffected() != 1 {
		return &PoolerError{Found: "the history row of " + mig.ID() + " was written on a server session that does not hold this migrator's lock"}
	}
	return nil
}

// recordVerify stores the result of verifying the schema at the newest applied version: report
// "" clears a failure recorded earlier. It runs under the lock.
func (m *Migrator) recordVerify(ctx context.Context, report string) error {
	_, err := m.conn.Exec(ctx, `UPDATE `+m.table()+` SET verify_error = nullif($1, '')
 WHERE version = (SELECT max(version) FROM `+m.table()+` WHERE kind <> 'partial')`, report)
	if err != nil {
		return fmt.Errorf("record the verify result in %s: %w", m.opts.HistoryTable, err)
	}
	return nil
}

func (m *Migrator) recordReverted(ctx context.Context, e execer, mig Migration) error {
	tag, err := e.Exec(ctx, `DELETE FROM `+m.table()+` WHERE version = $1 AND ($2::text = '' OR current_setting('`+ownerSetting+`', true) = $2)`,
		mig.Version, m.owner)
	if err != nil {
		return fmt.Errorf("remove %s from %s: %w", mig.ID(), m.opts.HistoryTable, err)
	}
	if tag.RowsAffected() != 1 {
		return &PoolerError{Found: "the history row of " + mig.ID() + " was removed on a server session that does not hold this migrator's lock"}
	}
	return nil
}
