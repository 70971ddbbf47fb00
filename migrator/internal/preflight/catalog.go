package preflight

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// catalog is what the rules read from the scratch database, before and after a file: the
// server's own rendering of each constraint, index key and column type (pg_get_expr,
// pg_get_indexdef, format_type), keyed by oid and attnum so that a rename is not an addition.
type catalog struct {
	tables      map[uint32]string // oid -> name
	columns     map[column]columnInfo
	constraints map[uint32]constraintInfo // CHECK and FOREIGN KEY
	unique      map[uint32]uniqueIndex    // UNIQUE and PRIMARY KEY indexes
	indexTable  map[uint32]uint32         // every index -> its table
}

type column struct {
	table  uint32
	attnum int16
}

type columnInfo struct {
	name     string
	notNull  bool
	typ      string // pg_type.typname, e.g. "varchar", "numeric", "int4"
	typmod   int32
	typeName string // format_type, e.g. "character varying(50)"
	hasDef   bool
}

type constraintInfo struct {
	table     uint32
	name      string
	kind      byte // 'c' or 'f'
	validated bool
	def       string // pg_get_constraintdef
	expr      string // CHECK: pg_get_expr(conbin)
	// FOREIGN KEY: the referencing and referenced columns, and the referenced table.
	columns, refColumns []int16
	refTable            uint32
}

type uniqueIndex struct {
	table            uint32
	name             string
	primary          bool
	valid            bool
	nullsNotDistinct bool
	keys             []string // each key column or expression, as pg_get_indexdef renders it
	predicate        string   // a partial index's WHERE, pg_get_expr(indpred)
}

// readCatalog reads the catalog of the session's schema, leaving out the history table.
func readCatalog(ctx context.Context, conn *pgx.Conn, history string) (*catalog, error) {
	c := &catalog{tables: map[uint32]string{}, columns: map[column]columnInfo{}, constraints: map[uint32]constraintInfo{}, unique: map[uint32]uniqueIndex{},
		indexTable: map[uint32]uint32{}}
	rows, err := conn.Query(ctx, `SELECT c.oid, c.relname FROM pg_class c
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> $1`, history)
	if err != nil {
		return nil, fmt.Errorf("read the tables: %w", err)
	}
	var (
		oid  uint32
		name string
	)
	if _, err := pgx.ForEachRow(rows, []any{&oid, &name}, func() error { c.tables[oid] = name; return nil }); err != nil {
		return nil, fmt.Errorf("read the tables: %w", err)
	}

	var (
		key column
		col columnInfo
	)
	// NOT NULL counts when validated (PostgreSQL 18 has NOT VALID not-null constraints, whose
	// column is attnotnull all the same); an identity or generated column fills its rows as a
	// default does.
	rows, err = conn.Query(ctx, `SELECT a.attrelid, a.attnum, a.attname,
       a.attnotnull AND NOT EXISTS (SELECT 1 FROM pg_constraint n WHERE n.conrelid = a.attrelid AND n.contype = 'n' AND a.attnum = ANY (n.conkey) AND NOT n.convalidated),
       t.typname, a.atttypmod, format_type(a.atttypid, a.atttypmod), a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`)
	if err != nil {
		return nil, fmt.Errorf("read the columns: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&key.table, &key.attnum, &col.name, &col.notNull, &col.typ, &col.typmod, &col.typeName, &col.hasDef}, func() error {
		if _, ok := c.tables[key.table]; ok {
			c.columns[key] = col
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the columns: %w", err)
	}

	var con constraintInfo
	var kind string
	rows, err = conn.Query(ctx, `SELECT oid, conrelid, conname, contype::text, convalidated, pg_get_constraintdef(oid),
       coalesce(pg_get_expr(conbin, conrelid), ''), coalesce(conkey, '{}'), coalesce(confkey, '{}'), confrelid
  FROM pg_constraint WHERE connamespace = current_schema()::regnamespace AND contype IN ('c', 'f') AND conrelid <> 0`)
	if err != nil {
		return nil, fmt.Errorf("read the constraints: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&oid, &con.table, &con.name, &kind, &con.validated, &con.def, &con.expr, &con.columns, &con.refColumns, &con.refTable}, func() error {
		con.kind = kind[0]
		c.constraints[oid] = con
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the constraints: %w", err)
	}

	var table uint32
	rows, err = conn.Query(ctx, `SELECT i.indexrelid, i.indrelid FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
 WHERE x.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("read the indexes: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&oid, &table}, func() error {
		if _, ok := c.tables[table]; ok {
			c.indexTable[oid] = table
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the indexes: %w", err)
	}

	var ix uniqueIndex
	rows, err = conn.Query(ctx, `SELECT i.indexrelid, i.indrelid, x.relname, i.indisprimary, i.indisvalid, i.indnullsnotdistinct,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
       coalesce(pg_get_expr(i.indpred, i.indrelid, true), '')
  FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
 WHERE i.indisunique AND x.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("read the unique indexes: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&oid, &ix.table, &ix.name, &ix.primary, &ix.valid, &ix.nullsNotDistinct, &ix.keys, &ix.predicate}, func() error {
		if _, ok := c.tables[ix.table]; ok {
			c.unique[oid] = ix
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the unique indexes: %w", err)
	}
	return c, nil
}

// columnName names a column of table by attnum.
func (c *catalog) columnName(table uint32, attnum int16) string {
	return c.columns[column{table, attnum}].name
}

// primaryKey is the key columns of table's primary key (nil without one): what examples show.
func (c *catalog) primaryKey(table uint32) []string {
	for _, ix := range c.unique {
		if ix.table == table && ix.primary {
			return ix.keys
		}
	}
	return nil
}
