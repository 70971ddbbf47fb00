package dataset

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// pgType is what the generator knows of a type, from pg_type: enough to make values of it or to
// know that it cannot.
type pgType struct {
	oid      uint32
	name     string // format_type(oid, NULL)
	typtype  string // b base, c composite, d domain, e enum, r range, m multirange, p pseudo
	category string // typcategory: A array, S string, N numeric, ...
	base     *pgType
	baseMod  int32    // a domain's typmod of its base type
	notNull  bool     // a domain declared NOT NULL
	elem     *pgType  // an array's element type
	sub      *pgType  // a range's subtype
	labels   []string // an enum's labels in their order
	checks   []string // a domain's CHECK constraints (pg_get_constraintdef)
}

// column is one column of a table being filled, as the catalog describes it, and how the loader
// decided to fill it.
type column struct {
	num        int16
	name       string
	typ        string // format_type(atttypid, atttypmod), e.g. "character varying(255)"
	t          *pgType
	mod        int32
	notNull    bool // the column's or its domain's NOT NULL
	serial     bool // identity, or a default that takes a sequence's next value
	generated  bool
	hasDefault bool
	unique     bool    // in a unique index (primary key, UNIQUE, partial) or an exclusion constraint
	checks     []check // the table's CHECK constraints on this column alone
	listed     bool    // one of those checks names the values it allows (IN (...), = ANY)
	fk         *foreignKey
	fkRef      string // the referenced column, with fk
	shape      *ColumnShape
	distinct   int

	mode mode
	pool []string // modePool: values the server accepted for the column, as text
}

// check is a CHECK constraint of a table: its expression (pg_get_expr, without CHECK or NOT
// VALID) and the columns it reads.
type check struct {
	name string
	expr string
	cols []int16
}

// foreignKey is a FOREIGN KEY of a table: its columns and the referenced table's.
type foreignKey struct {
	name     string
	self     bool
	refTable string // as regclass prints it
	cols     []int16
	refCols  []string
	alias    string // of its referenced tuples in the INSERT
	tuples   int64  // distinct non-NULL referenced tuples available (at most the rows asked)
	fixed    bool   // every referenced column has a fixed-width type: its tuples go in arrays
}

// table is what the loader reads of a table before filling it.
type table struct {
	name      string
	cols      []*column
	checks    []check
	fks       []*foreignKey
	arbiters  bool // a unique index or exclusion constraint: ON CONFLICT DO NOTHING skips duplicates
	deferred  bool // one of them is deferrable, which ON CONFLICT refuses
	sequences []string
	uniques   []string // names of the unique indexes and exclusion constraints, for notes
}

// listedCheck spots a CHECK that enumerates its values (col IN (...) or = ANY (ARRAY[...])): like
// a unique key or a foreign key it is a reason to generate a column that has a default.
var listedCheck = regexp.MustCompile(`(?i)(\bIN \(|= ANY)`)

// types caches pg_type reads for one Load.
type types map[uint32]*pgType

// get reads the type oid and the types it is built on.
func (ts types) get(ctx context.Context, conn *pgx.Conn, oid uint32) (*pgType, error) {
	if t, ok := ts[oid]; ok {
		return t, nil
	}
	t := &pgType{oid: oid}
	ts[oid] = t
	var base, elem, sub uint32
	err := conn.QueryRow(ctx, `SELECT format_type(t.oid, NULL), t.typtype::text, t.typcategory::text, t.typbasetype, t.typtypmod,
       t.typnotnull, CASE WHEN t.typcategory = 'A' AND t.typlen = -1 THEN t.typelem ELSE 0 END,
       coalesce((SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid), 0),
       coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '{}'),
       coalesce((SELECT array_agg(pg_get_constraintdef(c.oid) ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}')
  FROM pg_type t WHERE t.oid = $1`, oid).Scan(&t.name, &t.typtype, &t.category, &base, &t.baseMod, &t.notNull, &elem, &sub, &t.labels, &t.checks)
	if err != nil {
		return nil, fmt.Errorf("dataset: read type %d: %w", oid, err)
	}
	for _, x := range []struct {
		oid uint32
		to  **pgType
	}{{base, &t.base}, {elem, &t.elem}, {sub, &t.sub}} {
		if x.oid != 0 {
			if *x.to, err = ts.get(ctx, conn, x.oid); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// readTable reads name's columns, CHECKs, unique indexes, exclusion constraints, foreign keys
// and sequences.
func readTable(ctx context.Context, conn *pgx.Conn, ts types, name string) (*table, error) {
	t := &table{name: name}
	ident := pgx.Identifier{name}.Sanitize()
	rows, err := conn.Query(ctx, `SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid, a.atttypmod, a.attnotnull,
       a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%',
       a.attgenerated <> '', a.atthasdef
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`, ident)
	if err != nil {
		return nil, fmt.Errorf("dataset: read the columns of %s: %w", name, err)
	}
	var typeOIDs []uint32
	var c column
	var oid uint32
	if _, err := pgx.ForEachRow(rows, []any{&c.num, &c.name, &c.typ, &oid, &c.mod, &c.notNull, &c.serial, &c.generated, &c.hasDefault}, func() error {
		col := c
		t.cols = append(t.cols, &col)
		typeOIDs = append(typeOIDs, oid)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("dataset: read the columns of %s: %w", name, err)
	}
	for i, c := range t.cols {
		if c.t, err = ts.get(ctx, conn, typeOIDs[i]); err != nil {
			return nil, err
		}
		for d := c.t; d != nil && d.typtype == "d"; d = d.base {
			c.notNull = c.notNull || d.notNull
		}
	}

	rows, err = conn.Query(ctx, `SELECT conname, pg_get_expr(conbin, conrelid), conkey FROM pg_constraint
 WHERE conrelid = $1::regclass AND contype = 'c' ORDER BY conname`, ident)
	if err != nil {
		return nil, fmt.Errorf("dataset: read the CHECK constraints of %s: %w", name, err)
	}
	var k check
	if _, err := pgx.ForEachRow(rows, []any{&k.name, &k.expr, &k.cols}, func() error {
		t.checks = append(t.checks, check{name: k.name, expr: k.expr, cols: append([]int16(nil), k.cols...)})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("dataset: read the CHECK constraints of %s: %w", name, err)
	}
	for _, k := range t.checks {
		if len(k.cols) == 1 {
			if c := t.col(k.cols[0]); c != nil {
				c.checks = append(c.checks, k)
				c.listed = c.listed || listedCheck.MatchString(k.expr)
			}
		}
	}

	rows, err = conn.Query(ctx, `SELECT i.indexrelid::regclass::text, i.indkey::int2[], NOT i.indimmediate FROM pg_index i
 WHERE i.indrelid = $1::regclass AND i.indisunique
UNION ALL
SELECT x.conname, x.conkey, x.condeferrable FROM pg_constraint x WHERE x.conrelid = $1::regclass AND x.contype = 'x'
ORDER BY 1`, ident)
	if err != nil {
		return nil, fmt.Errorf("dataset: read the unique indexes of %s: %w", name, err)
	}
	var index string
	var keys []int16
	var deferred bool
	if _, err := pgx.ForEachRow(rows, []any{&index, &keys, &deferred}, func() error {
		t.arbiters = true
		t.deferred = t.deferred || deferred
		t.uniques = append(t.uniques, index)
		for _, n := range keys {
			if c := t.col(n); c != nil {
				c.unique = true
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("dataset: read the unique indexes of %s: %w", name, err)
	}

	rows, err = conn.Query(ctx, `SELECT f.conname, f.confrelid = f.conrelid, f.confrelid::regclass::text, f.conkey,
       (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(f.confkey) WITH ORDINALITY k(num, ord)
          JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.num),
       (SELECT bool_and(t.typlen > 0) FROM unnest(f.confkey) k(num)
          JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.num JOIN pg_type t ON t.oid = a.atttypid)
  FROM pg_constraint f WHERE f.conrelid = $1::regclass AND f.contype = 'f' ORDER BY f.conname`, ident)
	if err != nil {
		return nil, fmt.Errorf("dataset: read the foreign keys of %s: %w", name, err)
	}
	var fk foreignKey
	if _, err := pgx.ForEachRow(rows, []any{&fk.name, &fk.self, &fk.refTable, &fk.cols, &fk.refCols, &fk.fixed}, func() error {
		f := fk
		f.cols, f.refCols = append([]int16(nil), fk.cols...), append([]string(nil), fk.refCols...)
		f.alias = fmt.Sprintf("carthub_fk%d", len(t.fks)+1)
		t.fks = append(t.fks, &f)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("dataset: read the foreign keys of %s: %w", name, err)
	}

	// The sequences the table's defaults and identity columns take values from: an attempt that
	// is rolled back still advances them, and the loader puts them back.
	rows, err = conn.Query(ctx, `SELECT DISTINCT s.oid::regclass::text FROM pg_depend d JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
 WHERE d.classid = 'pg_attrdef'::regclass AND d.objid IN (SELECT oid FROM pg_attrdef WHERE adrelid = $1::regclass)
UNION
SELECT s.oid::regclass::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
 WHERE d.classid = 'pg_class'::regclass AND d.refobjid = $1::regclass AND d.deptype IN ('a', 'i')`, ident)
	if err != nil {
		return nil, fmt.Errorf("dataset: read the sequences of %s: %w", name, err)
	}
	if t.sequences, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, fmt.Errorf("dataset: read the sequences of %s: %w", name, err)
	}
	return t, nil
}

// col is the column numbered num.
func (t *table) col(num int16) *column {
	for _, c := range t.cols {
		if c.num == num {
			return c
		}
	}
	return nil
}
