package preflight

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pglock"
)

// Derive applies the live database's migrations and then each pending file to the empty scratch
// database, and derives from the catalog before and after each file the rules it adds and the
// locks it takes. A file the scratch database refuses is returned as a *ScratchError (its
// file, line and column), before anything touched the live database.
func Derive(ctx context.Context, s Scratch) (Derived, error) {
	start := time.Now()
	conn, err := s.Connect(ctx)
	if err != nil {
		return Derived{}, fmt.Errorf("pre-flight: open the scratch database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	engine := s.Engine
	engine.LockWait, engine.LockRetries, engine.RetryBackoff, engine.WaitReport = 0, 0, 0, 0
	if engine.Logger = s.Logger; engine.Logger == nil {
		engine.Logger = slog.New(slog.DiscardHandler)
	}
	history := engine.HistoryTable
	if history == "" {
		history = migrate.DefaultHistoryTable
	}
	m, err := migrate.New(conn, engine)
	if err != nil {
		return Derived{}, err
	}
	all := migrate.UpPlan{Verify: migrate.VerifyNever, PostDeploy: true}
	if s.Applied > 0 {
		all.Target = s.Applied
		if _, err := m.Up(ctx, all, migrate.Hooks{}); err != nil {
			return Derived{}, fmt.Errorf("pre-flight: apply the live database's migrations (up to %04d) to the scratch database: %w", s.Applied, err)
		}
	}
	before, err := readCatalog(ctx, conn, history)
	if err != nil {
		return Derived{}, err
	}
	var d Derived
	for _, mig := range s.Pending {
		obs := &observer{conn: conn, history: history, held: map[uint32]string{}, waits: map[uint32]bool{}}
		all.Target = mig.Version
		if _, err := m.Up(ctx, all, migrate.Hooks{Observer: obs}); err != nil {
			return d, &ScratchError{File: mig.File, Err: err}
		}
		if obs.err != nil {
			return d, obs.err
		}
		after, err := readCatalog(ctx, conn, history)
		if err != nil {
			return d, err
		}
		rules, unchecked := derive(mig, before, after)
		d.Rules = append(d.Rules, rules...)
		d.Unchecked = append(d.Unchecked, unchecked...)
		for oid, mode := range obs.held {
			// A table the file made has no live rows and no live sessions.
			if name, existed := before.tables[oid]; existed {
				d.Locks = append(d.Locks, Lock{File: mig.File, Table: name, Mode: mode, Waits: obs.waits[oid]})
			}
		}
		before = after
	}
	sortLocks(d.Locks)
	d.Took = time.Since(start)
	return d, nil
}

// observer runs each statement of a file on the scratch database and records the table locks
// it takes. A transactional file's statements run inside its transaction, where the locks stay
// until COMMIT: each is read after its statement. A no-transaction file's statement runs in a
// transaction of its own for the same reading; one PostgreSQL refuses there (the CONCURRENTLY
// forms) runs as it is, and the tables whose catalog it changed are recorded with SHARE UPDATE
// EXCLUSIVE, the mode those forms take, and as waiting for every transaction on them.
type observer struct {
	conn    *pgx.Conn
	history string
	held    map[uint32]string // table oid -> strongest mode
	waits   map[uint32]bool
	err     error
}

func (o *observer) Statement(ctx context.Context, s migrate.ObservedStatement, exec func(context.Context) error) error {
	if s.InTransaction {
		if err := exec(ctx); err != nil {
			return err
		}
		return o.readOwnLocks(ctx)
	}
	if _, err := o.conn.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	err := exec(ctx)
	if err == nil {
		err = o.readOwnLocks(ctx)
	}
	end := "COMMIT"
	if err != nil {
		end = "ROLLBACK"
	}
	if _, cerr := o.conn.Exec(context.WithoutCancel(ctx), end); cerr != nil && err == nil {
		err = cerr
	}
	var pgErr *pgconn.PgError
	// 25001: cannot run inside a transaction block; 2D000: a COMMIT inside a DO block.
	if !errors.As(err, &pgErr) || (pgErr.Code != "25001" && pgErr.Code != "2D000") {
		return err
	}
	before, err := readCatalog(ctx, o.conn, o.history)
	if err != nil {
		return err
	}
	if err := exec(ctx); err != nil {
		return err
	}
	after, err := readCatalog(ctx, o.conn, o.history)
	if err != nil {
		return err
	}
	for _, oid := range changedTables(before, after) {
		o.hold(oid, "ShareUpdateExclusiveLock")
		o.waits[oid] = true
	}
	return nil
}

func (o *observer) FileDone(context.Context, migrate.Migration, error) {}

// readOwnLocks records the relation locks the scratch session holds now.
func (o *observer) readOwnLocks(ctx context.Context) error {
	rows, err := o.conn.Query(ctx, `SELECT l.relation, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND c.relkind IN ('r', 'p')
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		o.err = fmt.Errorf("pre-flight: read the scratch session's locks: %w", err)
		return o.err
	}
	var (
		oid  uint32
		mode string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &mode}, func() error { o.hold(oid, mode); return nil })
	return err
}

func (o *observer) hold(oid uint32, mode string) { o.held[oid] = strongerMode(o.held[oid], mode) }

func strongerMode(a, b string) string {
	if a == "" {
		return b
	}
	return pglock.Stronger(a, b)
}

// changedTables are the tables whose columns, constraints or indexes differ.
func changedTables(before, after *catalog) []uint32 {
	changed := map[uint32]bool{}
	for k, c := range after.columns {
		if b, ok := before.columns[k]; !ok || b != c {
			changed[k.table] = true
		}
	}
	for k := range before.columns {
		if _, ok := after.columns[k]; !ok {
			changed[k.table] = true
		}
	}
	for _, pair := range [][2]map[uint32]uint32{{tablesOfConstraints(before), tablesOfConstraints(after)}, {tablesOfIndexes(before), tablesOfIndexes(after)}} {
		for oid, table := range pair[1] {
			if _, ok := pair[0][oid]; !ok {
				changed[table] = true
			}
		}
		for oid, table := range pair[0] {
			if _, ok := pair[1][oid]; !ok {
				changed[table] = true
			}
		}
	}
	var out []uint32
	for t := range changed {
		out = append(out, t)
	}
	return out
}

func tablesOfConstraints(c *catalog) map[uint32]uint32 {
	out := map[uint32]uint32{}
	for oid, con := range c.constraints {
		out[oid] = con.table
	}
	return out
}

func tablesOfIndexes(c *catalog) map[uint32]uint32 { return c.indexTable }

func sortLocks(ls []Lock) {
	sort.Slice(ls, func(i, j int) bool { return ls[i].File+" "+ls[i].Table < ls[j].File+" "+ls[j].Table })
}
