package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// Shape is a database's tables as its planner statistics describe them: how many rows, and per
// column the NULL fraction, the average width and the number of distinct values. It holds no
// value of any row (pg_stats' most_common_vals and histogram_bounds are never read), so it may
// leave the database's security boundary: the pipeline's lint generates a dataset of this shape.
type Shape struct {
	Source string                `json:"source"` // host/database it was read from, without credentials
	Taken  time.Time             `json:"taken"`
	Server string                `json:"server_version"`
	Tables map[string]TableShape `json:"tables"`
}

// TableShape is one table's rows (pg_class.reltuples) and columns (pg_stats).
type TableShape struct {
	Rows    int64                  `json:"rows"`
	Columns map[string]ColumnShape `json:"columns,omitempty"`
}

// ColumnShape is a column's pg_stats: null_frac, avg_width and n_distinct (a count when
// positive, a fraction of the rows when negative, as pg_stats has it).
type ColumnShape struct {
	NullFrac  float64 `json:"null_frac"`
	AvgWidth  int     `json:"avg_width"`
	NDistinct float64 `json:"n_distinct"`
}

// ReadShape reads the shape of the session's schema (the history table aside) from the
// statistics: pg_class.reltuples and pg_stats' null_frac, avg_width and n_distinct, nothing else.
// Tables never analyzed have reltuples -1: they are left out.
func ReadShape(ctx context.Context, conn *pgx.Conn, history string) (*Shape, error) {
	cfg := conn.Config()
	s := &Shape{Source: fmt.Sprintf("%s/%s", cfg.Host, cfg.Database), Taken: time.Now().UTC(),
		Server: conn.PgConn().ParameterStatus("server_version"), Tables: map[string]TableShape{}}
	rows, err := conn.Query(ctx, `SELECT c.relname, c.reltuples::int8 FROM pg_class c
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> $1 AND c.reltuples >= 0`, history)
	if err != nil {
		return nil, fmt.Errorf("shape: read the tables' row counts: %w", err)
	}
	var (
		table string
		n     int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&table, &n}, func() error { s.Tables[table] = TableShape{Rows: n, Columns: map[string]ColumnShape{}}; return nil }); err != nil {
		return nil, fmt.Errorf("shape: read the tables' row counts: %w", err)
	}
	rows, err = conn.Query(ctx, `SELECT tablename, attname, null_frac, avg_width, n_distinct FROM pg_stats
 WHERE schemaname = current_schema() AND NOT inherited`)
	if err != nil {
		return nil, fmt.Errorf("shape: read pg_stats: %w", err)
	}
	var (
		col string
		cs  ColumnShape
		nf  float32
		nd  float32
	)
	if _, err := pgx.ForEachRow(rows, []any{&table, &col, &nf, &cs.AvgWidth, &nd}, func() error {
		if t, ok := s.Tables[table]; ok {
			cs.NullFrac, cs.NDistinct = float64(nf), float64(nd)
			t.Columns[col] = cs
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("shape: read pg_stats: %w", err)
	}
	return s, nil
}

// LoadShape reads a shape file.
func LoadShape(path string) (*Shape, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("shape file: %w", err)
	}
	var s Shape
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("shape file %s: %w", path, err)
	}
	if len(s.Tables) == 0 {
		return nil, fmt.Errorf("shape file %s: no tables (make it with `migrator shape`)", path)
	}
	return &s, nil
}

// Plan says how many rows Load loads: Rows into every table, or, with a Shape, each table's rows
// times Fraction (at least one) with its columns' NULL fractions, widths and distinct counts.
type Plan struct {
	Rows     int
	Shape    *Shape
	Fraction float64
}

// rows is how many rows table gets.
func (p Plan) rows(table string) int {
	if p.Shape == nil {
		return p.Rows
	}
	t, ok := p.Shape.Tables[table]
	if !ok {
		return p.Rows // a table the shape does not know (new since it was taken)
	}
	return max(1, int(math.Round(float64(t.Rows)*p.Fraction)))
}

// column is the shape of table.col, if the plan has one.
func (p Plan) column(table, col string) (ColumnShape, bool) {
	if p.Shape == nil {
		return ColumnShape{}, false
	}
	cs, ok := p.Shape.Tables[table].Columns[col]
	return cs, ok
}

// String says which dataset the plan makes, for reports.
func (p Plan) String() string {
	if p.Shape == nil {
		return fmt.Sprintf("%d rows per table", p.Rows)
	}
	return fmt.Sprintf("the shape of %s (%s, taken %s) at %g of its rows", p.Shape.Source, p.Shape.Server, p.Shape.Taken.Format("2006-01-02"), p.Fraction)
}
