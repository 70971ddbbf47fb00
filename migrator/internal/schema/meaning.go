package schema

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// The catalog prints an expression the way the server parsed it, and a parsed expression does
// not always print back to itself: a dump and restore, a pg_upgrade or another major version
// turns `ANY (ARRAY[('a'::varchar)::text])` into `ANY ((ARRAY['a'::varchar])::text[])`. Both
// mean the same. So before a CHECK constraint or an index is reported as different, the live
// server parses both definitions again, on a scratch copy of the table inside a transaction that
// is rolled back, and prints them: when the two prints agree, the two definitions agree.

// Comparer is what Compare needs of a connection.
type Comparer interface {
	Querier
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Compare is Diff, with the CHECK constraints and indexes whose text differs compared again by
// meaning on the live server. Differences it cannot decide stay reported.
func Compare(ctx context.Context, conn Comparer, expected, live Snapshot) ([]Difference, error) {
	diffs := Diff(expected, live)
	var candidates []int
	for i, d := range diffs {
		if !d.Missing && !d.Extra && reparsable(d) {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return diffs, nil
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("compare definitions: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	same := map[int]bool{}
	scratch := map[string]string{}
	for n, i := range candidates {
		d := diffs[i]
		table := d.Name[:strings.Index(d.Name, ".")]
		tmp, ok := scratch[table]
		if !ok {
			tmp = fmt.Sprintf("carthub_verify_%d", len(scratch))
			if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (LIKE %s) ON COMMIT DROP", tmp, pgx.Identifier{table}.Sanitize())); err != nil {
				return diffs, nil // no scratch table (e.g. a read-only standby): keep the textual result
			}
			scratch[table] = tmp
		}
		a, errA := reprint(ctx, tx, d.Kind, d.Expected, tmp, fmt.Sprintf("e%d", n))
		b, errB := reprint(ctx, tx, d.Kind, d.Found, tmp, fmt.Sprintf("f%d", n))
		if errA == nil && errB == nil && a == b {
			same[i] = true
		}
	}
	var out []Difference
	for i, d := range diffs {
		if !same[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

// reparsable: a CHECK constraint or an index, with the same validity on both sides (NOT VALID
// and INVALID are real differences, never explained away).
func reparsable(d Difference) bool {
	switch d.Kind {
	case "constraint":
		return strings.HasPrefix(d.Expected, "CHECK ") && strings.HasPrefix(d.Found, "CHECK ") &&
			strings.HasSuffix(d.Expected, " NOT VALID") == strings.HasSuffix(d.Found, " NOT VALID")
	case "index":
		return indexDef().MatchString(d.Expected) && indexDef().MatchString(d.Found) &&
			strings.HasSuffix(d.Expected, " INVALID") == strings.HasSuffix(d.Found, " INVALID")
	}
	return false
}

// indexDef splits pg_get_indexdef's output (schema already dropped): CREATE [UNIQUE] INDEX name
// ON [ONLY] table USING method (...) [...].
var indexDef = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ (USING .*?)( INVALID)?$`)
})

// reprint creates def on the scratch table as a new object called name and returns how the
// server prints it, without the name and table, so two prints can be compared.
func reprint(ctx context.Context, tx pgx.Tx, kind, def, table, name string) (string, error) {
	sp := "reprint_" + name
	if _, err := tx.Exec(ctx, "SAVEPOINT "+sp); err != nil {
		return "", err
	}
	var out string
	var err error
	switch kind {
	case "constraint":
		body := strings.TrimSuffix(def, " NOT VALID")
		if _, err = tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID", table, name, body)); err == nil {
			err = tx.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND conname = $2`,
				"pg_temp."+table, name).Scan(&out)
		}
	case "index":
		m := indexDef().FindStringSubmatch(def)
		if m == nil {
			return "", errors.New("not an index definition")
		}
		if _, err = tx.Exec(ctx, fmt.Sprintf("CREATE %sINDEX %s ON %s %s", m[1], name, table, m[2])); err == nil {
			err = tx.QueryRow(ctx, `SELECT pg_get_indexdef(($1)::regclass)`, "pg_temp."+name).Scan(&out)
			if mm := indexDef().FindStringSubmatch(out); err == nil && mm != nil {
				out = mm[1] + mm[2]
			}
		}
	}
	if err != nil {
		_, _ = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+sp)
		return "", err
	}
	return out, nil
}
