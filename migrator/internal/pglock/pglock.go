// Package pglock is PostgreSQL's table lock modes as pg_locks names them, and which conflict.
package pglock

import "slices"

// Modes are pg_locks' table lock modes, weakest first.
var Modes = []string{"AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
	"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}

// waitsFor is the manual's "Conflicting Lock Modes" table: the held modes each requested mode
// waits for.
var waitsFor = map[string][]string{
	"AccessShareLock":          {"AccessExclusiveLock"},
	"RowShareLock":             {"ExclusiveLock", "AccessExclusiveLock"},
	"RowExclusiveLock":         {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ShareUpdateExclusiveLock": {"ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ShareLock":                {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ShareRowExclusiveLock":    {"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"ExclusiveLock":            {"RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"},
	"AccessExclusiveLock":      Modes,
}

// Conflicts: a lock held in mode held makes a request for mode wanted wait.
func Conflicts(held, wanted string) bool { return slices.Contains(waitsFor[wanted], held) }

// Stronger is the stronger of two modes.
func Stronger(a, b string) string {
	if slices.Index(Modes, b) > slices.Index(Modes, a) {
		return b
	}
	return a
}
