package lint

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

// observer measures each statement the engine runs (it is the engine's migrate.Observer).
type observer struct {
	l          *linter
	statements []*Statement
	open       []*Statement // this transaction's statements, until FileDone
}

// Statement measures one statement around exec: the catalog and table statistics before and
// after, its locks (read in its transaction, or polled from another session while it runs
// outside one), and what the probe saw meanwhile.
func (o *observer) Statement(ctx context.Context, os migrate.ObservedStatement, exec func(context.Context) error) error {
	l := o.l
	s := &Statement{Line: os.Statement.Line, SQL: summary(os.Statement.SQL), inTransaction: os.InTransaction,
		concurrent: migrate.ConcurrentIndexOp(os.Statement.SQL)}
	if s.concurrent && !ifExists.MatchString(os.Statement.SQL) {
		s.add("concurrent-index-without-if-exists", "a rerun after an interruption would fail on the index it left")
	}
	o.statements = append(o.statements, s)
	before, err := l.catalog(ctx, os.Conn)
	if err != nil {
		return err
	}
	scansBefore, err := l.scans(ctx, os.Conn, os.InTransaction)
	if err != nil {
		return err
	}
	polled := map[lockKey]bool{}
	var locksBefore map[lockKey]bool
	if os.InTransaction {
		if locksBefore, err = l.ownLocks(ctx, os.Conn); err != nil {
			return err
		}
	}
	// A statement outside a transaction runs in one of its own. Lint makes that transaction
	// explicit (BEGIN, the statement, read its locks, COMMIT: the same effect), so that it reads
	// the locks exactly; statements PostgreSQL refuses in a transaction block (CONCURRENTLY,
	// VACUUM, a DO block that commits) run as they are while another session polls their locks.
	wrapped := !os.InTransaction && !s.concurrent
	var held map[lockKey]bool
	stopProbe := l.probe.run(ctx)
	if wrapped {
		s.start = time.Now()
		if held, err = l.inOwnTransaction(ctx, os.Conn, exec); errors.Is(err, errNotInTransactionBlock) {
			wrapped = false
		}
	}
	if !wrapped && !os.InTransaction {
		poll := l.pollLocks(ctx, os.Conn.PgConn().PID())
		s.start = time.Now()
		err = exec(ctx)
		polled = poll.stop()
	} else if os.InTransaction {
		s.start = time.Now()
		err = exec(ctx)
	}
	s.end = time.Now()
	s.Duration = s.end.Sub(s.start)
	s.Blocked = stopProbe()
	if err != nil {
		s.Error = firstLine(err.Error())
		return err
	}
	for k := range held {
		polled[k] = true
	}
	if os.InTransaction {
		after, err := l.ownLocks(ctx, os.Conn)
		if err != nil {
			return err
		}
		for k := range after {
			if !locksBefore[k] {
				s.Locks = append(s.Locks, Lock{Table: k.table, Mode: k.mode}) // hold: set at FileDone
			}
		}
		o.open = append(o.open, s)
	} else {
		for k := range polled {
			s.Locks = append(s.Locks, Lock{Table: k.table, Mode: k.mode, Hold: s.Duration})
		}
	}
	sortLocks(s.Locks)
	after, err := l.catalog(ctx, os.Conn)
	if err != nil {
		return err
	}
	after.compare(before, s)
	scansAfter, err := l.scans(ctx, os.Conn, os.InTransaction)
	if err != nil {
		return err
	}
	for t, a := range scansAfter {
		b := scansBefore[t]
		if a.seqScan > b.seqScan && a.tupRead-b.tupRead >= max(1, before.rows[t]/2) {
			s.Scanned = append(s.Scanned, t)
		}
	}
	sort.Strings(s.Scanned)
	return nil
}

// FileDone ends the transaction of a transactional file: its statements' locks were held until
// now, and anything the probe found blocked meanwhile is theirs.
func (o *observer) FileDone(ctx context.Context, mig migrate.Migration, err error) {
	end := time.Now()
	for _, s := range o.open {
		for i := range s.Locks {
			s.Locks[i].Hold = end.Sub(s.start)
		}
	}
	o.open = nil
}

type lockKey struct{ table, mode string }

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

// ownLocks are the table locks the session holds (inside its transaction).
func (l *linter) ownLocks(ctx context.Context, conn *pgx.Conn) (map[lockKey]bool, error) {
	rows, err := conn.Query(ctx, `SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
   AND c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> $1`, l.history)
	if err != nil {
		return nil, fmt.Errorf("read the statement's locks: %w", err)
	}
	out := map[lockKey]bool{}
	var k lockKey
	_, err = pgx.ForEachRow(rows, []any{&k.table, &k.mode}, func() error { out[k] = true; return nil })
	return out, err
}

// lockPoll watches the table locks of a backend from the monitor session.
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
			rows, err := l.monitor.Query(context.WithoutCancel(ctx), `SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = $1 AND l.locktype = 'relation' AND l.granted
   AND c.relnamespace = $2::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> $3`, int32(pid), l.schema, l.history)
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

// catalogState is what a statement can change that the rules look at.
type catalogState struct {
	filenode    map[uint32]int64    // relation oid -> relfilenode
	names       map[uint32]string   // relation oid -> name
	indexTable  map[uint32]string   // index oid -> its table
	constraints map[uint32]relation // CHECK and FOREIGN KEY constraints
	validated   map[uint32]bool
	columns     map[string]bool     // "table.column"
	volatile    map[string]relation // columns with a default that no stored missing value covers
	rows        map[string]int64
}

func (l *linter) catalog(ctx context.Context, conn *pgx.Conn) (*catalogState, error) {
	c := &catalogState{filenode: map[uint32]int64{}, names: map[uint32]string{}, indexTable: map[uint32]string{},
		constraints: map[uint32]relation{}, validated: map[uint32]bool{}, columns: map[string]bool{}, volatile: map[string]relation{}, rows: map[string]int64{}}
	rows, err := conn.Query(ctx, `SELECT c.oid, c.relname, c.relkind = 'i', c.relfilenode::int8, coalesce(t.relname, ''), greatest(c.reltuples, 0)::int8
  FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'i') AND c.relname <> $1`, l.history)
	if err != nil {
		return nil, fmt.Errorf("read the catalog: %w", err)
	}
	var (
		oid         uint32
		name, table string
		isIndex     bool
		node, n     int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&oid, &name, &isIndex, &node, &table, &n}, func() error {
		c.filenode[oid], c.names[oid] = node, name
		if isIndex {
			c.indexTable[oid] = table
		} else {
			c.rows[name] = n
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the catalog: %w", err)
	}
	var valid bool
	rows, err = conn.Query(ctx, `SELECT oid, conname, conrelid::regclass::text, convalidated FROM pg_constraint
 WHERE connamespace = current_schema()::regnamespace AND contype IN ('c', 'f')`)
	if err != nil {
		return nil, fmt.Errorf("read the constraints: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&oid, &name, &table, &valid}, func() error {
		c.constraints[oid], c.validated[oid] = relation{name: name, table: table}, valid
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the constraints: %w", err)
	}
	var hasDef, hasMissing bool
	rows, err = conn.Query(ctx, `SELECT c.relname, a.attname, a.atthasdef, a.atthasmissing FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> $1`, l.history)
	if err != nil {
		return nil, fmt.Errorf("read the columns: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&table, &name, &hasDef, &hasMissing}, func() error {
		c.columns[table+"."+name] = true
		if hasDef && !hasMissing {
			c.volatile[table+"."+name] = relation{name: name, table: table}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the columns: %w", err)
	}
	return c, nil
}

// compare records in s what changed from before to c.
func (c *catalogState) compare(before *catalogState, s *Statement) {
	// An ALTER COLUMN TYPE rebuilds the table's indexes and constraints under new oids: by name,
	// they are the ones that were there.
	indexesBefore := map[relation]bool{}
	for oid, table := range before.indexTable {
		indexesBefore[relation{name: before.names[oid], table: table}] = true
	}
	constraintsBefore := map[relation]bool{}
	for _, con := range before.constraints {
		constraintsBefore[con] = true
	}
	for oid, node := range c.filenode {
		old, existed := before.filenode[oid]
		table, isIndex := c.indexTable[oid]
		ix := relation{name: c.names[oid], table: table}
		switch {
		case existed && old != node:
			s.Rewrote = append(s.Rewrote, c.names[oid]) // tables and indexes; the rule looks at tables

		case !existed && isIndex && !indexesBefore[ix] && before.rows[table] > 0:
			s.newIndexes = append(s.newIndexes, ix)
		}
	}
	sort.Strings(s.Rewrote)
	for oid, con := range c.constraints {
		if !constraintsBefore[con] && c.validated[oid] && before.rows[con.table] > 0 {
			s.newValidConstraints = append(s.newValidConstraints, con)
		}
	}
	for col, rel := range c.volatile {
		if !before.columns[col] && before.rows[rel.table] > 0 {
			s.volatileColumns = append(s.volatileColumns, rel)
		}
	}
}

type scanCount struct{ seqScan, tupRead int64 }

// scans reads the sequential scan counters of the tables: the transaction's own inside one, the
// server's (flushed first) outside.
func (l *linter) scans(ctx context.Context, conn *pgx.Conn, inTransaction bool) (map[string]scanCount, error) {
	view := "pg_stat_xact_user_tables"
	if !inTransaction {
		view = "pg_stat_user_tables"
		// The counts of the statement that just ran reach the shared statistics when its
		// session goes idle after this.
		if _, err := conn.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
			return nil, fmt.Errorf("flush the statistics: %w", err)
		}
	}
	rows, err := conn.Query(ctx, `SELECT relname, coalesce(seq_scan, 0), coalesce(seq_tup_read, 0) FROM `+view+` WHERE schemaname = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("read the scan counters: %w", err)
	}
	out := map[string]scanCount{}
	var t string
	var sc scanCount
	_, err = pgx.ForEachRow(rows, []any{&t, &sc.seqScan, &sc.tupRead}, func() error { out[t] = sc; return nil })
	return out, err
}

// probe is a session doing what the services do, a read and a write of one row in every
// populated table, over and over while a statement runs. A lock_timeout says it was blocked.
type probe struct {
	conn    *pgx.Conn
	timeout time.Duration
	tables  []probeTable
}

type probeTable struct{ name, read, write string }

func newProbe(ctx context.Context, connect Connector, timeout time.Duration) (*probe, error) {
	conn, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d; SET statement_timeout = %d", timeout.Milliseconds(), 10*timeout.Milliseconds()+1000)); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return &probe{conn: conn, timeout: timeout}, nil
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
		where := " WHERE " + col + " = '" + strings.ReplaceAll(key, "'", "''") + "'"
		p.tables = append(p.tables, probeTable{t, "SELECT * FROM " + ident + where, "UPDATE " + ident + " SET " + col + " = " + col + where})
	}
	return nil
}

// run starts probing; stop ends it and returns what was blocked ("read orders", "write orders").
func (p *probe) run(ctx context.Context) (stop func() []string) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan []string, 1)
	go func() {
		blocked := map[string]bool{}
		defer func() { done <- sortedKeys(blocked) }()
		for ctx.Err() == nil {
			for _, t := range p.tables {
				if ctx.Err() != nil {
					return
				}
				if _, err := p.conn.Exec(context.WithoutCancel(ctx), t.read, pgx.QueryExecModeSimpleProtocol); isLockTimeout(err) {
					blocked["read "+t.name] = true
				}
				_, err := p.conn.Exec(context.WithoutCancel(ctx), "BEGIN; "+t.write, pgx.QueryExecModeSimpleProtocol)
				if isLockTimeout(err) {
					blocked["write "+t.name] = true
				}
				_, _ = p.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			}
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	var out []string
	return func() []string {
		once.Do(func() {
			cancel()
			// A probe statement waiting for a lock would hold the migration's transaction open
			// until its lock_timeout: cancel it on the server instead of waiting.
			cctx, stop := context.WithTimeout(context.Background(), time.Second)
			_ = p.conn.PgConn().CancelRequest(cctx)
			stop()
			out = <-done
		})
		return out
	}
}

// isLockTimeout: the probe's lock_timeout fired (a cancelled probe statement is not a block).
func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

var (
	ifExists = regexp.MustCompile(`(?is)^(\s|--[^\n]*\n|/\*.*?\*/)*` +
		`(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS|DROP\s+INDEX\s+CONCURRENTLY\s+IF\s+EXISTS|REINDEX)\b`)
)

// summary is a statement's first line, shortened for the report.
func summary(sql string) string {
	line := []rune(firstLine(strings.TrimSpace(sql)))
	if len(line) > 60 {
		return string(line[:57]) + "..."
	}
	return string(line)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func sortLocks(ls []Lock) {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].Table != ls[j].Table {
			return ls[i].Table < ls[j].Table
		}
		return slices.Index(lockStrength, ls[i].Mode) > slices.Index(lockStrength, ls[j].Mode)
	})
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
