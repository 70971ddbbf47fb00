package corpus

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// ErrNoExtension: pg_stat_statements is not there to read.
var ErrNoExtension = errors.New("pg_stat_statements is not installed in this database: " +
	"it must be preloaded (shared_preload_libraries; RDS preloads it, and infra's parameter group keeps it) " +
	"and created once by a role that may (on RDS the master user): CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

// Captured is what Capture read.
type Captured struct {
	Queries []Query
	// Hidden counts statements whose text this role may not see (another role ran them, and it
	// lacks pg_read_all_stats): grant it, or capture as the application's role.
	Hidden int
	// LeftOut counts statements whose text still held a constant (sqlscript.Normalized): they
	// stay in the database.
	LeftOut int
}

// statementKind is what a captured statement may be: the application's reads and writes. Utility
// statements (SET, ALTER ROLE ... PASSWORD, DDL) are stored by pg_stat_statements as they were
// sent, constants and all.
var statementKind = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^\(*\s*(WITH|SELECT|INSERT|UPDATE|DELETE|MERGE|TABLE|VALUES)\b`)
})

// ErrNotReadOrWrite: a captured statement that is not one of the application's reads or writes.
var ErrNotReadOrWrite = errors.New("not a read or a write")

// Clean is a captured statement as it may leave the database: without comments, and only if it
// is a read or a write (else ErrNotReadOrWrite) with no constant left in its text (else an error
// naming the constant's kind, never its value). Capture applies it to what it reads, and lint
// again to a stored capture it is given.
func Clean(sql string) (string, error) {
	text, leftover := sqlscript.Normalized(sql)
	if !statementKind().MatchString(text) {
		return "", ErrNotReadOrWrite
	}
	if leftover != "" {
		return "", fmt.Errorf("its text holds %s", leftover)
	}
	return normalize(text), nil
}

// Capture reads the application's statements from pg_stat_statements on a live database, in a
// read-only transaction: top-level reads and writes run in this database, most called first, up
// to limit. pg_stat_statements has already replaced their literals with $1, $2, ...; the
// catalog's own queries (anything naming a pg_ relation or function, or information_schema), the
// migrator's history table and utility statements (DDL, SET) are left out, comments are removed,
// and a text that still holds a constant is left out (Clean). It reads statistics and statement
// texts, never a table's rows.
func Capture(ctx context.Context, conn *pgx.Conn, history string, limit int) (Captured, error) {
	var out Captured
	err := pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = '30s'"); err != nil {
			return err
		}
		var where string
		if err := tx.QueryRow(ctx, `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'`).Scan(&where); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNoExtension
			}
			return err
		}
		view := pgx.Identifier{where, "pg_stat_statements"}.Sanitize()
		rows, err := tx.Query(ctx, `SELECT coalesce(queryid, 0), query, calls, query = '<insufficient privilege>' FROM `+view+` s
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.toplevel
   AND (s.query = '<insufficient privilege>' OR (s.query !~* '\m(pg_|information_schema\M)' AND s.query !~* ('\m' || $1 || '\M')))
 ORDER BY s.calls DESC`, history)
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "55000" { // not loaded via shared_preload_libraries
				return fmt.Errorf("%w (%s)", ErrNoExtension, pgErr.Message)
			}
			return err
		}
		var (
			id     int64
			text   string
			calls  int64
			hidden bool
		)
		merged := map[string]int{}
		_, err = pgx.ForEachRow(rows, []any{&id, &text, &calls, &hidden}, func() error {
			if hidden {
				out.Hidden++
				return nil
			}
			key, err := Clean(text)
			if err != nil {
				if !errors.Is(err, ErrNotReadOrWrite) {
					out.LeftOut++
				}
				return nil
			}
			// The same text under several queryids (other roles, search paths): one statement.
			if i, ok := merged[key]; ok {
				out.Queries[i].Calls += calls
				return nil
			}
			if len(out.Queries) >= limit {
				return nil
			}
			merged[key] = len(out.Queries)
			out.Queries = append(out.Queries, Query{Name: "q" + strconv.FormatUint(uint64(id), 16), SQL: key, Calls: calls})
			return nil
		})
		return err
	})
	if err != nil {
		return Captured{}, fmt.Errorf("read pg_stat_statements: %w", err)
	}
	return out, nil
}
