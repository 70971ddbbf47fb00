package dataset

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// bulkRows is the load from which a table's foreign keys and plain indexes are dropped before
// the load and made again after it: checking a foreign key row by row and inserting into an index
// row by row cost several times one validating scan and one sorted build (issue 30).
const bulkRows = 10000

// rebuild is what dropped lists: the statements that make a table's foreign keys, keys and plain
// indexes again, each with the same name and definition (only their oids change).
type rebuild struct {
	drop, create []string
}

// dropped reads the table's foreign keys, primary key, UNIQUE constraints and indexes and the
// statements that drop them and make them again, with their comments and CLUSTER marks. It
// leaves in place exclusion constraints, what a foreign key references (a referenced primary
// key too), a replica identity, an index in a tablespace of its own, with a statistics target or
// part of a partitioned index, and every index of a partitioned table or a partition. Even a
// primary key of serial keys, which go in in order, costs a quarter of the rows' insertion when
// kept (200,000 rows shaped like orders', issue 30). Should the generator make duplicates, making a
// primary key or UNIQUE constraint again fails, and bulkFill loads again with every constraint
// in place.
func dropped(ctx context.Context, conn *pgx.Conn, name string) (rebuild, error) {
	var r rebuild
	ident := pgx.Identifier{name}.Sanitize()
	var plain bool
	if err := conn.QueryRow(ctx, `SELECT relkind = 'r' AND NOT relispartition AND NOT relhassubclass
   AND NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid) FROM pg_class c WHERE oid = $1::regclass`, ident).Scan(&plain); err != nil {
		return r, fmt.Errorf("dataset: look at %s: %w", name, err)
	}
	if !plain {
		return r, nil
	}
	rows, err := conn.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisclustered,
       obj_description(i.indexrelid, 'pg_class')
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = $1::regclass AND NOT i.indisreplident AND i.indisvalid AND i.indisready AND i.indislive
   AND c.reltablespace = 0 AND NOT c.relispartition
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0)
 ORDER BY 1`, ident)
	if err != nil {
		return r, fmt.Errorf("dataset: read the indexes of %s: %w", name, err)
	}
	var index, def string
	var clustered bool
	var comment *string
	if _, err := pgx.ForEachRow(rows, []any{&index, &def, &clustered, &comment}, func() error {
		r.drop = append(r.drop, "DROP INDEX "+index)
		r.create = append(r.create, def)
		if clustered {
			r.create = append(r.create, fmt.Sprintf("ALTER TABLE %s CLUSTER ON %s", ident, index))
		}
		if comment != nil {
			r.create = append(r.create, fmt.Sprintf("COMMENT ON INDEX %s IS %s", index, literal(*comment)))
		}
		return nil
	}); err != nil {
		return r, fmt.Errorf("dataset: read the indexes of %s: %w", name, err)
	}
	// The foreign keys of other tables that reference this one, when those tables are empty (they
	// are loaded later): dropped first and made again last (their validation reads no row), so
	// that the keys they reference are built after the load too.
	referencing, err := emptyReferencing(ctx, conn, ident)
	if err != nil {
		return r, err
	}
	var freed []uint32
	for _, f := range referencing {
		freed = append(freed, f.oid)
		r.drop = append(r.drop, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", f.table, pgx.Identifier{f.name}.Sanitize()))
	}
	// Foreign keys, and the UNIQUE constraints and primary key that no other foreign key
	// references, last the foreign keys: their validation reads the referenced keys. The primary
	// key is made again after the load too: one sorted build costs a fraction of a btree
	// insertion per row.
	rows, err = conn.Query(ctx, `SELECT k.conname, pg_get_constraintdef(k.oid), obj_description(k.oid, 'pg_constraint'), obj_description(k.conindid, 'pg_class'),
       coalesce(i.indisclustered, false)
  FROM pg_constraint k LEFT JOIN pg_index i ON i.indexrelid = k.conindid AND k.contype IN ('u', 'p')
 WHERE k.conrelid = $1::regclass AND k.conparentid = 0 AND k.coninhcount = 0 AND k.conislocal
   AND (k.contype = 'f' OR k.contype IN ('u', 'p') AND NOT i.indisreplident
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = k.conindid AND d.classid = 'pg_constraint'::regclass
                           AND d.objid <> k.oid AND d.objid <> ALL ($2::oid[]))
        AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = k.conindid AND a.attstattarget >= 0))
 ORDER BY k.contype DESC, k.conname`, ident, freed)
	if err != nil {
		return r, fmt.Errorf("dataset: read the foreign keys of %s: %w", name, err)
	}
	var con string
	var indexComment *string
	if _, err := pgx.ForEachRow(rows, []any{&con, &def, &comment, &indexComment, &clustered}, func() error {
		q := pgx.Identifier{con}.Sanitize()
		r.drop = append(r.drop, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", ident, q))
		r.create = append(r.create, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", ident, q, def))
		if clustered {
			r.create = append(r.create, fmt.Sprintf("ALTER TABLE %s CLUSTER ON %s", ident, q))
		}
		if comment != nil {
			r.create = append(r.create, fmt.Sprintf("COMMENT ON CONSTRAINT %s ON %s IS %s", q, ident, literal(*comment)))
		}
		if indexComment != nil {
			r.create = append(r.create, fmt.Sprintf("COMMENT ON INDEX %s IS %s", q, literal(*indexComment)))
		}
		return nil
	}); err != nil {
		return r, fmt.Errorf("dataset: read the foreign keys of %s: %w", name, err)
	}
	for _, f := range referencing {
		q := pgx.Identifier{f.name}.Sanitize()
		r.create = append(r.create, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", f.table, q, f.def))
		if f.comment != nil {
			r.create = append(r.create, fmt.Sprintf("COMMENT ON CONSTRAINT %s ON %s IS %s", q, f.table, literal(*f.comment)))
		}
	}
	return r, nil
}

// referencingKey is a foreign key of another table that references the one being loaded.
type referencingKey struct {
	oid              uint32
	table, name, def string
	comment          *string
}

// emptyReferencing lists the foreign keys that reference table from other plain tables, when
// every one of those tables is empty and the session may read and alter it; none otherwise (the
// keys they reference stay in place).
func emptyReferencing(ctx context.Context, conn *pgx.Conn, table string) ([]referencingKey, error) {
	rows, err := conn.Query(ctx, `SELECT f.oid, f.conrelid::regclass::text, f.conname, pg_get_constraintdef(f.oid), obj_description(f.oid, 'pg_constraint'),
       c.relkind = 'r' AND NOT c.relispartition AND f.conparentid = 0 AND f.coninhcount = 0 AND f.conislocal
         AND has_table_privilege(c.oid, 'SELECT') AND pg_has_role(c.relowner, 'USAGE')
  FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid
 WHERE f.contype = 'f' AND f.confrelid = $1::regclass AND f.conrelid <> f.confrelid
 ORDER BY 2, 3`, table)
	if err != nil {
		return nil, fmt.Errorf("dataset: read the foreign keys that reference %s: %w", table, err)
	}
	var out []referencingKey
	var k referencingKey
	var plain bool
	ok := true
	if _, err := pgx.ForEachRow(rows, []any{&k.oid, &k.table, &k.name, &k.def, &k.comment, &plain}, func() error {
		ok = ok && plain
		out = append(out, k)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("dataset: read the foreign keys that reference %s: %w", table, err)
	}
	for _, f := range out {
		if !ok {
			break
		}
		var rows bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+f.table+")").Scan(&rows); err != nil {
			return nil, fmt.Errorf("dataset: look into %s: %w", f.table, err)
		}
		ok = !rows
	}
	if !ok {
		return nil, nil
	}
	return out, nil
}
