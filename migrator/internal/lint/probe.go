package lint

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
	"github.com/jackc/pgx/v5/pgconn"
)

// probe is a session doing what the services do, a read and a write of one row in every
// populated table, over and over while a statement runs. Its lock_timeout is the blocking budget
// (Options.MaxBlock): a read or write that waits longer fails with lock_timeout, and lint records
// what it waited for and, over its retries, for how long.
type probe struct {
	conn   *pgx.Conn
	budget time.Duration
	tables []probeTable
}

type probeTable struct{ name, read, write string }

// Wait is a probe read or write that waited past the budget: the application's statement that
// stood still, the lock it waited for, and for how long.
type Wait struct {
	Table string        `json:"table"`
	Kind  string        `json:"kind"` // read or write
	SQL   string        `json:"sql"`  // the probe's statement
	Lock  string        `json:"lock"` // e.g. "ROW EXCLUSIVE on orders", "a row lock on order_items"
	Took  time.Duration `json:"waited_ns"`
	// rowLock: it waited for a row (a transaction of the migration holds it), not the table.
	rowLock bool
}

func (w Wait) String() string { return fmt.Sprintf("%s %s %s", w.Kind, w.Table, round(w.Took)) }

// needs is the table lock the probe's statement takes.
func (w Wait) needs() string {
	if w.Kind == "read" {
		return "AccessShareLock"
	}
	return "RowExclusiveLock"
}

func newProbe(ctx context.Context, connect Connector, budget time.Duration) (*probe, error) {
	conn, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d; SET statement_timeout = %d", budget.Milliseconds(), 10*budget.Milliseconds()+1000)); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return &probe{conn: conn, budget: budget}, nil
}

func (p *probe) close(ctx context.Context) { _ = p.conn.Close(ctx) }

// prepare picks, for every populated table, one row by its primary key to read and update.
func (p *probe) prepare(ctx context.Context, populated map[string]int64) error {
	p.tables = nil
	for _, t := range sortedKeys(populated) {
		if populated[t] == 0 {
			continue
		}
		ident := pgx.Identifier{t}.Sanitize()
		var pk string
		err := p.conn.QueryRow(ctx, `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
 WHERE i.indrelid = $1::regclass AND i.indisprimary`, ident).Scan(&pk)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("probe: find the primary key of %s: %w", t, err)
		}
		if err != nil {
			// No primary key: the lock a write takes stands for the write.
			p.tables = append(p.tables, probeTable{t, "SELECT 1 FROM " + ident + " LIMIT 1", "LOCK TABLE " + ident + " IN ROW EXCLUSIVE MODE"})
			continue
		}
		col := pgx.Identifier{pk}.Sanitize()
		var key string
		if err := p.conn.QueryRow(ctx, "SELECT "+col+"::text FROM "+ident+" LIMIT 1").Scan(&key); err != nil {
			return fmt.Errorf("probe: pick a row of %s: %w", t, err)
		}
		where := " WHERE " + col + " = " + sqlscript.QuoteLiteral(key)
		p.tables = append(p.tables, probeTable{t, "SELECT * FROM " + ident + where, "UPDATE " + ident + " SET " + col + " = " + col + where})
	}
	return nil
}

// waiting adds up one kind of probe statement's waits: each from the start of an attempt that
// ran into the budget to the end of the next attempt that got through (or the end of probing).
type waiting struct {
	Wait
	total time.Duration
	since time.Time
	open  bool
}

// run starts probing; stop ends it and returns the reads and writes that waited past the budget.
func (p *probe) run(ctx context.Context) (stop func() []Wait) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan []Wait, 1)
	go func() {
		waits := map[string]*waiting{} // "write orders"
		var order []string
		defer func() {
			end := time.Now()
			out := make([]Wait, 0, len(order))
			for _, k := range order {
				w := waits[k]
				w.Took = w.total
				if w.open {
					w.Took += end.Sub(w.since)
				}
				out = append(out, w.Wait)
			}
			done <- out
		}()
		attempt := func(table, kind, sql string) {
			key := kind + " " + table
			start := time.Now()
			var err error
			if kind == "read" {
				_, err = p.conn.Exec(context.WithoutCancel(ctx), sql, pgx.QueryExecModeSimpleProtocol)
			} else {
				_, err = p.conn.Exec(context.WithoutCancel(ctx), "BEGIN; "+sql, pgx.QueryExecModeSimpleProtocol)
				_, _ = p.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			}
			w, seen := waits[key]
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_timeout: it waited the whole budget
				if !seen {
					w = &waiting{Wait: Wait{Table: table, Kind: kind, SQL: sql}}
					waits[key] = w
					order = append(order, key)
				}
				if !w.open {
					w.open, w.since = true, start
				}
				w.Lock, w.rowLock = waitedFor(pgErr, table, w.needs())
				return
			}
			if seen && w.open { // the wait ends with the attempt that got through
				w.open, w.total = false, w.total+time.Since(w.since)
			}
		}
		for ctx.Err() == nil {
			for _, t := range p.tables {
				for _, kind := range [...]struct{ name, sql string }{{"read", t.read}, {"write", t.write}} {
					if ctx.Err() != nil {
						return
					}
					attempt(t.name, kind.name, kind.sql)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	var out []Wait
	return func() []Wait {
		once.Do(func() {
			cancel()
			// A probe statement waiting for a lock the migration's open transaction holds would
			// wait its whole lock_timeout, and the transaction could not end meanwhile: cancel it
			// on the server, again until the probe has stopped, since a cancel that arrives
			// between two of its statements is lost.
			for {
				cctx, stop := context.WithTimeout(context.Background(), time.Second)
				_ = p.conn.PgConn().CancelRequest(cctx)
				stop()
				select {
				case out = <-done:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		})
		return out
	}
}

var rowLockContext = regexp.MustCompile(`while (updating|locking|deleting) tuple`)

// waitedFor says what a probe statement that ran into lock_timeout waited for: PostgreSQL's
// error context names a row ("while updating tuple (0,1) in relation ...") when it waited for
// a transaction holding the row; otherwise it waited for the table lock it needs.
func waitedFor(err *pgconn.PgError, table, needs string) (string, bool) {
	if rowLockContext.MatchString(err.Where) {
		return "a row lock on " + table, true
	}
	return modeName(needs) + " on " + table, false
}
