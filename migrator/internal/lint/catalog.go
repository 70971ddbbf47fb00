package lint

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// catalogState is what a statement can change that the rules look at. Objects are keyed by what
// they are (a table or index by its oid, a column by its table's oid and attnum, a constraint by
// its oid), so that a rename is a rename, not a drop and an add.
type catalogState struct {
	filenode    map[uint32]int64           // table or index oid -> relfilenode
	names       map[uint32]string          // table or index oid -> name
	indexTable  map[uint32]string          // index oid -> its table's name
	constraints map[uint32]constraintState // CHECK and FOREIGN KEY constraints
	columns     map[columnKey]columnState
	rows        map[string]int64 // table name -> rows (reltuples, after ANALYZE)
	matviews    map[string]bool  // materialized views among the tables
	grants      map[grant]bool   // the privileges on the schema's tables and views
	hidden      map[string]bool  // tables whose rows row level security hides from a role without a policy
	sequences   map[string]sequenceState
}

// grant is one privilege one role has on one relation.
type grant struct{ table, grantee, privilege string }

// sequenceState is a sequence that a column's default or identity draws from, and the next value
// it gives.
type sequenceState struct {
	table, column string
	next          int64
}

type columnKey struct {
	table  uint32
	attnum int16
}

type columnState struct {
	table, name string
	typ         uint32 // atttypid
	typmod      int32  // atttypmod: -1 unbounded; varchar(n) is n+4
	typeName    string // format_type, e.g. "character varying(255)"
	volatile    bool   // it has a default that no stored missing value covers
	generated   bool   // a stored generated column
	hasDefault  bool
}

type constraintState struct {
	relation
	validated bool
}

func (l *linter) catalog(ctx context.Context, conn *pgx.Conn) (*catalogState, error) {
	c := &catalogState{filenode: map[uint32]int64{}, names: map[uint32]string{}, indexTable: map[uint32]string{},
		constraints: map[uint32]constraintState{}, columns: map[columnKey]columnState{}, rows: map[string]int64{},
		matviews: map[string]bool{}, grants: map[grant]bool{}, hidden: map[string]bool{}, sequences: map[string]sequenceState{}}
	// Tables, partitions, materialized views and their indexes: what the application reads and
	// what a statement can lock, rewrite or rebuild.
	rows, err := conn.Query(ctx, `SELECT c.oid, c.relname, c.relkind::text, c.relfilenode::int8, coalesce(t.relname, ''), greatest(c.reltuples, 0)::int8,
       c.relrowsecurity AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polpermissive),
       coalesce((SELECT array_agg(coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC') || ' ' || a.privilege_type)
                   FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner), '{}')
  FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'm', 'i') AND c.relname <> $1`, l.history)
	if err != nil {
		return nil, fmt.Errorf("read the catalog: %w", err)
	}
	var (
		oid         uint32
		name, table string
		kind        string
		node, n     int64
		hides       bool
		grants      []string
	)
	if _, err := pgx.ForEachRow(rows, []any{&oid, &name, &kind, &node, &table, &n, &hides, &grants}, func() error {
		c.filenode[oid], c.names[oid] = node, name
		if kind == "i" {
			c.indexTable[oid] = table
			return nil
		}
		c.rows[name] = n
		c.matviews[name] = kind == "m"
		c.hidden[name] = hides
		for _, g := range grants {
			grantee, privilege, _ := strings.Cut(g, " ")
			c.grants[grant{name, grantee, privilege}] = true
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the catalog: %w", err)
	}
	if err := c.readSequences(ctx, conn); err != nil {
		return nil, err
	}
	var valid bool
	rows, err = conn.Query(ctx, `SELECT oid, conname, conrelid::regclass::text, convalidated FROM pg_constraint
 WHERE connamespace = current_schema()::regnamespace AND contype IN ('c', 'f')`)
	if err != nil {
		return nil, fmt.Errorf("read the constraints: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&oid, &name, &table, &valid}, func() error {
		c.constraints[oid] = constraintState{relation{name: name, table: table}, valid}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the constraints: %w", err)
	}
	var (
		key                columnKey
		col                columnState
		hasDef, hasMissing bool
	)
	rows, err = conn.Query(ctx, `SELECT a.attrelid, a.attnum, c.relname, a.attname, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod),
       a.atthasdef, a.atthasmissing, a.attgenerated <> ''
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> $1`, l.history)
	if err != nil {
		return nil, fmt.Errorf("read the columns: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&key.table, &key.attnum, &col.table, &col.name, &col.typ, &col.typmod, &col.typeName, &hasDef, &hasMissing, &col.generated}, func() error {
		col.volatile = hasDef && !hasMissing && !col.generated
		col.hasDefault = hasDef && !col.generated
		c.columns[key] = col
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the columns: %w", err)
	}
	return c, nil
}

// readSequences reads where each sequence a column draws from stands: the next value it gives.
func (c *catalogState) readSequences(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT s.oid::regclass::text, t.relname, a.attname FROM pg_class s
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i')
  JOIN pg_class t ON t.oid = d.refobjid JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
 WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return fmt.Errorf("read the sequences: %w", err)
	}
	type owned struct{ seq, table, column string }
	var list []owned
	var o owned
	if _, err := pgx.ForEachRow(rows, []any{&o.seq, &o.table, &o.column}, func() error { list = append(list, o); return nil }); err != nil {
		return fmt.Errorf("read the sequences: %w", err)
	}
	if len(list) == 0 {
		return nil
	}
	parts := make([]string, len(list))
	for i, o := range list {
		parts[i] = fmt.Sprintf("SELECT %d, CASE WHEN is_called THEN last_value + (SELECT seqincrement FROM pg_sequence WHERE seqrelid = %s::regclass) ELSE last_value END FROM %s",
			i, sqlscript.QuoteLiteral(o.seq), o.seq)
	}
	rows, err = conn.Query(ctx, strings.Join(parts, " UNION ALL "))
	if err != nil {
		return fmt.Errorf("read the sequences' values: %w", err)
	}
	var i int
	var next int64
	_, err = pgx.ForEachRow(rows, []any{&i, &next}, func() error {
		c.sequences[list[i].seq] = sequenceState{table: list[i].table, column: list[i].column, next: next}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the sequences' values: %w", err)
	}
	return nil
}

// sequencesBack lists the sequences whose next value went down with the statement.
func (c *catalogState) sequencesBack(before *catalogState) []sequenceReset {
	var out []sequenceReset
	for name, now := range c.sequences {
		if was, ok := before.sequences[name]; ok && now.next < was.next {
			out = append(out, sequenceReset{sequence: name, table: now.table, column: now.column, next: now.next})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sequence < out[j].sequence })
	return out
}

// table names a table by oid ("", false for an index or an oid not there).
func (c *catalogState) table(oid uint32) (string, bool) {
	if _, isIndex := c.indexTable[oid]; isIndex {
		return "", false
	}
	name, ok := c.names[oid]
	return name, ok
}

// tableName names a table by oid from this state or, for one that is gone, from before.
func (c *catalogState) tableName(oid uint32, before *catalogState) (string, bool) {
	if n, ok := c.table(oid); ok {
		return n, true
	}
	return before.table(oid)
}

// compare records in s what changed from before to c.
func (c *catalogState) compare(before *catalogState, s *Statement) {
	// An ALTER COLUMN TYPE rebuilds the table's indexes and constraints under new oids, with
	// their names: an object whose oid is new but whose name and table were there is a rebuild.
	indexesBefore := map[relation]bool{}
	for oid, table := range before.indexTable {
		indexesBefore[relation{name: before.names[oid], table: table}] = true
	}
	constraintsBefore := map[relation]bool{}
	for _, con := range before.constraints {
		constraintsBefore[con.relation] = true
	}
	for oid, node := range c.filenode {
		old, existed := before.filenode[oid]
		table, isIndex := c.indexTable[oid]
		ix := relation{name: c.names[oid], table: table}
		switch {
		case existed && old != node:
			s.Rewrote = append(s.Rewrote, c.names[oid]) // tables and indexes; the rule looks at tables
			if isIndex {
				s.rebuiltIndexes = append(s.rebuiltIndexes, ix)
			}
		case !existed && isIndex && !indexesBefore[ix] && before.rows[table] > 0:
			s.newIndexes = append(s.newIndexes, ix)
		}
	}
	sort.Strings(s.Rewrote)
	for oid, con := range c.constraints {
		_, existed := before.constraints[oid]
		switch {
		case !existed && !constraintsBefore[con.relation] && con.validated && before.rows[con.table] > 0:
			s.newValidConstraints = append(s.newValidConstraints, con.relation)
		case !existed && con.validated: // made again under its name (ALTER COLUMN TYPE): checked again
			s.rebuiltConstraints = append(s.rebuiltConstraints, con.relation)
		}
	}
	for key, col := range c.columns {
		old, existed := before.columns[key]
		switch {
		case !existed && col.generated && before.rows[col.table] > 0:
			s.generatedColumns = append(s.generatedColumns, relation{name: col.name, table: col.table})
		case existed && old.hasDefault && !col.hasDefault && !col.generated:
			s.droppedDefaults = append(s.droppedDefaults, relation{name: col.name, table: col.table})
		case !existed && col.volatile && before.rows[col.table] > 0:
			s.volatileColumns = append(s.volatileColumns, relation{name: col.name, table: col.table})
		case existed && old.name != col.name:
			s.renamedColumns = append(s.renamedColumns, rename{table: col.table, from: old.name, to: col.name, column: key})
		case existed && narrows(old, col):
			s.narrowedColumns = append(s.narrowedColumns, narrowing{relation{name: col.name, table: col.table}, old.typeName, col.typeName})
		}
	}
	for oid := range before.names {
		name, isTable := before.table(oid)
		if !isTable {
			continue
		}
		now, still := c.table(oid)
		switch {
		case !still:
			s.droppedTables = append(s.droppedTables, name)
		case now != name:
			s.renamedTables = append(s.renamedTables, rename{from: name, to: now, oid: oid})
		}
	}
	for key, col := range before.columns {
		if _, still := c.columns[key]; !still {
			if table, tableStill := c.table(key.table); tableStill {
				s.droppedColumns = append(s.droppedColumns, relation{name: col.name, table: table})
			}
		}
	}
	for g := range before.grants {
		if _, still := c.rows[g.table]; still && !c.grants[g] {
			s.revoked = append(s.revoked, g)
		}
	}
	sort.Slice(s.revoked, func(i, j int) bool { return fmt.Sprint(s.revoked[i]) < fmt.Sprint(s.revoked[j]) })
	for t, hides := range c.hidden {
		if hides && !before.hidden[t] {
			s.hidden = append(s.hidden, t)
		}
	}
	sort.Strings(s.hidden)
	sort.Slice(s.droppedColumns, func(i, j int) bool { return s.droppedColumns[i].String() < s.droppedColumns[j].String() })
	sort.Slice(s.renamedColumns, func(i, j int) bool { return s.renamedColumns[i].String() < s.renamedColumns[j].String() })
	sort.Strings(s.droppedTables)
}

// narrows: the same type with a smaller bound (varchar(255) to varchar(50), numeric(12,2) to
// numeric(10,2)), or a bound where there was none (text-like varchar to varchar(50)). Values that
// no longer fit make the ALTER fail, or lose data where a USING clause cuts them.
func narrows(old, now columnState) bool {
	if old.typ != now.typ || old.typmod == now.typmod || now.typmod == -1 {
		return false
	}
	return old.typmod == -1 || now.typmod < old.typmod
}

type rename struct {
	table, from, to string
	oid             uint32    // a renamed table's
	column          columnKey // a renamed column's
}

// undone: the object has the same name at the end of the transaction as at its start (a later
// statement renamed it back), so the application never saw another.
func (r rename) undone(start, end *catalogState) bool {
	if r.oid != 0 {
		endName, _ := end.table(r.oid)
		startName, _ := start.table(r.oid)
		return endName == startName
	}
	return end.columns[r.column].name == start.columns[r.column].name
}

func (r rename) String() string {
	if r.table == "" {
		return r.from + " to " + r.to
	}
	return r.table + "." + r.from + " to " + r.to
}

type narrowing struct {
	relation
	from, to string
}

func (r relation) String() string { return r.table + "." + r.name }
