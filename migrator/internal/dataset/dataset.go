// Package dataset fills the empty tables of a schema with generated rows: lint's dataset, and the
// few rows the pre-flight's scratch run gives a procedure to loop over.
//
// The rows are made inside the server (INSERT ... SELECT over generate_series, one SQL expression
// per column) from what the catalog says of each column: its type (enum labels, domains, arrays,
// ranges, numeric precision and the rest), its unique indexes and exclusion constraints, its
// foreign keys (whole referenced tuples) and its CHECK constraints. The server judges the values:
// each CHECK is evaluated on the generated rows before they are inserted, a column whose values a
// domain or a CHECK refuses gets a pool of candidates that the server accepted, and duplicates
// of a unique key are skipped (ON CONFLICT DO NOTHING). What it cannot fill is left with fewer
// rows, or NULL where the column allows it, and a Note says why: a schema never stops the load.
package dataset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Result is what Load did: the rows each table received, and what it left short and why.
type Result struct {
	Loaded map[string]int64
	Notes  []Note
}

// Note is a table that got fewer rows than asked, or a column left NULL (or to its default),
// with the reason in a user's words.
type Note struct {
	Table, Column string
	Reason        string
	Asked, Got    int64
}

// String is the note as a report line.
func (n Note) String() string {
	where := n.Table
	if n.Column != "" {
		where += "." + n.Column
	}
	return fmt.Sprintf("%s: %d of %d rows: %s", where, n.Got, n.Asked, n.Reason)
}

// Fill loads n rows into every empty table of the schema (the history table aside); see Load.
func Fill(ctx context.Context, conn *pgx.Conn, history string, n int) (map[string]int64, error) {
	return FillPlan(ctx, conn, history, Plan{Rows: n})
}

// FillPlan is Load's rows per table, without its notes.
func FillPlan(ctx context.Context, conn *pgx.Conn, history string, plan Plan) (map[string]int64, error) {
	res, err := Load(ctx, conn, history, plan)
	if err != nil {
		return nil, err
	}
	return res.Loaded, nil
}

// Load fills every empty table of the session's schema but history with the rows of plan, in
// foreign key order, and ANALYZEs each so that the planner and the row counts see the data. The
// rows are the same for the same plan and schema; serial keys are numbered from 1. It returns an
// error only when the session fails (a broken connection, a cancelled context): a table it cannot
// fill gets fewer rows, or none, and a Note.
//
// Outside a transaction each table is loaded in one of its own; inside one (the pre-flight), in
// savepoints of the caller's.
func Load(ctx context.Context, conn *pgx.Conn, history string, plan Plan) (*Result, error) {
	res := &Result{Loaded: map[string]int64{}}
	if plan.Rows <= 0 && plan.Shape == nil {
		return res, nil
	}
	tables, err := emptyTables(ctx, conn, history)
	if err != nil || len(tables) == 0 {
		return res, err
	}
	l := &loader{conn: conn, types: types{}, res: res, plan: plan, own: conn.PgConn().TxStatus() == 'I'}
	if _, err := conn.Exec(ctx, castableSQL); err != nil {
		return nil, fmt.Errorf("dataset: create the cast test function: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP FUNCTION IF EXISTS pg_temp.carthub_dataset_castable(text, text)")
	}()
	for _, name := range tables {
		if err := l.table(ctx, name, int64(plan.rows(name))); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// castableSQL makes a function that says whether a text casts to a type: a domain's CHECKs and
// NOT NULL, an enum's labels and any type's input function judge the candidates for a column.
const castableSQL = `CREATE OR REPLACE FUNCTION pg_temp.carthub_dataset_castable(v text, typ text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT %L::%s', v, typ);
  RETURN true;
EXCEPTION WHEN others THEN
  RETURN false;
END $$`

// loader fills the tables of one Load.
type loader struct {
	conn  *pgx.Conn
	types types
	res   *Result
	plan  Plan
	own   bool // no transaction was open: each table gets one of its own
}

// note records a Note.
func (l *loader) note(table, column string, asked, got int64, format string, args ...any) {
	l.res.Notes = append(l.res.Notes, Note{Table: table, Column: column, Asked: asked, Got: got, Reason: fmt.Sprintf(format, args...)})
}

// sampleRows is how many rows an attempt inserts, and rolls back, before the full load: most
// values the server refuses show in them, for little of the full load's time.
const sampleRows = 100

// table fills one table with n rows.
func (l *loader) table(ctx context.Context, name string, n int64) (err error) {
	begin, commit, abort := "SAVEPOINT carthub_dataset_table", "RELEASE SAVEPOINT carthub_dataset_table", "ROLLBACK TO SAVEPOINT carthub_dataset_table; RELEASE SAVEPOINT carthub_dataset_table"
	if l.own {
		begin, commit, abort = "BEGIN; SET LOCAL work_mem = '64MB'", "COMMIT", "ROLLBACK"
	}
	if _, err := l.conn.Exec(ctx, begin); err != nil {
		return fmt.Errorf("dataset: begin %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			_, _ = l.conn.Exec(context.WithoutCancel(ctx), abort)
		}
	}()
	t, err := readTable(ctx, l.conn, l.types, name)
	if err != nil {
		return err
	}
	seqs, err := l.sequences(ctx, t)
	if err != nil {
		return err
	}
	got, err := l.bulkFill(ctx, t, n, seqs)
	if err != nil {
		return err
	}
	if _, err := l.conn.Exec(ctx, "ANALYZE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("dataset: analyze %s: %w", name, err)
	}
	if _, err := l.conn.Exec(ctx, commit); err != nil {
		return fmt.Errorf("dataset: commit %s: %w", name, err)
	}
	l.res.Loaded[name] = got
	return nil
}

// bulkFill is fill, with a large load's foreign keys and plain indexes dropped before it and
// made again after it (see bulkRows). Should the server refuse to make them again, the load is
// rolled back and done again with them in place.
func (l *loader) bulkFill(ctx context.Context, t *table, n int64, seqs []sequenceState) (int64, error) {
	var r rebuild
	if n >= bulkRows {
		var err error
		if r, err = dropped(ctx, l.conn, t.name); err != nil {
			return 0, err
		}
	}
	if len(r.drop) == 0 {
		return l.fill(ctx, t, n, seqs)
	}
	notes := len(l.res.Notes)
	var got int64
	pe, err := l.tryNamed(ctx, "carthub_dataset_bulk", false, func() error {
		if _, err := l.conn.Exec(ctx, strings.Join(r.drop, "; ")); err != nil {
			return err
		}
		var err error
		if got, err = l.fill(ctx, t, n, seqs); err != nil {
			return err
		}
		_, err = l.conn.Exec(ctx, strings.Join(r.create, "; "))
		return err
	})
	if err != nil || pe == nil {
		return got, err
	}
	l.res.Notes = l.res.Notes[:notes]
	if err := l.restore(ctx, seqs); err != nil {
		return 0, err
	}
	return l.fill(ctx, t, n, seqs)
}

// Levels of an attempt: each refuses the server fewer chances to say no.
const (
	levelGenerated = iota // generated values where a sample of them passes the column's rules
	levelPools            // every column from values the server accepted beforehand
	levelNulls            // and every column that allows NULL left NULL
	levels
)

// fill tries the levels in turn until one loads; it returns the rows loaded.
func (l *loader) fill(ctx context.Context, t *table, n int64, seqs []sequenceState) (int64, error) {
	notesBefore := len(l.res.Notes)
	var last *pgconn.PgError
	for level := range levels {
		l.res.Notes = l.res.Notes[:notesBefore] // each attempt says again what it left out
		ok, err := l.decide(ctx, t, n, level, last)
		if err != nil || !ok {
			return 0, err
		}
		ins := l.insert(t, n)
		got, pe, err := l.attempt(ctx, t, &ins, n, seqs)
		if err != nil {
			return 0, err
		}
		if pe == nil {
			return got, l.shortfall(ctx, t, ins, n, got)
		}
		last = pe
	}
	l.res.Notes = l.res.Notes[:notesBefore]
	l.note(t.name, "", n, 0, "no rows: the server refused the generated rows: %s", describe(last))
	return 0, nil
}

// attempt inserts a sample of the rows and rolls it back, then, if the server took them, all n.
// The sequences are put back after what is rolled back. The INSERT skips duplicates of a unique
// key (ON CONFLICT DO NOTHING, which costs as much again) only once a plain one met one.
func (l *loader) attempt(ctx context.Context, t *table, ins *insertStatement, n int64, seqs []sequenceState) (int64, *pgconn.PgError, error) {
	var got int64
	sizes := []int64{n}
	if n > sampleRows {
		sizes = []int64{sampleRows, n}
	}
	for _, rows := range sizes {
		sample := rows < n
		for {
			pe, err := l.try(ctx, sample, func() error {
				tag, err := l.conn.Exec(ctx, ins.sql(rows))
				got = tag.RowsAffected()
				return err
			})
			if err != nil {
				return 0, nil, err
			}
			if sample || pe != nil {
				if err := l.restore(ctx, seqs); err != nil {
					return 0, nil, err
				}
			}
			if pe != nil && (pe.Code == "23505" || pe.Code == "23P01") && !ins.conflict && t.arbiters && !t.deferred {
				ins.conflict = true
				continue
			}
			if pe != nil {
				return 0, pe, nil
			}
			break
		}
	}
	return got, nil, nil
}

// describe is a server error as a note says it.
func describe(e *pgconn.PgError) string {
	if e == nil {
		return "no reason given"
	}
	s := e.Message
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// decide picks each column's mode for an attempt at level. It returns false when the table
// cannot be filled at all (a note says why).
func (l *loader) decide(ctx context.Context, t *table, n int64, level int, refused *pgconn.PgError) (bool, error) {
	for _, c := range t.cols {
		c.mode, c.pool, c.fk, c.fkRef = modeServer, nil, nil, ""
		c.shape, c.distinct = nil, 0
		if cs, ok := l.plan.column(t.name, c.name); ok {
			c.shape = &cs
			c.distinct = int(cs.NDistinct)
			if cs.NDistinct < 0 {
				c.distinct = int(-cs.NDistinct * float64(n))
			}
		}
	}
	for _, f := range t.fks {
		if err := l.referenced(ctx, t, f, n); err != nil {
			return false, err
		}
	}
	for _, c := range t.cols {
		if c.serial || c.generated || c.mode == modeFK {
			continue
		}
		if c.fk != nil { // a foreign key with nothing to reference
			if c.notNull && !c.hasDefault {
				l.note(t.name, c.name, n, 0, "it references %s, which has no rows to reference", c.fk.refTable)
				return false, nil
			}
			continue
		}
		timestamp := strings.HasPrefix(baseOf(c.t).name, "timestamp")
		if c.hasDefault && !c.unique && !c.listed && !timestamp {
			continue // the default is what the application writes
		}
		if level == levelNulls && !c.notNull && !c.unique {
			l.note(t.name, c.name, n, n, "left NULL: the server refused the rows generated with it: %s", describe(refused))
			continue
		}
		expr := gen(c.t, c.mod, c, c.index(), c.small())
		if expr == "" {
			kind := map[string]string{"c": "a composite type", "m": "a multirange", "p": "a pseudo-type", "d": "a domain over a type"}[c.t.typtype]
			if kind == "" {
				kind = "a type"
			}
			if c.t.typtype == "b" && c.t.elem == nil && c.t.category != "A" {
				// An unknown base type: offer it candidates, and keep what casts.
				if err := l.fillPool(ctx, c, ""); err != nil {
					return false, err
				}
				if len(c.pool) > 0 {
					c.mode = modePool
					continue
				}
			}
			switch {
			case c.hasDefault:
				l.note(t.name, c.name, n, n, "left to its default: %s is %s the generator cannot make values of", c.t.name, kind)
			case !c.notNull:
				l.note(t.name, c.name, n, n, "left NULL: %s is %s the generator cannot make values of", c.t.name, kind)
			default:
				l.note(t.name, c.name, n, 0, "no rows: the column is NOT NULL and %s is %s the generator cannot make values of", c.t.name, kind)
				return false, nil
			}
			continue
		}
		c.mode = modeGen
		if level == levelGenerated && !l.mayRefuse(c) {
			continue
		}
		if level == levelGenerated {
			ok, err := l.samplePasses(ctx, c, expr, n)
			if err != nil {
				return false, err
			}
			if ok {
				continue
			}
		}
		if err := l.fillPool(ctx, c, expr); err != nil {
			return false, err
		}
		c.mode = modePool
		if len(c.pool) == 0 {
			c.mode = modeServer
			switch {
			case c.hasDefault:
				l.note(t.name, c.name, n, n, "left to its default: no value the generator tried is accepted by %s and the column's CHECKs", c.t.name)
			case !c.notNull:
				l.note(t.name, c.name, n, n, "left NULL: no value the generator tried is accepted by %s and the column's CHECKs", c.t.name)
			default:
				l.note(t.name, c.name, n, 0, "no rows: the column is NOT NULL and no value the generator tried is accepted by %s and the column's CHECKs", c.t.name)
				return false, nil
			}
		}
	}
	return true, nil
}

// baseOf is the type a domain is built on, or t.
func baseOf(t *pgType) *pgType {
	for t.typtype == "d" && t.base != nil {
		t = t.base
	}
	return t
}

// mayRefuse says whether the server may refuse c's generated values: a CHECK reads the column,
// or its type is a domain (or an array of one), whose CHECKs apply.
func (l *loader) mayRefuse(c *column) bool {
	if len(c.checks) > 0 {
		return true
	}
	for t := c.t; t != nil; t = t.elem {
		if t.typtype == "d" {
			return true
		}
	}
	return false
}

// sampleSet is a FROM item of row numbers g: the first thousand and a thousand spread to n.
func sampleSet(n int64) string {
	if n <= 2000 {
		return fmt.Sprintf("generate_series(1, %d::int8) carthub_gs(g)", n)
	}
	return fmt.Sprintf("(SELECT DISTINCT g FROM (SELECT generate_series(1, 1000::int8) UNION ALL SELECT greatest(1, %d::int8 * k / 1000) FROM generate_series(1, 1000::int8) k) s(g)) carthub_gs", n)
}

// samplePasses says whether c's generated values of a sample of the rows cast to its type and
// pass its CHECKs, as the server judges them.
func (l *loader) samplePasses(ctx context.Context, c *column, expr string, n int64) (bool, error) {
	// count(col) makes the server compute every value (and so cast it), which the CHECKs alone
	// might not.
	name := pgx.Identifier{c.name}.Sanitize()
	sql := fmt.Sprintf("SELECT count(*) FILTER (WHERE NOT (%s)), count(%s) FROM (SELECT (%s)::%s AS %s FROM %s) carthub_s",
		passes(c.checks), name, expr, c.typ, name, sampleSet(n))
	var bad, values int64
	pe, err := l.try(ctx, true, func() error { return l.conn.QueryRow(ctx, sql).Scan(&bad, &values) })
	if err != nil {
		return false, err
	}
	return pe == nil && bad == 0, nil
}

// passes is the condition that a row passes every one of checks (a CHECK passes on NULL).
func passes(checks []check) string {
	if len(checks) == 0 {
		return "true"
	}
	parts := make([]string, len(checks))
	for i, k := range checks {
		parts[i] = "(" + k.expr + ") IS NOT FALSE"
	}
	return strings.Join(parts, " AND ")
}

// poolSize caps a column's pool of accepted values.
const poolSize = 1000

// fillPool offers the server candidates for c (the generated values of the first rows, when
// there is an expression, then constants from its CHECKs and some that common types accept) and
// keeps, in order, those that cast to its type and pass its CHECKs.
func (l *loader) fillPool(ctx context.Context, c *column, expr string) error {
	var offered []string
	if expr != "" {
		sql := fmt.Sprintf("SELECT (%s)::text FROM generate_series(1, %d::int8) carthub_gs(g)", gen(c.t, c.mod, c, rowIndex, false), poolSize)
		pe, err := l.try(ctx, true, func() error {
			rows, err := l.conn.Query(ctx, sql)
			if err != nil {
				return err
			}
			offered, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			return err
		}
		if pe != nil {
			offered = nil
		}
	}
	seen := map[string]bool{}
	var unique []string
	for _, v := range append(offered, candidates(c)...) {
		if !seen[v] {
			seen[v] = true
			unique = append(unique, v)
		}
	}
	var castable []string
	pe, err := l.try(ctx, true, func() error {
		rows, err := l.conn.Query(ctx, `SELECT v FROM unnest($1::text[]) WITH ORDINALITY u(v, o)
 WHERE pg_temp.carthub_dataset_castable(v, $2) ORDER BY o`, unique, c.typ)
		if err != nil {
			return err
		}
		castable, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil || pe != nil || len(castable) == 0 {
		return err
	}
	sql := fmt.Sprintf(`SELECT carthub_v FROM (SELECT carthub_v, carthub_o, carthub_v::%s AS %s FROM unnest($1::text[]) WITH ORDINALITY u(carthub_v, carthub_o)) carthub_s
 WHERE %s ORDER BY carthub_o LIMIT %d`, c.typ, pgx.Identifier{c.name}.Sanitize(), passes(c.checks), poolSize)
	pe, err = l.try(ctx, true, func() error {
		rows, err := l.conn.Query(ctx, sql, castable)
		if err != nil {
			return err
		}
		c.pool, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if pe != nil {
		c.pool = nil
	}
	return err
}

// referenced prepares foreign key f: its columns draw whole tuples of the referenced table (at
// most n distinct ones, in order), or stay NULL when that table has none (or is this one).
func (l *loader) referenced(ctx context.Context, t *table, f *foreignKey, n int64) error {
	f.tuples = 0
	cols := make([]*column, len(f.cols))
	for i, num := range f.cols {
		if cols[i] = t.col(num); cols[i] == nil || cols[i].mode == modeFK {
			return nil // a column another foreign key fills already
		}
	}
	if !f.self {
		refs := quoteAll(f.refCols)
		var notNull []string
		for _, r := range refs {
			notNull = append(notNull, r+" IS NOT NULL")
		}
		// A foreign key references a unique key (PostgreSQL refuses any other, and a deferrable
		// one), so its tuples without a NULL are distinct already: no DISTINCT to sort or hash.
		sql := fmt.Sprintf("SELECT count(*) FROM (SELECT %s FROM %s WHERE %s LIMIT %d) s",
			strings.Join(refs, ", "), f.refTable, strings.Join(notNull, " AND "), n)
		pe, err := l.try(ctx, true, func() error { return l.conn.QueryRow(ctx, sql).Scan(&f.tuples) })
		if err != nil {
			return fmt.Errorf("dataset: count the keys %s references in %s: %w", t.name, f.refTable, err)
		}
		if pe != nil { // the server would not let us read them (a privilege): as if there were none
			f.tuples = 0
		}
	}
	for i, c := range cols {
		c.fk = f
		if f.tuples > 0 {
			c.mode, c.fkRef = modeFK, f.refCols[i]
			continue
		}
		if !c.notNull && !c.hasDefault {
			why := "which has no rows"
			if f.self {
				why = "its own table, which is being filled"
			}
			l.note(t.name, c.name, n, n, "left NULL: it references %s, %s", f.refTable, why)
		}
	}
	return nil
}

// quoteAll quotes each name as an identifier.
func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = pgx.Identifier{n}.Sanitize()
	}
	return out
}

// insertStatement is a table's INSERT ... SELECT for any number of rows.
type insertStatement struct {
	head, where string
	conflict    bool    // ON CONFLICT DO NOTHING
	checks      []check // evaluated in where
	selected    string  // the generated columns, as the subselect's output
	fks         []*foreignKey
	n           int64
}

// sql is the statement for rows rows.
func (s insertStatement) sql(rows int64) string {
	tail := ""
	if s.conflict {
		tail = " ON CONFLICT DO NOTHING"
	}
	return fmt.Sprintf("%s%s SELECT * FROM (%s) carthub_s WHERE %s%s", s.with(rows), s.head, s.source(rows), s.where, tail)
}

// with names the referenced tuples the first rows draw: in order, and numbered or, when they
// are of fixed width, in arrays (indexed in constant time, and without a join that would have
// to be sorted back into the rows' order).
func (s insertStatement) with(rows int64) string {
	var ctes []string
	for _, f := range s.fks {
		refs := quoteAll(f.refCols)
		list := strings.Join(refs, ", ")
		notNull := make([]string, len(refs))
		for i, r := range refs {
			notNull[i] = r + " IS NOT NULL"
		}
		// Distinct without DISTINCT: the referenced columns are a unique key (see referenced).
		tuples := fmt.Sprintf("(SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d) r", list, f.refTable, strings.Join(notNull, " AND "), list, min(rows, s.n))
		if f.fixed {
			aggs := make([]string, len(refs))
			for i, r := range refs {
				aggs[i] = fmt.Sprintf("array_agg(%s ORDER BY %s) AS %s", r, list, r)
			}
			ctes = append(ctes, fmt.Sprintf("%s AS MATERIALIZED (SELECT %s FROM %s)", f.alias, strings.Join(aggs, ", "), tuples))
		} else {
			ctes = append(ctes, fmt.Sprintf("%s AS MATERIALIZED (SELECT row_number() OVER (ORDER BY %s) AS carthub_k, %s FROM %s)", f.alias, list, list, tuples))
		}
	}
	if len(ctes) == 0 {
		return ""
	}
	return "WITH " + strings.Join(ctes, ", ") + " "
}

// source is the subselect of generated rows.
func (s insertStatement) source(rows int64) string {
	from, joined := "", false
	for _, f := range s.fks {
		if f.fixed {
			from += " CROSS JOIN " + f.alias
		} else {
			from += fmt.Sprintf(" JOIN %s ON %s.carthub_k = %s %% %d + 1", f.alias, f.alias, rowIndex, f.tuples)
			joined = true
		}
	}
	if joined {
		from += " ORDER BY carthub_gs.g" // the rows in the order of their numbers, whatever the join
	}
	// OFFSET 0 keeps the subselect whole, so that the CHECKs read its values instead of
	// computing each column's expression again.
	return fmt.Sprintf("SELECT %s FROM generate_series(1, %d::int8) carthub_gs(g)%s OFFSET 0", s.selected, rows, from)
}

// insert builds t's INSERT for the modes decide chose. The subselect's output columns carry the
// table's column names, so that the table's CHECK expressions read them in its WHERE.
func (l *loader) insert(t *table, n int64) insertStatement {
	s := insertStatement{n: n}
	var names, exprs []string
	filled := map[int16]bool{}
	for _, c := range t.cols {
		var v string
		switch c.mode {
		case modeServer:
			continue
		case modeGen:
			v = gen(c.t, c.mod, c, c.index(), c.small())
		case modePool:
			v = fmt.Sprintf("(%s)[%s %% %d + 1]", textArray(c.pool), c.index(), len(c.pool))
		case modeFK:
			v = c.fk.alias + "." + pgx.Identifier{c.fkRef}.Sanitize()
			if c.fk.fixed {
				v += fmt.Sprintf("[%s %% %d + 1]", rowIndex, c.fk.tuples)
			}
			if !slices.Contains(s.fks, c.fk) {
				s.fks = append(s.fks, c.fk)
			}
		}
		v = fmt.Sprintf("(%s)::%s", v, c.typ)
		if sh := c.shape; sh != nil && !c.notNull && !c.unique && sh.NullFrac > 0 {
			// The rows spread picks, as fill always has, are NULL.
			v = fmt.Sprintf("CASE WHEN (%s * 2654435761 %% 4294967296 %% 10007)::float8 / 10007 < %s THEN NULL ELSE %s END",
				rowIndex, strconv.FormatFloat(sh.NullFrac, 'g', -1, 64), v)
		}
		name := pgx.Identifier{c.name}.Sanitize()
		names = append(names, name)
		exprs = append(exprs, v+" AS "+name)
		filled[c.num] = true
	}
	ident := pgx.Identifier{t.name}.Sanitize()
	s.head = "INSERT INTO " + ident
	if len(names) > 0 {
		s.head += " (" + strings.Join(names, ", ") + ")"
		s.selected = strings.Join(exprs, ", ")
	}
	// The CHECKs that read only generated columns are judged before the insert: a row that fails
	// one is left out rather than failing the load. The others the server judges on insert.
	for _, k := range t.checks {
		if !slices.ContainsFunc(k.cols, func(num int16) bool { return !filled[num] }) {
			s.checks = append(s.checks, k)
		}
	}
	s.where = passes(s.checks)
	// Values the generator draws from fewer than n make duplicates: skip them from the start.
	for _, c := range t.cols {
		if c.unique && (c.mode == modePool && int64(len(c.pool)) < n || c.mode == modeFK && c.fk.tuples < n) {
			s.conflict = t.arbiters && !t.deferred
		}
	}
	return s
}

// shortfall explains a table that got fewer rows than asked: CHECKs the generated rows broke,
// duplicates of a unique key.
func (l *loader) shortfall(ctx context.Context, t *table, ins insertStatement, n, got int64) error {
	if got >= n {
		return nil
	}
	counts := []string{"count(*) FILTER (WHERE " + ins.where + ")"}
	for _, k := range ins.checks {
		counts = append(counts, fmt.Sprintf("count(*) FILTER (WHERE (%s) IS FALSE)", k.expr))
	}
	sql := fmt.Sprintf("%sSELECT %s FROM (%s) carthub_s", ins.with(n), strings.Join(counts, ", "), ins.source(n))
	vals := make([]int64, len(counts))
	dest := make([]any, len(counts))
	for i := range vals {
		dest[i] = &vals[i]
	}
	pe, err := l.try(ctx, true, func() error { return l.conn.QueryRow(ctx, sql).Scan(dest...) })
	if err != nil {
		return err
	}
	if pe != nil {
		l.note(t.name, "", n, got, "%d rows were left out; counting why failed: %s", n-got, describe(pe))
		return nil
	}
	for i, k := range ins.checks {
		if bad := vals[i+1]; bad > 0 {
			column := ""
			if len(k.cols) == 1 {
				column = t.col(k.cols[0]).name
			}
			l.note(t.name, column, n, got, "%d generated rows break CHECK %s (%s) and were left out", bad, k.name, k.expr)
		}
	}
	if dup := vals[0] - got; dup > 0 {
		var few []string
		for _, c := range t.cols {
			if c.unique && c.mode == modePool {
				few = append(few, fmt.Sprintf("%s has %d values that pass its rules", c.name, len(c.pool)))
			}
			if c.unique && c.mode == modeFK && c.fk.tuples < n {
				few = append(few, fmt.Sprintf("%s has %d keys of %s to reference", c.name, c.fk.tuples, c.fk.refTable))
			}
		}
		why := "the generator makes fewer distinct values than rows for them"
		if len(few) > 0 {
			why = strings.Join(few, "; ")
		}
		l.note(t.name, "", n, got, "%d generated rows repeat a key of %s and were left out: %s", dup, strings.Join(t.uniques, ", "), why)
	}
	return nil
}

// try runs fn in a savepoint, rolled back when fn fails with an error of the server's (returned
// as pe) or when rollback is set. Any other error is the session's: it is returned as err.
func (l *loader) try(ctx context.Context, rollback bool, fn func() error) (pe *pgconn.PgError, err error) {
	return l.tryNamed(ctx, "carthub_dataset_try", rollback, fn)
}

// tryNamed is try with a savepoint of that name.
func (l *loader) tryNamed(ctx context.Context, savepoint string, rollback bool, fn func() error) (pe *pgconn.PgError, err error) {
	if _, err := l.conn.Exec(ctx, "SAVEPOINT "+savepoint); err != nil {
		return nil, fmt.Errorf("dataset: savepoint: %w", err)
	}
	ferr := fn()
	if ferr != nil && !errors.As(ferr, &pe) {
		return nil, fmt.Errorf("dataset: %w", ferr)
	}
	end := "RELEASE SAVEPOINT " + savepoint
	if ferr != nil || rollback {
		end = "ROLLBACK TO SAVEPOINT " + savepoint + "; " + end
	}
	if _, err := l.conn.Exec(ctx, end); err != nil {
		return nil, fmt.Errorf("dataset: end a savepoint: %w", err)
	}
	return pe, nil
}

// sequenceState is where a sequence stood before the load: an attempt that is rolled back still
// advances it, and restore puts it back, so that serial keys start where they would have.
type sequenceState struct {
	name     string
	last     int64
	isCalled bool
}

// sequences reads where t's sequences stand.
func (l *loader) sequences(ctx context.Context, t *table) ([]sequenceState, error) {
	var out []sequenceState
	for _, s := range t.sequences {
		st := sequenceState{name: s}
		pe, err := l.try(ctx, true, func() error {
			return l.conn.QueryRow(ctx, "SELECT last_value, is_called FROM "+s).Scan(&st.last, &st.isCalled)
		})
		if err != nil {
			return nil, fmt.Errorf("dataset: read sequence %s: %w", s, err)
		}
		if pe == nil { // else not ours to read, nor to put back
			out = append(out, st)
		}
	}
	return out, nil
}

// restore puts the sequences back where sequences read them.
func (l *loader) restore(ctx context.Context, seqs []sequenceState) error {
	for _, s := range seqs {
		if _, err := l.conn.Exec(ctx, "SELECT setval($1::regclass, $2, $3)", s.name, s.last, s.isCalled); err != nil {
			return fmt.Errorf("dataset: reset sequence %s: %w", s.name, err)
		}
	}
	return nil
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

// datasetEpoch is the timestamp of the dataset's first row (plus its column's offset); row i is
// i minutes older.
var datasetEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
