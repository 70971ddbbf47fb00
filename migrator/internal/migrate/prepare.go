// The first step under the lock: the history read again, upgraded, created or adopted.

package migrate

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

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
