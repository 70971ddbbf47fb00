package preflight

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pglock"
)

// Session is a live session in the way of a lock the pending files take: it holds (or waits for)
// a lock that conflicts with it, or, for a statement that waits for every transaction on the
// table (CREATE INDEX CONCURRENTLY), it has a transaction open with any lock there.
type Session struct {
	PID         int32
	Application string
	Client      string
	State       string // pg_stat_activity.state: active, idle in transaction, ...
	XactAge     time.Duration
	Table       string
	Mode        string // the lock it holds or waits for
	Granted     bool
	Query       string // the first line of its current or last query, string literals blanked
	Needs       Lock   // what of ours it is in the way of
}

// IdleInTransaction: it holds its locks while doing nothing.
func (s Session) IdleInTransaction() bool { return strings.HasPrefix(s.State, "idle in transaction") }

// TerminateCommand is what an operator may run to end the session; the migrator never does.
func (s Session) TerminateCommand() string {
	return fmt.Sprintf("SELECT pg_terminate_backend(%d);", s.PID)
}

func (s Session) String() string {
	held := "holds"
	if !s.Granted {
		held = "waits for"
	}
	return fmt.Sprintf("pid %d (%s, %s, %s, transaction open %s) %s %s on %s, in the way of %s's %s: %s",
		s.PID, orNone(s.Application), orNone(s.Client), s.State, s.XactAge.Round(time.Second), held, s.Mode, s.Table, s.Needs.File, s.Needs.Mode, s.Query)
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// InTheWay lists the sessions in the way of the locks in tables (by table name), oldest
// transaction first. It reads pg_locks and pg_stat_activity and changes nothing.
func InTheWay(ctx context.Context, conn *pgx.Conn, tables map[string]Lock) ([]Session, error) {
	if len(tables) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	rows, err := conn.Query(ctx, `SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), ''), coalesce(a.state, ''),
       coalesce(extract(epoch FROM clock_timestamp() - a.xact_start), 0)::float8, c.relname, l.mode, l.granted, coalesce(a.query, '')
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1) AND l.pid <> pg_backend_pid()`, names)
	if err != nil {
		return nil, fmt.Errorf("pre-flight: read the sessions on %s: %w", strings.Join(names, ", "), err)
	}
	var (
		out []Session
		s   Session
		age float64
	)
	if _, err := pgx.ForEachRow(rows, []any{&s.PID, &s.Application, &s.Client, &s.State, &age, &s.Table, &s.Mode, &s.Granted, &s.Query}, func() error {
		// A relation lock is held inside a transaction: for a statement that waits for every
		// transaction on the table, any lock there is in the way.
		need := tables[s.Table]
		if conflictsWithAny(s.Mode, need) || need.Waits {
			s.XactAge = time.Duration(age * float64(time.Second))
			s.Query = firstLine(s.Query)
			s.Needs = need
			out = append(out, s)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pre-flight: read the sessions: %w", err)
	}
	// A concurrent index build also waits for every transaction in the database that holds a
	// snapshot older than its own, on whatever table: those are in its way too.
	var concurrent *Lock
	for _, l := range tables {
		if l.Waits {
			concurrent = &l
			break
		}
	}
	if concurrent != nil {
		listed := map[int32]bool{}
		for _, s := range out {
			listed[s.PID] = true
		}
		rows, err := conn.Query(ctx, `SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), ''), coalesce(a.state, ''),
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8, coalesce(a.query, '')
  FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
   AND a.xact_start IS NOT NULL AND (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL)`)
		if err != nil {
			return nil, fmt.Errorf("pre-flight: read the open transactions: %w", err)
		}
		if _, err := pgx.ForEachRow(rows, []any{&s.PID, &s.Application, &s.Client, &s.State, &age, &s.Query}, func() error {
			if !listed[s.PID] {
				s.XactAge, s.Query, s.Needs = time.Duration(age*float64(time.Second)), firstLine(s.Query), *concurrent
				s.Table, s.Mode, s.Granted = "(any table)", "a snapshot older than the build", true
				out = append(out, s)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("pre-flight: read the open transactions: %w", err)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].XactAge > out[j].XactAge })
	return out, nil
}

// conflictsWithAny: a lock held in mode held makes one of need's modes wait.
func conflictsWithAny(held string, need Lock) bool {
	for _, m := range need.Modes {
		if pglock.Conflicts(held, m) {
			return true
		}
	}
	return false
}

// literals are SQL string literals, which may hold anything (a password in an ALTER ROLE).
var literals = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`'(?:[^']|'')*'`) })

// firstLine is the first non-empty line of a query, at most 120 characters, its string
// literals blanked.
func firstLine(q string) string {
	q = literals().ReplaceAllString(q, "'…'")
	for _, line := range strings.Split(q, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if r := []rune(line); len(r) > 120 {
				return string(r[:120]) + "…"
			}
			return line
		}
	}
	return ""
}

// Oldest is the longest transaction among sessions (0 without any).
func Oldest(sessions []Session) time.Duration {
	var oldest time.Duration
	for _, s := range sessions {
		oldest = max(oldest, s.XactAge)
	}
	return oldest
}

// WaitOut polls InTheWay every poll until no session is in the way or bound has passed, and
// returns the sessions still there.
func WaitOut(ctx context.Context, conn *pgx.Conn, tables map[string]Lock, bound, poll time.Duration) ([]Session, error) {
	deadline := time.Now().Add(bound)
	for {
		sessions, err := InTheWay(ctx, conn, tables)
		if err != nil || len(sessions) == 0 || !time.Now().Before(deadline) {
			return sessions, err
		}
		select {
		case <-ctx.Done():
			return sessions, ctx.Err()
		case <-time.After(min(poll, time.Until(deadline))):
		}
	}
}
