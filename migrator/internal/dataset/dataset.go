// Package dataset fills the empty tables of a schema with generated rows that follow their types,
// unique keys, foreign keys and CHECK (... IN (...)) lists: lint's dataset, and the few rows the
// pre-flight's scratch run gives a procedure to loop over.
package dataset

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// column is what fill needs to know to make values for a column.
type column struct {
	name, typ     string // typ: format_type, e.g. "character varying(255)"
	baseType      string // the type without modifiers, e.g. "character varying"
	maxLen        int    // of a varchar(n) or char(n), else 0
	serial        bool   // its default takes the next value of a sequence, or it is an identity
	generated     bool
	constDefault  bool     // a default that is not a sequence
	unique        bool     // part of a primary key or unique constraint
	allowed       []string // the values a CHECK (col IN (...)) allows
	refTable      string   // a single-column foreign key's table and column
	refColumn     string
	hasForeignKey bool
	notNull       bool
	// shape is the column's statistics in a shaped plan; distinct its number of distinct values.
	shape    *ColumnShape
	distinct int
}

// Fill loads rows into every empty table of the schema (the history table aside) with COPY, in
// foreign key order, then ANALYZEs them so that the planner and the row counts see the data.
// The values follow the columns' types, unique keys, foreign keys and CHECK (... IN (...)) lists;
// a column with a constant default and no such rule gets its default.
func Fill(ctx context.Context, conn *pgx.Conn, history string, n int) (map[string]int64, error) {
	return FillPlan(ctx, conn, history, Plan{Rows: n})
}

// FillPlan is Fill with the rows of plan: a number per table, or a shape.
func FillPlan(ctx context.Context, conn *pgx.Conn, history string, plan Plan) (map[string]int64, error) {
	if plan.Rows <= 0 && plan.Shape == nil {
		return nil, nil
	}
	tables, err := emptyTables(ctx, conn, history)
	if err != nil {
		return nil, err
	}
	loaded := map[string]int64{}
	for _, t := range tables {
		n := plan.rows(t)
		cols, err := columnsOf(ctx, conn, t)
		if err != nil {
			return nil, err
		}
		keys := map[string][]string{}
		var names []string
		for _, c := range cols {
			switch {
			case c.serial || c.generated:
				continue
			case c.hasForeignKey:
				if keys[c.name], err = referencedKeys(ctx, conn, c, n); err != nil {
					return nil, err
				}
				if len(keys[c.name]) == 0 {
					return nil, fmt.Errorf("dataset: %s.%s references %s, which is empty", t, c.name, c.refTable)
				}
			case c.constDefault && !c.unique && len(c.allowed) == 0 && !strings.HasPrefix(c.baseType, "timestamp"):
				continue // the default is what the application writes
			}
			names = append(names, c.name)
		}
		kept := make([]column, 0, len(names))
		for _, c := range cols {
			if slices.Contains(names, c.name) {
				if cs, ok := plan.column(t, c.name); ok {
					c.shape = &cs
					c.distinct = int(cs.NDistinct)
					if cs.NDistinct < 0 {
						c.distinct = int(-cs.NDistinct * float64(n))
					}
				}
				kept = append(kept, c)
			}
		}
		ident := pgx.Identifier{t}.Sanitize()
		quoted := make([]string, len(names))
		for i, name := range names {
			quoted[i] = pgx.Identifier{name}.Sanitize()
		}
		r, w := io.Pipe()
		go func() {
			var b strings.Builder
			for i := range n {
				b.Reset()
				for j, c := range kept {
					if j > 0 {
						b.WriteByte('\t')
					}
					b.WriteString(value(c, i, keys[c.name]))
				}
				b.WriteByte('\n')
				if _, err := io.WriteString(w, b.String()); err != nil {
					return
				}
			}
			w.Close()
		}()
		sql := "COPY " + ident + " (" + strings.Join(quoted, ", ") + ") FROM STDIN"
		if len(names) == 0 {
			sql = "COPY " + ident + " FROM STDIN" // every column has a default: nothing to say
		}
		tag, err := conn.PgConn().CopyFrom(ctx, r, sql)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("dataset: load %d rows into %s: %w", n, t, err)
		}
		if _, err := conn.Exec(ctx, "ANALYZE "+ident); err != nil {
			return nil, fmt.Errorf("dataset: analyze %s: %w", t, err)
		}
		loaded[t] = tag.RowsAffected()
	}
	return loaded, nil
}

// emptyTables lists the schema's empty tables, each after the tables its foreign keys reference.
func emptyTables(ctx context.Context, conn *pgx.Conn, history string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT c.relname, coalesce(array_agg(DISTINCT r.relname) FILTER (WHERE r.relname IS NOT NULL AND r.oid <> c.oid), '{}')
  FROM pg_class c
  LEFT JOIN pg_constraint f ON f.conrelid = c.oid AND f.contype = 'f'
  LEFT JOIN pg_class r ON r.oid = f.confrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname <> $1
 GROUP BY c.relname ORDER BY c.relname`, history)
	if err != nil {
		return nil, fmt.Errorf("dataset: list the tables: %w", err)
	}
	deps := map[string][]string{}
	var order []string
	var name string
	var refs []string
	if _, err := pgx.ForEachRow(rows, []any{&name, &refs}, func() error {
		deps[name] = append([]string(nil), refs...)
		order = append(order, name)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("dataset: list the tables: %w", err)
	}
	var sorted []string
	done := map[string]bool{}
	var visit func(t string, depth int)
	visit = func(t string, depth int) {
		if done[t] || depth > len(order) {
			return
		}
		for _, d := range deps[t] {
			visit(d, depth+1)
		}
		if !done[t] {
			done[t] = true
			sorted = append(sorted, t)
		}
	}
	for _, t := range order {
		visit(t, 0)
	}
	var empty []string
	for _, t := range sorted {
		var has bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{t}.Sanitize()+")").Scan(&has); err != nil {
			return nil, fmt.Errorf("dataset: look into %s: %w", t, err)
		}
		if !has {
			empty = append(empty, t)
		}
	}
	return empty, nil
}

var (
	lengthModifier = regexp.MustCompile(`^(character varying|character|varchar|char)\((\d+)\)`)
	allowedValue   = regexp.MustCompile(`'((?:[^']|'')*)'`)
)

func columnsOf(ctx context.Context, conn *pgx.Conn, table string) ([]column, error) {
	rows, err := conn.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), format_type(a.atttypid, NULL),
       a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%',
       a.attgenerated <> '', a.atthasdef,
       EXISTS (SELECT 1 FROM pg_constraint u WHERE u.conrelid = a.attrelid AND u.contype IN ('p', 'u') AND a.attnum = ANY (u.conkey)),
       coalesce((SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'c'
                  AND k.conkey = ARRAY[a.attnum] AND pg_get_constraintdef(k.oid) ~ '(IN \(|= ANY)' LIMIT 1), ''),
       coalesce(fr.relname, ''), coalesce(fa.attname, ''), a.attnotnull
  FROM pg_attribute a
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_constraint f ON f.conrelid = a.attrelid AND f.contype = 'f' AND f.conkey = ARRAY[a.attnum]
  LEFT JOIN pg_class fr ON fr.oid = f.confrelid
  LEFT JOIN pg_attribute fa ON fa.attrelid = f.confrelid AND fa.attnum = f.confkey[1]
 WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`, pgx.Identifier{table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("dataset: read the columns of %s: %w", table, err)
	}
	var out []column
	var c column
	var hasDef bool
	var check string
	if _, err := pgx.ForEachRow(rows, []any{&c.name, &c.typ, &c.baseType, &c.serial, &c.generated, &hasDef, &c.unique, &check, &c.refTable, &c.refColumn, &c.notNull},
		func() error {
			col := c
			col.constDefault = hasDef && !c.serial
			col.hasForeignKey = c.refTable != ""
			if m := lengthModifier.FindStringSubmatch(c.typ); m != nil {
				fmt.Sscan(m[2], &col.maxLen)
			}
			col.allowed = nil
			for _, m := range allowedValue.FindAllStringSubmatch(check, -1) {
				col.allowed = append(col.allowed, strings.ReplaceAll(m[1], "''", "'"))
			}
			out = append(out, col)
			return nil
		}); err != nil {
		return nil, fmt.Errorf("dataset: read the columns of %s: %w", table, err)
	}
	return out, nil
}

// referencedKeys reads up to n values of the column a foreign key references.
func referencedKeys(ctx context.Context, conn *pgx.Conn, c column, n int) ([]string, error) {
	col := pgx.Identifier{c.refColumn}.Sanitize()
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT %s::text FROM %s ORDER BY %s LIMIT %d", col, pgx.Identifier{c.refTable}.Sanitize(), col, n))
	if err != nil {
		return nil, fmt.Errorf("dataset: read the keys of %s: %w", c.refTable, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("dataset: read the keys of %s: %w", c.refTable, err)
	}
	return out, nil
}

// value is row i's value for c in COPY's text format. In a shaped plan a nullable column is
// NULL in its null_frac of the rows, and a column that is no key takes its distinct count of
// values and its average width.
func value(c column, i int, keys []string) string {
	if s := c.shape; s != nil && !c.notNull && !c.unique && s.NullFrac > 0 && spread(i) < s.NullFrac {
		return `\N`
	}
	if len(keys) > 0 {
		return keys[i%len(keys)]
	}
	if len(c.allowed) > 0 {
		return c.allowed[i%len(c.allowed)]
	}
	if c.shape != nil && !c.unique && c.distinct > 0 {
		i %= c.distinct
	}
	switch {
	case c.baseType == "integer" || c.baseType == "bigint" || c.baseType == "smallint":
		if c.unique || c.shape != nil { // shaped: i is already within the distinct count
			return fmt.Sprint(i + 1)
		}
		return fmt.Sprint(1 + i%9)
	case c.baseType == "numeric" || c.baseType == "double precision" || c.baseType == "real" || c.baseType == "money":
		return fmt.Sprintf("%d.%02d", 1+i%500, i%100)
	case c.baseType == "boolean":
		return fmt.Sprint(i%2 == 0)
	case strings.HasPrefix(c.baseType, "timestamp"):
		return datasetEpoch.Add(-time.Duration(i) * time.Minute).Format("2006-01-02 15:04:05+00")
	case c.baseType == "date":
		return fmt.Sprintf("2026-01-%02d", 1+i%28)
	case c.baseType == "uuid":
		return fmt.Sprintf("00000000-0000-4000-8000-%012x", i+1)
	case c.baseType == "jsonb" || c.baseType == "json":
		return fmt.Sprintf(`{"n": %d}`, i)
	case c.baseType == "bytea":
		return fmt.Sprintf(`\\x%08x`, i)
	}
	v := fmt.Sprintf("%s-%d", c.name, i+1)
	if c.shape != nil && c.shape.AvgWidth > len(v)+1 { // avg_width counts a short varlena's 1-byte header
		v += strings.Repeat("x", c.shape.AvgWidth-1-len(v))
	}
	if c.maxLen > 0 && len(v) > c.maxLen {
		v = v[len(v)-c.maxLen:]
	}
	return v
}

// spread maps row i to [0, 1) evenly but not in order, so that NULLs are spread over the table.
func spread(i int) float64 { return float64(uint32(i)*2654435761%10007) / 10007 }

// datasetEpoch is the newest timestamp of the dataset; row i is i minutes older.
var datasetEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
