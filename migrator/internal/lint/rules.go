package lint

import (
	"fmt"
	"slices"
	"strings"
)

// Rule is one thing a migration must not do to a table live traffic uses.
type Rule struct {
	ID     string // stable: used in "-- migrator:allow ID: reason" and in the JSON report
	Reason string // why it hurts, in one line
	Fix    string // what to write instead
}

// The rules, in the order the report lists them.
var Rules = []Rule{
	{"long-exclusive-lock", "an ACCESS EXCLUSIVE lock on a populated table was held longer than --max-lock-hold: every read and write of the table waits that long",
		"split the work: change the catalog in one short statement (ADD ... NOT VALID, ADD COLUMN without a volatile default) and do the long part (VALIDATE, backfill in batches) after it, outside that lock"},
	{"table-rewrite", "a populated table was rewritten (new relfilenode) under ACCESS EXCLUSIVE: reads and writes wait for the whole copy",
		"add a new column, backfill it in batches and swap, or pick a change PostgreSQL does in place (e.g. varchar(n) to text, timestamp to timestamptz with timezone UTC)"},
	{"scan-under-write-lock", "a populated table was read in full while a lock that blocks writes was held on it",
		"prove the condition first with a validated CHECK (ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT, which lets writes through), then SET NOT NULL, which then skips the scan"},
	{"blocking-index-build", "CREATE INDEX without CONCURRENTLY on a populated table blocks every write until the build ends",
		"CREATE INDEX CONCURRENTLY IF NOT EXISTS, in a file with -- migrator:no-transaction"},
	{"concurrent-index-in-transaction", "a CONCURRENTLY index operation in a transactional file: PostgreSQL refuses to run it inside a transaction",
		"put it in its own file with -- migrator:no-transaction"},
	{"concurrent-index-without-if-exists", "a CONCURRENTLY index operation without IF [NOT] EXISTS: a rerun after an interruption fails on the index that is already there (or gone)",
		"CREATE INDEX CONCURRENTLY IF NOT EXISTS / DROP INDEX CONCURRENTLY IF EXISTS"},
	{"not-rerunnable", "a statement of a no-transaction file failed when the file ran a second time: a run interrupted after it cannot be resumed",
		"make each statement idempotent: IF [NOT] EXISTS, DROP ... IF EXISTS before ADD, WHERE clauses that skip done rows"},
	{"constraint-without-not-valid", "a CHECK or FOREIGN KEY constraint was added validated on a populated table: the validating scan runs under a lock that blocks writes",
		"ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later statement (it takes a lock that lets writes through)"},
	{"volatile-default", "ADD COLUMN with a volatile default (random(), clock_timestamp(), gen_random_uuid()) rewrites the populated table to store a value per row",
		"add the column without a default (or with a constant one), then backfill it in batches and SET DEFAULT afterwards"},
}

// RuleByID finds a rule.
func RuleByID(id string) (Rule, bool) {
	i := slices.IndexFunc(Rules, func(r Rule) bool { return r.ID == id })
	if i < 0 {
		return Rule{}, false
	}
	return Rules[i], true
}

// RuleIDs lists the rule ids, for messages.
func RuleIDs() string {
	ids := make([]string, len(Rules))
	for i, r := range Rules {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

// Finding is a rule a statement broke.
type Finding struct {
	Rule    string `json:"rule"`
	Detail  string `json:"detail"`            // what was seen, e.g. "orders: ACCESS EXCLUSIVE held 1.4s"
	Allowed string `json:"allowed,omitempty"` // the reason of the file's allow directive, if one covers it
}

// writeBlocking are the table lock modes that block INSERT, UPDATE and DELETE.
var writeBlocking = []string{"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}

// evaluate applies the rules that need what was measured to one statement.
func (l *linter) evaluate(s *Statement, populated map[string]int64) {
	isPopulated := func(t string) bool { return populated[t] > 0 }
	for _, lk := range s.Locks {
		if lk.Mode == "AccessExclusiveLock" && isPopulated(lk.Table) && lk.Hold > l.opts.MaxLockHold {
			s.add("long-exclusive-lock", fmt.Sprintf("%s: ACCESS EXCLUSIVE held %s (limit %s)", lk.Table, round(lk.Hold), l.opts.MaxLockHold))
		}
	}
	for _, t := range s.Rewrote {
		if isPopulated(t) {
			s.add("table-rewrite", fmt.Sprintf("%s (%d rows) rewritten", t, populated[t]))
		}
	}
	for _, t := range s.Scanned {
		if slices.Contains(s.Rewrote, t) || slices.ContainsFunc(s.newIndexes, func(ix relation) bool { return ix.table == t }) {
			continue // a rewrite or an index build reads the table in full: their own rules say so
		}
		if mode := s.strongestLock(t); isPopulated(t) && slices.Contains(writeBlocking, mode) {
			s.add("scan-under-write-lock", fmt.Sprintf("%s (%d rows) read in full under %s", t, populated[t], modeName(mode)))
		}
	}
	for _, ix := range s.newIndexes {
		if isPopulated(ix.table) && !s.concurrent {
			s.add("blocking-index-build", fmt.Sprintf("index %s built on %s (%d rows) without CONCURRENTLY", ix.name, ix.table, populated[ix.table]))
		}
	}
	for _, c := range s.newValidConstraints {
		if isPopulated(c.table) {
			s.add("constraint-without-not-valid", fmt.Sprintf("%s on %s (%d rows) added validated", c.name, c.table, populated[c.table]))
		}
	}
	for _, c := range s.volatileColumns {
		if isPopulated(c.table) {
			s.add("volatile-default", fmt.Sprintf("%s.%s added with a volatile default", c.table, c.name))
		}
	}
}

func (s *Statement) add(rule, detail string) {
	s.Findings = append(s.Findings, Finding{Rule: rule, Detail: detail})
}

// modeName turns pg_locks' "AccessExclusiveLock" into "ACCESS EXCLUSIVE".
func modeName(mode string) string {
	m := strings.TrimSuffix(mode, "Lock")
	var b strings.Builder
	for i, r := range m {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// lockStrength orders pg_locks' table lock modes, weakest first.
var lockStrength = []string{"AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
	"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}
