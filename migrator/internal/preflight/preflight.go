// Package preflight looks at the live database before `up` takes the migration lock: it applies
// the pending files to an empty scratch database on the same server (holding the live schema:
// the migrations the live database has applied), reads from the catalog what each file adds
// or tightens (CHECK and FOREIGN KEY constraints, NOT NULL, UNIQUE and PRIMARY KEY indexes,
// narrowed column types) and which tables it locks in which mode, then counts the live rows that
// break each new rule (read-only, bounded by statement_timeout) and lists the sessions whose
// transaction or lock is in the way of those locks.
//
// The scratch database is made on the live server (CREATE DATABASE, which the RDS master user
// may do) rather than as a copy of the schema inside a rolled-back transaction: a transaction
// cannot hold the files that run outside one (CREATE INDEX CONCURRENTLY, a DO block that
// commits), and copying the live tables' definitions in the live database would take locks on
// them. In the scratch database every file runs as `up` runs it, on tables of its own.
package preflight

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
)

// Connector opens a session on the scratch database.
type Connector func(ctx context.Context) (*pgx.Conn, error)

// Scratch is what Derive needs to replay the files.
type Scratch struct {
	Connect Connector
	// Engine is the live migrator's options (the migrations, the history table); Derive applies
	// versions 1..Applied, then Pending, one file at a time.
	Engine  migrate.Options
	Applied int
	Pending []migrate.Migration
}

// Rule is something a pending file makes the rows obey, with the query that counts the live
// rows that do not.
type Rule struct {
	File  string // the pending file that adds it
	Kind  string // check, foreign-key, not-null, unique, primary-key, narrowed-type
	Table string // as the live database names it
	Name  string // the constraint, index or column
	Def   string // what it says, as the server renders it
	// cond is what a row that breaks the rule meets (over the table aliased t), example the
	// expression of such a row's key: CheckRows counts every rule with a cond on a table in one
	// pass over it, and reads examples only for the rules that fail.
	cond, example string
	// query, for a rule counted on its own (a unique key's duplicates, a foreign key's orphans),
	// returns per example the number of violating rows (the same on every row) and one example
	// key; no rows when there is no violation.
	query string
	// table and refTable are the rule's table and (a foreign key's) referenced table by oid in
	// the scratch database, to find them in the live catalog.
	table, refTable uint32
}

// Lock is a table a pending file locks: the strongest mode it takes there, and every mode (the
// modes are no ladder: SHARE and ROW EXCLUSIVE each conflict with what the other does not).
type Lock struct {
	File  string
	Table string
	Mode  string   // pg_locks' name, e.g. AccessExclusiveLock
	Modes []string // every mode taken, Mode among them
	// Waits: a statement that runs outside a transaction block (CREATE INDEX CONCURRENTLY)
	// waits for every transaction that holds a lock on the table, whatever the mode.
	Waits bool
}

// Derived is what the scratch run found.
type Derived struct {
	Rules []Rule
	Locks []Lock
	// Unchecked names changes no counting query can judge (a column type changed to another
	// type), so that the operator knows they were not checked.
	Unchecked []string
	Took      time.Duration
}

// Tables are the tables the pending files lock, each with the strongest mode.
func (d Derived) Tables() map[string]Lock {
	out := map[string]Lock{}
	for _, l := range d.Locks {
		prev := out[l.Table]
		modes := slices.Clone(prev.Modes)
		for _, m := range l.Modes {
			if !slices.Contains(modes, m) {
				modes = append(modes, m)
			}
		}
		out[l.Table] = Lock{File: l.File, Table: l.Table, Mode: strongest(modes), Modes: modes, Waits: prev.Waits || l.Waits}
	}
	return out
}
