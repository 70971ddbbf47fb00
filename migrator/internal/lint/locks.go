package lint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// lockKey is a table lock: the table by oid (a table the statement dropped has no name left in
// the catalog, but its lock is still held), and the mode.
type lockKey struct {
	table uint32
	mode  string
}

// errNotInTransactionBlock: the statement cannot run inside BEGIN ... COMMIT.
var errNotInTransactionBlock = errors.New("the statement cannot run in a transaction block")

// inOwnTransaction runs exec between BEGIN and COMMIT and returns the table locks it held.
func (l *linter) inOwnTransaction(ctx context.Context, conn *pgx.Conn, exec func(context.Context) error) (map[lockKey]bool, error) {
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		return nil, err
	}
	err := exec(ctx)
	var held map[lockKey]bool
	if err == nil {
		held, err = l.ownLocks(ctx, conn)
	}
	end := "COMMIT"
	if err != nil {
		end = "ROLLBACK"
	}
	if _, cerr := conn.Exec(context.WithoutCancel(ctx), end); cerr != nil && err == nil {
		err = cerr
	}
	var pgErr *pgconn.PgError
	// 25001: cannot run inside a transaction block; 2D000: a COMMIT inside a DO block.
	if errors.As(err, &pgErr) && (pgErr.Code == "25001" || pgErr.Code == "2D000") {
		return nil, errNotInTransactionBlock
	}
	return held, err
}

// relationLocks are the granted relation locks of a backend in this database; which of them are
// tables of the schema the caller tells from the catalog before and after the statement.
const relationLocks = `SELECT l.relation, l.mode FROM pg_locks l
 WHERE l.pid = $1 AND l.locktype = 'relation' AND l.granted
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// ownLocks are the relation locks the session holds (inside its transaction).
func (l *linter) ownLocks(ctx context.Context, conn *pgx.Conn) (map[lockKey]bool, error) {
	rows, err := conn.Query(ctx, relationLocks, int32(conn.PgConn().PID()))
	if err != nil {
		return nil, fmt.Errorf("read the statement's locks: %w", err)
	}
	out := map[lockKey]bool{}
	var k lockKey
	_, err = pgx.ForEachRow(rows, []any{&k.table, &k.mode}, func() error { out[k] = true; return nil })
	return out, err
}

// tableLocks names the locks that are on tables of the schema, by the catalog after the
// statement or, for a table it dropped, before it.
func tableLocks(held map[lockKey]bool, after, before *catalogState, hold time.Duration) []Lock {
	var out []Lock
	for k := range held {
		if name, ok := after.tableName(k.table, before); ok {
			out = append(out, Lock{Table: name, Mode: k.mode, Hold: hold})
		}
	}
	sortLocks(out)
	return out
}

// lockPoll watches the relation locks of a backend from the monitor session.
type lockPoll struct {
	cancel context.CancelFunc
	done   chan map[lockKey]bool
}

func (l *linter) pollLocks(ctx context.Context, pid uint32) *lockPoll {
	ctx, cancel := context.WithCancel(ctx)
	p := &lockPoll{cancel: cancel, done: make(chan map[lockKey]bool, 1)}
	go func() {
		seen := map[lockKey]bool{}
		defer func() { p.done <- seen }()
		for {
			rows, err := l.monitor.Query(context.WithoutCancel(ctx), relationLocks, int32(pid))
			if err == nil {
				var k lockKey
				_, _ = pgx.ForEachRow(rows, []any{&k.table, &k.mode}, func() error { seen[k] = true; return nil })
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return p
}

func (p *lockPoll) stop() map[lockKey]bool {
	p.cancel()
	return <-p.done
}
