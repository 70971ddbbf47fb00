// Package schema reads the live PostgreSQL catalog into a normalized snapshot and compares it
// with an expected snapshot, object by object.
package schema

import (
	"bufio"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Object is one catalog fact: a table, a column, a constraint, an index, a trigger or a function.
type Object struct {
	Kind string // table, column, constraint, index, trigger, function
	Name string // table, table.column, table.constraint, table.index, table.trigger, function(args)
	Def  string // normalized definition; empty for tables
}

// Table is the table an object belongs to (a table's own name for a table).
func (o Object) Table() string {
	if o.Kind == "function" {
		return ""
	}
	t, _, _ := strings.Cut(o.Name, ".")
	return t
}

func (o Object) key() string { return o.Kind + " " + o.Name }

func (o Object) String() string {
	if o.Def == "" {
		return o.key()
	}
	return o.key() + ": " + o.Def
}

var kindOrder = map[string]int{"table": 1, "column": 2, "constraint": 3, "index": 4, "trigger": 5, "function": 6}

// Snapshot is a sorted set of catalog objects.
type Snapshot []Object

func (s Snapshot) sort() {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Kind != s[j].Kind {
			return kindOrder[s[i].Kind] < kindOrder[s[j].Kind]
		}
		return s[i].Name < s[j].Name
	})
}

// Tables lists the tables in the snapshot.
func (s Snapshot) Tables() []string {
	var out []string
	for _, o := range s {
		if o.Kind == "table" {
			out = append(out, o.Name)
		}
	}
	return out
}

// Functions lists the function names (without arguments) in the snapshot.
func (s Snapshot) Functions() []string {
	var out []string
	for _, o := range s {
		if o.Kind == "function" {
			name, _, _ := strings.Cut(o.Name, "(")
			out = append(out, name)
		}
	}
	return out
}

// Format renders the snapshot as the text committed in migrations/schema.sql: a header, then one
// object per line, so that a diff of two snapshots reads like a diff of schemas.
func (s Snapshot) Format(header string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		b.WriteString("-- " + line + "\n")
	}
	for _, o := range s {
		b.WriteString(o.String() + "\n")
	}
	return b.String()
}

// Parse reads a snapshot written by Format. Lines starting with "--" and blank lines are skipped.
func Parse(text string) (Snapshot, error) {
	var s Snapshot
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "--") {
			continue
		}
		head, def, _ := strings.Cut(line, ": ")
		kind, name, ok := strings.Cut(head, " ")
		if _, known := kindOrder[kind]; !ok || !known || name == "" {
			return nil, fmt.Errorf("schema snapshot line %d: expected \"KIND NAME: DEFINITION\" with KIND one of table, column, constraint, index, trigger, function; got %q", n, line)
		}
		s = append(s, Object{Kind: kind, Name: name, Def: def})
	}
	s.sort()
	return s, sc.Err()
}

// Filter says which part of the catalog Read looks at.
type Filter struct {
	Tables    []string // nil: every table in the current schema
	Functions []string // nil: every function in the current schema
	Exclude   string   // a table never to read (the migrator's own history table)
}

// ForSnapshot is the filter that reads exactly the tables and functions an expected snapshot names.
func ForSnapshot(s Snapshot, exclude string) Filter {
	return Filter{Tables: s.Tables(), Functions: s.Functions(), Exclude: exclude}
}

// catalogQuery reads every fact in one round trip: verify runs on every deploy that asks for it.
const catalogQuery = `
WITH t AS (
    SELECT c.oid, c.relname
      FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace
       AND c.relkind IN ('r', 'p')
       AND ($1::text[] IS NULL OR c.relname = ANY ($1::text[]))
       AND c.relname <> $2::text
)
-- Definitions name the schema ("ON public.carts"); drop it so a snapshot fits any schema.
SELECT kind, name, replace(def, ' ' || quote_ident(current_schema()) || '.', ' ')
  FROM (
SELECT 'table' AS kind, relname::text AS name, '' AS def
  FROM t
UNION ALL
SELECT 'column', t.relname || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
  FROM t
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
UNION ALL
SELECT 'constraint', t.relname || '.' || con.conname, pg_get_constraintdef(con.oid)
  FROM t
  JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype <> 'n'
UNION ALL
SELECT 'index', t.relname || '.' || ic.relname,
       pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
  FROM t
  JOIN pg_index i ON i.indrelid = t.oid
  JOIN pg_class ic ON ic.oid = i.indexrelid
UNION ALL
SELECT 'trigger', t.relname || '.' || tg.tgname,
       pg_get_triggerdef(tg.oid) || CASE WHEN tg.tgenabled = 'D' THEN ' DISABLED' ELSE '' END
  FROM t
  JOIN pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal
UNION ALL
SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       'returns ' || pg_get_function_result(p.oid) || ' language ' || l.lanname
       || ' as ' || btrim(regexp_replace(p.prosrc, '\s+', ' ', 'g'))
  FROM pg_proc p
  JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = current_schema()::regnamespace
   AND p.prokind = 'f'
   AND ($3::text[] IS NULL OR p.proname = ANY ($3::text[]))
) facts`

// Querier is what Read needs of a connection.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Read takes a snapshot of the live catalog in the connection's current schema.
func Read(ctx context.Context, q Querier, f Filter) (Snapshot, error) {
	rows, err := q.Query(ctx, catalogQuery, pgx.QueryExecModeSimpleProtocol, f.Tables, f.Exclude, f.Functions)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	var s Snapshot
	for rows.Next() {
		var o Object
		if err := rows.Scan(&o.Kind, &o.Name, &o.Def); err != nil {
			return nil, fmt.Errorf("read catalog: %w", err)
		}
		s = append(s, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	s.sort()
	return s, nil
}
