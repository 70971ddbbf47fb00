// Package pglock is PostgreSQL's table lock modes as pg_locks names them, which conflict, and
// the locks a session's statement holds.
package pglock

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Modes are pg_locks' table lock modes, weakest first.
var Modes = []string{"AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
	"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}

// waitsFor is the manual's "Conflicting Lock Modes" table: the held modes each requested mode
// waits for.
var waitsFor = map[string][]string{
	"AccessShareLock":          {"AccessExclusiveLock"},
	"RowShareLock":             {"ExclusiveLock", "AccessExclusiveLock"},
	"RowExclusiveLock":         {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ShareUpdateExclusiveLock": {"ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ShareLock":                {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ShareRowExclusiveLock":    {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ExclusiveLock":            {"RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"AccessExclusiveLock":      Modes,
}

// Conflicts: a lock held in mode held makes a request for mode wanted wait.
func Conflicts(held, wanted string) bool { return slices.Contains(waitsFor[wanted], held) }

// Stronger is the stronger of two modes ("" is weaker than any).
func Stronger(a, b string) string {
	if slices.Index(Modes, b) > slices.Index(Modes, a) {
		return b
	}
	return a
}

// Held is a relation lock a backend holds: the relation by oid (a table a statement dropped has
// no name left in the catalog, but its lock is still held), and the mode.
type Held struct {
	Relation uint32
	Mode     string
}

// RelationLocks are the granted relation locks of backend $1 in this database; which of them
// are tables of the schema the caller tells from its catalog.
const RelationLocks = `SELECT l.relation, l.mode FROM pg_locks l
 WHERE l.pid = $1 AND l.locktype = 'relation' AND l.granted
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// Own reads the relation locks conn's session holds now (inside its transaction).
func Own(ctx context.Context, conn *pgx.Conn) (map[Held]bool, error) {
	rows, err := conn.Query(ctx, RelationLocks, int32(conn.PgConn().PID()))
	if err != nil {
		return nil, fmt.Errorf("read the statement's locks: %w", err)
	}
	out := map[Held]bool{}
	var h Held
	_, err = pgx.ForEachRow(rows, []any{&h.Relation, &h.Mode}, func() error { out[h] = true; return nil })
	return out, err
}

// ErrNotInTransactionBlock: the statement cannot run inside BEGIN ... COMMIT.
var ErrNotInTransactionBlock = errors.New("the statement cannot run in a transaction block")

// InOwnTransaction runs exec between BEGIN and COMMIT on conn and returns the relation locks it
// held. A statement PostgreSQL refuses there (25001: the CONCURRENTLY forms; 2D000: a DO block
// that commits) is ErrNotInTransactionBlock, rolled back: the caller runs it as it is.
func InOwnTransaction(ctx context.Context, conn *pgx.Conn, exec func(context.Context) error) (map[Held]bool, error) {
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		return nil, err
	}
	err := exec(ctx)
	var held map[Held]bool
	if err == nil {
		held, err = Own(ctx, conn)
	}
	end := "COMMIT"
	if err != nil {
		end = "ROLLBACK"
	}
	if _, cerr := conn.Exec(context.WithoutCancel(ctx), end); cerr != nil && err == nil {
		err = cerr
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "25001" || pgErr.Code == "2D000") {
		return nil, ErrNotInTransactionBlock
	}
	return held, err
}
