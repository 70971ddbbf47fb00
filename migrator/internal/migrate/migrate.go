// Package migrate applies versioned SQL migrations to PostgreSQL: it loads them strictly, keeps
// a history table with checksums, serialises migrators with an advisory lock, adopts the legacy
// schema, and applies each file with lock_timeout and bounded retries.
package migrate

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/schema"
)

// Options configure a Migrator. A zero means zero (no wait, no retry); the CLI's flags hold the
// defaults users get.
type Options struct {
	Migrations   []Migration     // required, as returned by Load
	Baseline     schema.Snapshot // the schema 0001 produces; enables adopting legacy databases
	HistoryTable string          // default DefaultHistoryTable
	// Tables are the tables the migrations own; invalid indexes on them are dropped before a rerun.
	Tables []string
	// LockWait bounds how long to poll for the advisory lock (0: try once).
	LockWait time.Duration
	// LockRetries is how many times a migration that hit lock_timeout is tried again.
	LockRetries int
	// RetryBackoff is the first pause after a lock_timeout; it doubles, with jitter.
	RetryBackoff time.Duration
	AppliedBy    string // who applies, recorded in the history (default "carthub-migrator")
	// WaitReport is how often a waiting concurrent index operation is logged (0: never).
	WaitReport time.Duration
	Logger     *slog.Logger
}

// Migrator runs migrations over one connection. It is not safe for concurrent use.
type Migrator struct {
	conn *pgx.Conn
	opts Options
	// schema holds the history table, read under the lock (see table).
	schema string
	// partial is the partial history row of each version, from the last prepare.
	partial map[int]Applied
	// owner is the token that marks the server session holding the lock (see Lock).
	owner string
	// observer sees each statement during Up or Down (Hooks.Observer).
	observer Observer
}

// New validates the options and returns a Migrator on conn.
func New(conn *pgx.Conn, opts Options) (*Migrator, error) {
	if len(opts.Migrations) == 0 {
		return nil, errors.New("migrate: no migrations given")
	}
	for i, m := range opts.Migrations {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrate: migrations must be numbered 1..n in order, %s is at position %d", m.File, i+1)
		}
	}
	opts.HistoryTable = opts.History()
	if opts.LockWait < 0 || opts.LockRetries < 0 || opts.RetryBackoff < 0 {
		return nil, errors.New("migrate: lock wait, lock retries and retry backoff must not be negative")
	}
	if opts.AppliedBy == "" {
		opts.AppliedBy = "carthub-migrator"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Migrator{conn: conn, opts: opts}, nil
}

// Alone is o for a database no other session uses (a scratch copy): no lock waits, retries or
// wait reports, and logger (nil: a silent one).
func (o Options) Alone(logger *slog.Logger) Options {
	o.LockWait, o.LockRetries, o.RetryBackoff, o.WaitReport = 0, 0, 0, 0
	if o.Logger = logger; o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// History is the history table's name: HistoryTable, or the default.
func (o Options) History() string {
	if o.HistoryTable == "" {
		return DefaultHistoryTable
	}
	return o.HistoryTable
}

// Options are the options the Migrator was made with (defaults filled in).
func (m *Migrator) Options() Options { return m.opts }

// Latest is the highest version the migrator knows.
func (m *Migrator) Latest() int { return len(m.opts.Migrations) }

// Migrations are the known migrations in version order.
func (m *Migrator) Migrations() []Migration { return m.opts.Migrations }
