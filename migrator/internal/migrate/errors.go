package migrate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// DriftError means the database and the migration files disagree about what was applied: a
// file changed after it ran, the database has versions this binary does not know, or files
// are pending below a version already applied. Nothing was changed.
type DriftError struct {
	Problems []string
}

func (e *DriftError) Error() string {
	// The first line is what the termination message shows: it names the first file.
	if len(e.Problems) == 0 {
		return "the database's migration history does not match the migration files; nothing was applied"
	}
	first := e.Problems[0]
	if len(e.Problems) > 1 {
		first += fmt.Sprintf(" (and %d more problem(s))", len(e.Problems)-1)
	}
	return "the database's migration history does not match the migration files, nothing was applied: " + first +
		"\n  - " + strings.Join(e.Problems, "\n  - ")
}

// AdoptError means tables of the Carthub schema exist without a history table, but they are not
// the legacy baseline, so the migrator cannot tell what state they are in.
type AdoptError struct {
	Report string
}

func (e *AdoptError) Error() string {
	return "found Carthub tables but no migration history, and they differ from the legacy baseline " +
		"(0001_baseline), so they cannot be adopted; nothing was changed. Differences:\n" + e.Report +
		"\n  Do not alter the tables to make this pass. If this database was migrated before, its history table (" +
		DefaultHistoryTable + ") is missing: restore it from a backup or the pre-migration snapshot, then run again " +
		"(`migrator verify` says which version the tables match). If these are legacy tables someone changed, " +
		"find out what and why with their owner before anything runs."
}

// LockError means another migrator held the migration lock for longer than --lock-wait.
type LockError struct {
	Waited time.Duration
	Holder string
}

func (e *LockError) Error() string {
	return fmt.Sprintf("could not take the migration lock within %s: %s holds it. Let it finish, "+
		"or raise --lock-wait; nothing was applied", e.Waited.Round(time.Millisecond), e.Holder)
}

// OwnershipError means the legacy tables belong to a role the migrator's role is not a member
// of, so the migrations could not alter them. Nothing was changed.
type OwnershipError struct {
	Role   string   // the migrator's role
	Tables []string // "table (owner role)"
	Fix    []string // statements an owner or administrator can run
}

func (e *OwnershipError) Error() string {
	return fmt.Sprintf("the legacy tables cannot be adopted: role %s does not own %s, and the migrations must alter them; "+
		"nothing was changed. As their owner or an administrator, run:\n  %s\n(or GRANT the owning role to %s), then run the migrator again",
		e.Role, strings.Join(e.Tables, ", "), strings.Join(e.Fix, "\n  "), e.Role)
}

// PoolerError means the connection goes through a transaction-mode connection pooler (or
// anything else that moves statements between server sessions), where the session-level
// migration lock protects nothing. Nothing was changed.
type PoolerError struct {
	Found string
}

func (e *PoolerError) Error() string {
	return "the connection goes through a transaction-mode connection pooler (" + e.Found + "), so the migration lock " +
		"cannot keep two migrators apart; nothing was changed. Connect the migrator to the database directly " +
		"(the RDS endpoint, port 5432), or through a pooler in session mode (pgbouncer pool_mode = session)"
}

// PartialError reports a run that applied some migrations and then failed on one. The failed
// migration's transaction was rolled back (for a no-transaction file, its statements before
// the failing one stay applied and are run again next time).
type PartialError struct {
	Applied []Migration
	Failed  Migration
	Err     error
}

func (e *PartialError) Error() string {
	ids := make([]string, len(e.Applied))
	for i, m := range e.Applied {
		ids[i] = m.ID()
	}
	done := "none"
	if len(ids) > 0 {
		done = strings.Join(ids, ", ")
	}
	return fmt.Sprintf("migration %s failed (applied before it in this run: %s): %v", e.Failed.ID(), done, e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }

// StatementError is a statement that the server rejected, with the place in its file.
type StatementError struct {
	File      string
	Statement sqlscript.Statement
	Err       error
}

func (e *StatementError) Unwrap() error { return e.Err }

func (e *StatementError) Error() string {
	var pgErr *pgconn.PgError
	if !errors.As(e.Err, &pgErr) {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Statement.Line, e.Err)
	}
	// Without a position (many DDL errors) point at the start of the statement.
	line, col, text := sqlscript.Locate(e.Statement, max(int(pgErr.Position), 1))
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: %s: %s (SQLSTATE %s)", e.File, line, col, pgErr.Severity, pgErr.Message, pgErr.Code)
	if pgErr.Detail != "" {
		b.WriteString("\n  DETAIL: " + pgErr.Detail)
	}
	if pgErr.Hint != "" {
		b.WriteString("\n  HINT: " + pgErr.Hint)
	}
	b.WriteString("\n" + sqlscript.Caret(line, col, text))
	return b.String()
}

// isLockTimeout reports a statement that gave up waiting for a lock (lock_timeout).
func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}
