package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultHistoryTable records what was applied, in the connection's current schema.
const DefaultHistoryTable = "carthub_schema_history"

// Applied is one row of the history table.
type Applied struct {
	Version   int
	Name      string
	Checksum  string
	AppliedAt time.Time
	Duration  time.Duration
	AppliedBy string
	Kind      string // "applied" or "adopted"
}

func (m *Migrator) table() string { return pgx.Identifier{m.opts.HistoryTable}.Sanitize() }

func (m *Migrator) createHistorySQL() string {
	return `CREATE TABLE IF NOT EXISTS ` + m.table() + ` (
    version     integer PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms bigint      NOT NULL,
    applied_by  text        NOT NULL,
    kind        text        NOT NULL DEFAULT 'applied' CHECK (kind IN ('applied', 'adopted'))
)`
}

// readHistory returns the applied rows in version order; exists is false when there is no
// history table yet. One simple-protocol round trip: this is the whole cost of a no-op run.
func (m *Migrator) readHistory(ctx context.Context, q queryer) (rows []Applied, exists bool, err error) {
	r, err := q.Query(ctx, `SELECT version, name, checksum, applied_at, duration_ms, applied_by, kind FROM `+
		m.table()+` ORDER BY version`, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return historyResult(err)
	}
	for r.Next() {
		var a Applied
		var ms int64
		if err := r.Scan(&a.Version, &a.Name, &a.Checksum, &a.AppliedAt, &ms, &a.AppliedBy, &a.Kind); err != nil {
			r.Close()
			return nil, false, fmt.Errorf("read migration history: %w", err)
		}
		a.Duration = time.Duration(ms) * time.Millisecond
		rows = append(rows, a)
	}
	if err := r.Err(); err != nil {
		return historyResult(err)
	}
	return rows, true, nil
}

func historyResult(err error) ([]Applied, bool, error) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: a database never migrated
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("read migration history: %w", err)
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (m *Migrator) recordApplied(ctx context.Context, e execer, mig Migration, took time.Duration, kind string) error {
	_, err := e.Exec(ctx, `INSERT INTO `+m.table()+` (version, name, checksum, duration_ms, applied_by, kind)
VALUES ($1, $2, $3, $4, current_user || ' via ' || $5, $6)`,
		mig.Version, mig.Name, mig.Checksum, took.Milliseconds(), m.opts.AppliedBy, kind)
	if err != nil {
		return fmt.Errorf("record %s in %s: %w", mig.ID(), m.opts.HistoryTable, err)
	}
	return nil
}

func (m *Migrator) recordReverted(ctx context.Context, e execer, mig Migration) error {
	if _, err := e.Exec(ctx, `DELETE FROM `+m.table()+` WHERE version = $1`, mig.Version); err != nil {
		return fmt.Errorf("remove %s from %s: %w", mig.ID(), m.opts.HistoryTable, err)
	}
	return nil
}
