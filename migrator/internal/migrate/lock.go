package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
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
//
// The lock belongs to a server session. Behind a transaction-mode pooler (pgbouncer
// pool_mode=transaction) each statement may run on another server session, so the lock would
// guard nothing: two migrators could run the same file at once. The backend that takes the lock
// is therefore marked with this migrator's token (a session setting), and Lock refuses with a
// *PoolerError, before anything changes, when the token shows up where it should not: on a
// backend another migrator's statement reached, or on the backend of a second connection.
func (m *Migrator) Lock(ctx context.Context) (release func(), err error) {
	start := time.Now()
	logged := false
	m.owner = randomToken()
	if err := m.detectPooler(ctx); err != nil {
		return nil, err
	}
	for {
		var got string
		if err := m.conn.QueryRow(ctx, `SELECT CASE
  WHEN coalesce(current_setting('`+ownerSetting+`', true), '') NOT IN ('', $2) THEN 'pooled'
  WHEN pg_try_advisory_lock($1) THEN set_config('`+ownerSetting+`', $2, false)
  ELSE '' END`, pgx.QueryExecModeSimpleProtocol, lockKey, m.owner).Scan(&got); err != nil {
			return nil, fmt.Errorf("take migration lock: %w", err)
		}
		if got == "pooled" {
			return nil, &PoolerError{Found: "the server session this statement ran on holds another migrator's lock"}
		}
		if got == m.owner {
			if err := m.CheckLockHeld(ctx, m.conn); err != nil {
				m.unlockPooled(ctx)
				return nil, err
			}
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
	if _, err := m.conn.Exec(ctx, unlockSQL, pgx.QueryExecModeSimpleProtocol, lockKey, m.owner); err != nil {
		m.opts.Logger.WarnContext(ctx, "release migration lock; it goes with the session anyway", "error", err)
	}
}

// ownerSetting marks the server session that holds the migration lock with the holder's token.
const ownerSetting = "carthub.migration_lock_owner"

// unlockSQL releases the lock only on a session marked with our token, and clears the mark.
const unlockSQL = `SELECT CASE WHEN current_setting('` + ownerSetting + `', true) = $2
  THEN pg_advisory_unlock($1) AND set_config('` + ownerSetting + `', '', false) = '' END`

// detectPooler runs before the lock is taken, so a refusal leaves nothing behind. When the server
// sees this connection arrive from the port it leaves from, nothing sits in between and no pooler
// is possible (one query, which also marks the session with our token). Otherwise a proxy or a
// pooler does: a plain TCP proxy keeps one server session per connection, a transaction pooler
// does not, so the session must keep our mark across transactions and a second connection must
// not see it (a pooler hands a new client the idle session it has just used).
func (m *Migrator) detectPooler(ctx context.Context) error {
	var port, pid int
	// current_schema rides along: prepare qualifies the history table with it.
	if err := m.conn.QueryRow(ctx, `SELECT coalesce(inet_client_port(), 0), pg_backend_pid(), set_config('`+ownerSetting+`', $1, false), current_schema()`,
		pgx.QueryExecModeSimpleProtocol, m.owner).Scan(&port, &pid, new(string), &m.schema); err != nil {
		return fmt.Errorf("check for a connection pooler: %w", err)
	}
	local, ok := m.conn.PgConn().Conn().LocalAddr().(*net.TCPAddr)
	if !ok || port == 0 || port == local.Port {
		return nil // a Unix socket, or a direct TCP connection
	}
	probe, err := pgx.ConnectConfig(ctx, m.conn.Config().Copy())
	if err != nil {
		return fmt.Errorf("open a second connection to check for a connection pooler: %w", err)
	}
	defer probe.Close(context.WithoutCancel(ctx))
	// Under a pooler's load another client may take our session back and forth: look often
	// enough (only connections through a proxy pay for this) to see it move.
	for round := range poolerRounds {
		if round > 0 {
			if err := sleep(ctx, time.Millisecond); err != nil {
				return err
			}
		}
		var mark string
		var again int
		if err := probe.QueryRow(ctx, `SELECT coalesce(current_setting('`+ownerSetting+`', true), '')`, pgx.QueryExecModeSimpleProtocol).Scan(&mark); err != nil {
			return fmt.Errorf("check for a connection pooler: %w", err)
		}
		if mark == m.owner {
			return &PoolerError{Found: "a second connection reached this connection's server session"}
		}
		if err := m.conn.QueryRow(ctx, `SELECT pg_backend_pid(), coalesce(current_setting('`+ownerSetting+`', true), '')`,
			pgx.QueryExecModeSimpleProtocol).Scan(&again, &mark); err != nil {
			return fmt.Errorf("check for a connection pooler: %w", err)
		}
		if again != pid || mark != m.owner {
			return &PoolerError{Found: "consecutive statements ran on different server sessions"}
		}
	}
	m.opts.Logger.InfoContext(ctx, "a proxy sits between the migrator and PostgreSQL; it keeps one server session per connection, so the lock holds",
		"client_port", local.Port, "server_sees_port", port)
	return nil
}

// poolerRounds is how many times detectPooler compares server sessions behind a proxy.
const poolerRounds = 20

// unlockPooled tries to release a lock taken behind a pooler: each statement may land on another
// server session, and only the one marked with our token holds the lock.
func (m *Migrator) unlockPooled(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for range 8 {
		var released *bool
		if err := m.conn.QueryRow(ctx, unlockSQL, pgx.QueryExecModeSimpleProtocol, lockKey, m.owner).Scan(&released); err != nil || (released != nil && *released) {
			return
		}
	}
	m.opts.Logger.WarnContext(ctx, "could not release the migration lock on the pooled server session that holds it; it goes when the pooler closes that session")
}

// CheckLockHeld fails with a *PoolerError when q's statement does not run on the server session
// that took the lock. Run inside a transaction, it covers the whole transaction.
func (m *Migrator) CheckLockHeld(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) error {
	if m.owner == "" {
		return nil // no lock taken (tests of the apply step alone)
	}
	var mine bool
	if err := q.QueryRow(ctx, `SELECT coalesce(current_setting('`+ownerSetting+`', true), '') = $1`,
		pgx.QueryExecModeSimpleProtocol, m.owner).Scan(&mine); err != nil {
		return fmt.Errorf("check the migration lock: %w", err)
	}
	if !mine {
		return &PoolerError{Found: "a statement ran on a server session that does not hold this migrator's lock"}
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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
