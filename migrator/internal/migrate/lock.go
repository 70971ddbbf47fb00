package migrate

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockKey identifies the migration lock among advisory locks ("carthub" in ASCII). Advisory
// locks are per database, so migrators of different databases never wait for each other.
const lockKey int64 = 0x63617274687562

// lockPoll is how often a waiting migrator tries the lock again.
const lockPoll = 250 * time.Millisecond

// Lock takes the session-level migration lock, polling pg_try_advisory_lock until LockWait has
// passed. It never blocks inside the server: a backend blocked on pg_advisory_lock would hold a
// snapshot that the lock holder's CREATE INDEX CONCURRENTLY must wait for, a deadlock.
// The returned release runs even after ctx is cancelled.
func (m *Migrator) Lock(ctx context.Context) (release func(), err error) {
	start := time.Now()
	logged := false
	for {
		var ok bool
		if err := m.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", pgx.QueryExecModeSimpleProtocol, lockKey).Scan(&ok); err != nil {
			return nil, fmt.Errorf("take migration lock: %w", err)
		}
		if ok {
			m.opts.Logger.DebugContext(ctx, "took migration lock", "waited_ms", time.Since(start).Milliseconds())
			return func() { m.unlock(ctx) }, nil
		}
		if time.Since(start) >= m.opts.LockWait {
			return nil, &LockError{Waited: time.Since(start), Holder: m.lockHolder(ctx)}
		}
		if !logged {
			m.opts.Logger.InfoContext(ctx, "waiting for the migration lock", "holder", m.lockHolder(ctx), "lock_wait", m.opts.LockWait.String())
			logged = true
		}
		if err := sleep(ctx, min(lockPoll, m.opts.LockWait-time.Since(start)+time.Millisecond)); err != nil {
			return nil, err
		}
	}
}

func (m *Migrator) unlock(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if m.conn.IsClosed() {
		return // the server released the session lock with the session
	}
	if _, err := m.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", pgx.QueryExecModeSimpleProtocol, lockKey); err != nil {
		m.opts.Logger.WarnContext(ctx, "release migration lock; it goes with the session anyway", "error", err)
	}
}

// lockHolder describes the session holding the lock, for messages.
func (m *Migrator) lockHolder(ctx context.Context) string {
	var pid int
	var app, addr string
	var since time.Time
	err := m.conn.QueryRow(ctx, `SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'), a.backend_start
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND ((l.classid::bigint << 32) | l.objid::bigint) = $1
 LIMIT 1`, pgx.QueryExecModeSimpleProtocol, lockKey).Scan(&pid, &app, &addr, &since)
	if err != nil {
		return "another session"
	}
	return fmt.Sprintf("another session (pid %d, application %q, from %s, connected %s)", pid, app, addr, since.UTC().Format(time.RFC3339))
}
