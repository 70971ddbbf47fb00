package preflight

import (
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

// Examples is how many example keys a violated rule shows.
const Examples = 5

// derive lists what mig adds or tightens on tables that existed before it (a table it made has
// no live rows): from before and after, the catalog around the file.
func derive(mig migrate.Migration, before, after *catalog) (rules []Rule, unchecked []string) {
	// add records r on the table oid had before the file, counted by the rows matching cond (in
	// one pass over the table with its other rules) unless r has a query of its own.
	add := func(oid uint32, r Rule, cond string) {
		r.File, r.table, r.Table = mig.File, oid, before.tables[oid]
		if r.query == "" {
			r.cond, r.example = cond, examplesOf(before, oid)
		}
		rules = append(rules, r)
	}
	existed := func(table uint32) bool { _, ok := before.tables[table]; return ok }

	for oid, con := range after.constraints {
		if !existed(con.table) || !con.validated {
			continue // NOT VALID: existing rows are not checked until VALIDATE
		}
		if old, had := before.constraints[oid]; had && old.validated {
			continue
		}
		switch con.kind {
		case 'c': // the server's rendering of the expression; its bare column names resolve to t
			add(con.table, Rule{Kind: "check", Name: con.name, Def: con.def}, "NOT ("+con.expr+")")
		case 'f':
			var notNull, match []string
			for i, attnum := range con.columns {
				c := "t." + ident(after.columnName(con.table, attnum))
				notNull = append(notNull, c+" IS NOT NULL")
				match = append(match, fmt.Sprintf("p.%s = %s", ident(after.columnName(con.refTable, con.refColumns[i])), c))
			}
			cond := strings.Join(notNull, " AND ")
			r := Rule{Kind: "foreign-key", Name: con.name, Def: con.def, refTable: con.refTable}
			if existed(con.refTable) { // a table the file made is empty: every row with a key is an orphan
				// Its own query: the planner makes NOT EXISTS an anti-join there, where inside a
				// pass's FILTER it would be a lookup per row.
				cond += fmt.Sprintf(" AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)", pgx.Identifier{before.tables[con.refTable]}.Sanitize(), strings.Join(match, " AND "))
				r.query = violations(ident(before.tables[con.table])+" t", cond, examplesOf(before, con.table))
			}
			add(con.table, r, cond)
		}
	}

	for key, col := range after.columns {
		if !existed(key.table) || !col.notNull {
			continue
		}
		old, had := before.columns[key]
		switch {
		case had && old.notNull:
		case had:
			add(key.table, Rule{Kind: "not-null", Name: col.name, Def: old.name + " SET NOT NULL"}, "t."+ident(old.name)+" IS NULL")
		case !col.hasDef: // a new NOT NULL column without a default: every existing row breaks it
			add(key.table, Rule{Kind: "not-null", Name: col.name, Def: "ADD COLUMN " + col.name + " " + col.typeName + " NOT NULL (no default)"}, "true")
		}
	}

	for oid, ix := range after.unique {
		if !existed(ix.table) || !ix.valid {
			continue
		}
		if old, had := before.unique[oid]; had && old.valid {
			continue
		}
		kind := "unique"
		if ix.primary {
			kind = "primary-key"
		}
		add(ix.table, Rule{Kind: kind, Name: ix.name, Def: "(" + strings.Join(ix.keys, ", ") + ")" + where(ix.predicate),
			query: duplicates(before.tables[ix.table], ix)}, "")
	}

	for key, col := range after.columns {
		old, had := before.columns[key]
		if !existed(key.table) || !had || (old.typ == col.typ && old.typmod == col.typmod) {
			continue
		}
		cond, judged := narrowed(ident(old.name), old, col)
		switch {
		case !judged:
			unchecked = append(unchecked, fmt.Sprintf("%s: %s.%s changes type from %s to %s (not counted: values that do not convert fail the file)",
				mig.File, before.tables[key.table], old.name, old.typeName, col.typeName))
		case cond != "":
			add(key.table, Rule{Kind: "narrowed-type", Name: col.name, Def: old.typeName + " -> " + col.typeName}, cond)
		}
	}
	sort.Slice(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
		return a.Table+" "+a.Kind+" "+a.Name < b.Table+" "+b.Kind+" "+b.Name
	})
	sort.Strings(unchecked)
	return rules, unchecked
}

// violations counts the rows of from (aliased t) where cond holds, with up to Examples keys.
func violations(from, cond, example string) string {
	return fmt.Sprintf("SELECT count(*) OVER (), %s FROM %s WHERE %s ORDER BY 2 LIMIT %d", example, from, cond, Examples)
}

// duplicates counts the rows that share a key of ix (rows with a NULL key never conflict, unless
// NULLS NOT DISTINCT), with up to Examples of the repeated keys and how often each occurs.
func duplicates(table string, ix uniqueIndex) string {
	keys := strings.Join(ix.keys, ", ")
	var conds []string
	if !ix.nullsNotDistinct {
		for _, k := range ix.keys {
			conds = append(conds, "("+k+") IS NOT NULL")
		}
	}
	if ix.predicate != "" {
		conds = append(conds, "("+ix.predicate+")")
	}
	if len(conds) == 0 {
		conds = []string{"true"}
	}
	return fmt.Sprintf(`SELECT sum(n) OVER ()::int8, key || ' (' || n || ' rows)' FROM (
  SELECT row(%s)::text AS key, count(*) AS n FROM %s WHERE %s GROUP BY %s HAVING count(*) > 1) d
 ORDER BY n DESC, key LIMIT %d`, keys, pgx.Identifier{table}.Sanitize(), strings.Join(conds, " AND "), keys, Examples)
}

// examplesOf is the expression an example row shows: its primary key, or its ctid without one.
func examplesOf(c *catalog, table uint32) string {
	pk := c.primaryKey(table)
	if len(pk) == 0 {
		return "t.ctid::text"
	}
	cols := make([]string, len(pk))
	for i, k := range pk {
		cols[i] = "t." + k
	}
	if len(cols) == 1 {
		return cols[0] + "::text"
	}
	return "row(" + strings.Join(cols, ", ") + ")::text"
}

// narrowed is the condition under which a value of column name (old) does not fit col's type:
// a shorter length, fewer digits, a smaller integer. judged is false for any other change of
// type, which no condition here can judge.
func narrowed(name string, old, col columnInfo) (cond string, judged bool) {
	switch {
	case old.typ == col.typ && (col.typ == "varchar" || col.typ == "bpchar"):
		if col.typmod < 0 || (old.typmod >= 0 && old.typmod <= col.typmod) {
			return "", true // as long or longer: nothing to count
		}
		return fmt.Sprintf("char_length(t.%s) > %d", name, col.typmod-4), true
	case old.typ == col.typ && col.typ == "numeric":
		if col.typmod < 0 {
			return "", true
		}
		// typmod-4 holds the precision in its high 16 bits and the scale in its low 11, signed
		// (PostgreSQL 15 allows a negative scale); a value is rounded to the scale first.
		precision, scale := int((col.typmod-4)>>16)&0xffff, int((col.typmod-4)&0x7ff)
		if scale&0x400 != 0 {
			scale -= 0x800
		}
		return fmt.Sprintf("abs(round(t.%s, %d)) >= 10::numeric ^ %d", name, scale, precision-scale), true
	}
	switch {
	case col.typ == "text" && (old.typ == "varchar" || old.typ == "bpchar" || old.typ == "text"):
		return "", true // every string fits text
	case old.typ == "timestamp" && col.typ == "timestamptz", old.typ == "date" && (col.typ == "timestamp" || col.typ == "timestamptz"):
		return "", true // every value converts (timestamp to timestamptz in the session's time zone)
	}
	limits := map[string]int64{"int2": 1<<15 - 1, "int4": 1<<31 - 1}
	width := map[string]int{"int2": 2, "int4": 4, "int8": 8}
	if lim, narrower := limits[col.typ]; narrower && width[old.typ] > width[col.typ] {
		return fmt.Sprintf("t.%s NOT BETWEEN %d AND %d", name, -lim-1, lim), true
	}
	if (old.typ == "text" || old.typ == "varchar") && col.typ == "varchar" && col.typmod >= 0 {
		return fmt.Sprintf("char_length(t.%s) > %d", name, col.typmod-4), true
	}
	if width[old.typ] > 0 && width[col.typ] >= width[old.typ] {
		return "", true // widened
	}
	return "", false
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

func where(pred string) string {
	if pred == "" {
		return ""
	}
	return " WHERE " + pred
}
