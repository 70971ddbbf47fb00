package lint

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pglock"
)

// observer measures each statement the engine runs (it is the engine's migrate.Observer).
type observer struct {
	l          *linter
	statements []*Statement
	open       []*Statement // this transaction's statements, until FileDone
	populated  map[string]int64
	broken     map[string]bool // application statements already reported broken in this file
	slowed     map[string]bool
	// measuring is the time lint spent measuring (catalog, statistics, the application's
	// statements) inside the open transaction: the locks are held through it, but the migration
	// alone would not hold them that long, so it is taken off the holds.
	measuring time.Duration
}

// Statement measures one statement around exec: the catalog and table statistics before and
// after, its locks (read in its transaction, or polled from another session while it runs
// outside one), what the probe waited for meanwhile, and which of the application's statements
// stopped working (or got slower) after it.
func (o *observer) Statement(ctx context.Context, os migrate.ObservedStatement, exec func(context.Context) error) error {
	entered := time.Now()
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
	var locksBefore map[pglock.Held]bool
	if os.InTransaction {
		if locksBefore, err = pglock.Own(ctx, os.Conn); err != nil {
			return err
		}
	}
	// A statement outside a transaction runs in one of its own. Lint makes that transaction
	// explicit (BEGIN, the statement, read its locks, COMMIT: the same effect), so that it reads
	// the locks exactly; statements PostgreSQL refuses in a transaction block (CONCURRENTLY,
	// VACUUM, a DO block that commits) run as they are while another session polls their locks.
	wrapped := !os.InTransaction && !s.concurrent
	var held map[pglock.Held]bool // outside a transaction: what the statement held
	stopProbe := l.probe.run(ctx)
	var own map[string]tableCounts // a wrapped statement's counters, read in its own transaction
	if wrapped {
		s.start = time.Now()
		held, err = pglock.InOwnTransaction(ctx, os.Conn, func(ctx context.Context) error {
			if err := exec(ctx); err != nil {
				return err
			}
			s.end = time.Now()
			var err error
			own, err = l.scans(ctx, os.Conn, true)
			return err
		})
		if errors.Is(err, pglock.ErrNotInTransactionBlock) {
			wrapped = false
		}
	}
	if !wrapped && !os.InTransaction {
		poll := l.pollLocks(ctx, os.Conn.PgConn().PID())
		s.start = time.Now()
		err = exec(ctx)
		held = poll.stop()
	} else if os.InTransaction {
		s.start = time.Now()
		err = exec(ctx)
	}
	if !wrapped || s.end.IsZero() {
		s.end = time.Now()
	}
	s.Duration = s.end.Sub(s.start)
	s.untilEnd = s.Duration
	if os.InTransaction {
		o.measuring += s.start.Sub(entered)
		s.measuredBefore = o.measuring
		defer func() { o.measuring += time.Since(s.end) }()
	}
	waits := stopProbe()
	if err != nil {
		s.Error = firstLine(err.Error())
		s.Blocked = waits
		return err
	}
	after, err := l.catalog(ctx, os.Conn)
	if err != nil {
		return err
	}
	if os.InTransaction {
		now, err := pglock.Own(ctx, os.Conn)
		if err != nil {
			return err
		}
		for k := range locksBefore {
			delete(now, k)
		}
		s.Locks = tableLocks(now, after, before, 0) // hold: set at FileDone
		o.open = append(o.open, s)
	} else {
		s.Locks = tableLocks(held, after, before, s.Duration)
	}
	after.compare(before, s)
	// The counters of the statement's own transaction where it has one (the file's, or the one
	// lint wrapped it in): the server-wide ones also count the probe's and other sessions' work.
	scansAfter := own
	if wrapped {
		scansBefore = map[string]tableCounts{}
	} else if scansAfter, err = l.scans(ctx, os.Conn, os.InTransaction); err != nil {
		return err
	}
	for _, t := range sortedKeys(scansAfter) {
		a, b := scansAfter[t], scansBefore[t]
		if a.seqScan > b.seqScan && a.tupRead-b.tupRead >= max(1, before.rows[t]/2) {
			s.Scanned = append(s.Scanned, t)
		}
		read := a.tupRead - b.tupRead + a.idxFetch - b.idxFetch
		written := a.updated - b.updated + a.deleted - b.deleted
		if read > 0 || written > 0 || a.inserted > b.inserted {
			s.Touched = append(s.Touched, Touch{Table: t, Read: read, Written: written, Inserted: a.inserted - b.inserted, Rows: before.rows[t]})
		}
		if written > 0 && (os.InTransaction || wrapped) { // its row locks last as long as its transaction
			if s.written == nil {
				s.written = map[string]bool{}
			}
			s.written[t] = true
		}
	}
	if !os.InTransaction && !wrapped {
		// The server-wide counters also hold the probe's reads and writes: keep the tables the
		// statement itself locked.
		s.Touched = slices.DeleteFunc(s.Touched, func(tc Touch) bool {
			return !slices.ContainsFunc(s.Locks, func(l Lock) bool { return l.Table == tc.Table })
		})
	}
	if err := o.consequences(ctx, os.Conn, s, before, after); err != nil {
		return err
	}
	o.attribute(s, waits)
	if l.app != nil {
		breaks, slowed, err := l.app.check(ctx, os.Conn, os.InTransaction, mayChangePlans(os.Tag), l.opts, o.populated)
		if err != nil {
			return err
		}
		wrote := slices.ContainsFunc(s.Touched, func(tc Touch) bool { return tc.Written > 0 })
		for _, b := range breaks {
			if b.empty && wrote {
				continue // rows the file changed on purpose (a backfill, a cancellation) read differently: no break
			}
			if !o.broken[b.query.Name] {
				o.broken[b.query.Name] = true
				s.breaks = append(s.breaks, b)
			}
		}
		for _, c := range slowed {
			if !o.slowed[c.query.Name] && !o.broken[c.query.Name] {
				o.slowed[c.query.Name] = true
				s.slowed = append(s.slowed, c)
			}
		}
	}
	return nil
}

// mayChangePlans: the statement was not plain DML, whose changes no plan sees until the next
// ANALYZE (a DO block may run DDL: it counts).
func mayChangePlans(tag *pgconn.CommandTag) bool {
	if tag == nil {
		return true
	}
	for _, dml := range []bool{tag.Insert(), tag.Update(), tag.Delete(), tag.Select()} {
		if dml {
			return false
		}
	}
	return !strings.HasPrefix(tag.String(), "MERGE") && !strings.HasPrefix(tag.String(), "COPY")
}

// consequences reads what a statement did to the rows that the catalog alone does not show: a
// populated table left empty, a key's sequence set back below the values its column holds.
func (o *observer) consequences(ctx context.Context, conn *pgx.Conn, s *Statement, before, after *catalogState) error {
	for _, t := range sortedKeys(before.rows) {
		if o.populated[t] == 0 || after.matviews[t] {
			continue
		}
		if _, still := after.rows[t]; !still {
			continue
		}
		rewrote := slices.Contains(s.Rewrote, t)
		deletedAll := slices.ContainsFunc(s.Touched, func(tc Touch) bool { return tc.Table == t && tc.Written >= o.populated[t] })
		if !rewrote && !deletedAll {
			continue
		}
		var has bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{t}.Sanitize()+")").Scan(&has); err != nil {
			return fmt.Errorf("look into %s: %w", t, err)
		}
		if !has {
			s.emptied = append(s.emptied, t)
		}
	}
	for _, r := range after.sequencesBack(before) {
		col := pgx.Identifier{r.column}.Sanitize()
		var top *int64
		if err := conn.QueryRow(ctx, "SELECT max("+col+")::int8 FROM "+pgx.Identifier{r.table}.Sanitize()).Scan(&top); err != nil {
			continue // a column that is no integer: no collision to foresee
		}
		if top != nil && r.next <= *top {
			r.max = *top
			s.sequencesBack = append(s.sequencesBack, r)
		}
	}
	return nil
}

// attribute gives each wait of the probe to the statement that made it wait: in a transaction,
// the first statement so far that holds a lock on the table conflicting with the probe's (for a
// row, one that wrote the table); outside one, the statement itself.
func (o *observer) attribute(s *Statement, waits []Wait) {
	for _, w := range waits {
		by := s
		if s.inTransaction {
			for _, t := range o.open {
				if t.conflicts(w) {
					by = t
					break
				}
			}
		}
		by.Blocked = append(by.Blocked, w)
	}
}

// conflicts: s holds a lock on the wait's table that the probe's statement waits for.
func (s *Statement) conflicts(w Wait) bool {
	for _, lk := range s.Locks {
		if lk.Table != w.Table {
			continue
		}
		if w.rowLock && slices.Index(pglock.Modes, lk.Mode) >= slices.Index(pglock.Modes, "RowExclusiveLock") {
			return true
		}
		if !w.rowLock && conflictsWith(lk.Mode, w.needs()) {
			return true
		}
	}
	return false
}

// FileDone ends the transaction of a transactional file: its statements' locks were held until
// now, less the time lint spent measuring after they took them.
func (o *observer) FileDone(ctx context.Context, mig migrate.Migration, err error) {
	end := time.Now()
	for _, s := range o.open {
		s.untilEnd = end.Sub(s.start) - (o.measuring - s.measuredBefore)
		for i := range s.Locks {
			s.Locks[i].Hold = s.untilEnd
		}
	}
	o.open, o.measuring = nil, 0
}

// tableCounts are a table's activity counters (pg_stat_user_tables): what a statement read and
// wrote is the difference across it.
type tableCounts struct{ seqScan, tupRead, idxFetch, inserted, updated, deleted int64 }

// scans reads the activity counters of the tables: the transaction's own inside one, the
// server's (flushed first) outside.
func (l *linter) scans(ctx context.Context, conn *pgx.Conn, inTransaction bool) (map[string]tableCounts, error) {
	view := "pg_stat_xact_user_tables"
	if !inTransaction {
		view = "pg_stat_user_tables"
		// The counts of the statement that just ran reach the shared statistics when its
		// session goes idle after this.
		if _, err := conn.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
			return nil, fmt.Errorf("flush the statistics: %w", err)
		}
	}
	rows, err := conn.Query(ctx, `SELECT relname, coalesce(seq_scan, 0), coalesce(seq_tup_read, 0), coalesce(idx_tup_fetch, 0),
       n_tup_ins, n_tup_upd, n_tup_del FROM `+view+` WHERE schemaname = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("read the scan counters: %w", err)
	}
	out := map[string]tableCounts{}
	var t string
	var sc tableCounts
	_, err = pgx.ForEachRow(rows, []any{&t, &sc.seqScan, &sc.tupRead, &sc.idxFetch, &sc.inserted, &sc.updated, &sc.deleted},
		func() error { out[t] = sc; return nil })
	return out, err
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
		return slices.Index(pglock.Modes, ls[i].Mode) > slices.Index(pglock.Modes, ls[j].Mode)
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
