// Adoption of a legacy database: the baseline's tables found, compared and recorded as applied.

package migrate

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/schema"
)

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
		if err := m.CheckOwnership(ctx); err != nil {
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

// CheckOwnership refuses to adopt tables the migrator's role cannot alter: the migrations after
// the baseline change them, and would fail one file in with "must be owner".
func (m *Migrator) CheckOwnership(ctx context.Context) error {
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
