package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pglock"
)

// Rule is one thing a migration must not do to a table live traffic uses.
type Rule struct {
	ID     string // stable: used in "-- migrator:allow ID: reason" and in the JSON report
	Reason string // why it hurts, in one line
	Fix    string // what to write instead
}

// The rules, in the order the report lists them. The first two hold every file, post-deploy ones
// included, to the two budgets: how long the application's reads and writes may stand still.
var Rules = []Rule{
	{"long-blocking-lock", "a lock that blocks the application's writes (SHARE or stronger) or reads (ACCESS EXCLUSIVE) was held on a populated table longer than --max-lock-hold: every such statement waits that long",
		"split the work: change the catalog in one short statement (ADD ... NOT VALID, ADD COLUMN without a volatile default) and do the long part (VALIDATE, backfill in batches) after it, outside that lock"},
	{"blocks-traffic", "a read or write of the application's waited longer than --max-block for a lock this statement holds (a table lock or the rows it changed): requests stall, and time out where the services set a lock_timeout",
		"keep each transaction that locks live rows or tables short: backfill in batches of a few thousand rows with a commit after each (a -- migrator:no-transaction file, or one batch per statement), and take strong locks only for catalog changes"},
	{"breaks-running-app", "a statement of the application's (queries.sql) that worked before the file fails after it: the version still serving runs it on its next request and fails",
		"expand and contract: keep what the running version uses (add the new column or table beside the old one, write both), roll the application out, then remove the old one in a file marked -- migrator:post-deploy"},
	{"drops-table", "a table the running application may still use was dropped (the application's statements do not show it using it: lint cannot prove it does not)",
		"drop it in a -- migrator:post-deploy file, after a release that no longer uses it; add the statements that use it to queries.sql"},
	{"drops-column", "a column the running application may still read or write was dropped (the application's statements do not show it: lint cannot prove nothing uses it)",
		"drop it in a -- migrator:post-deploy file, after a release that no longer uses it"},
	{"renames-table", "a table was renamed: every statement of the running version that names it fails",
		"create the new table (or a view under the new name), roll the application out, then drop the old name in a -- migrator:post-deploy file"},
	{"renames-column", "a column was renamed: every statement of the running version that names it fails",
		"add the new column, write both and backfill, roll the application out, then drop the old column in a -- migrator:post-deploy file"},
	{"narrows-type", "a column's type was narrowed (e.g. varchar(255) to varchar(50)): the ALTER fails on a longer value in production, or a USING clause cuts it, and the running application's longer writes start failing",
		"keep the wider type and enforce the new limit with a CHECK (... ) NOT VALID, then VALIDATE it; or add a narrower column beside the old one and move the data in batches"},
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

// postDeployReported are the rules a post-deploy file reports without failing: the application
// that still used what it removes has been rolled out by then.
var postDeployReported = []string{"breaks-running-app", "drops-table", "drops-column", "renames-table", "renames-column"}

// recheckFix is scan-under-write-lock's fix for an ALTER COLUMN TYPE that checks the column's
// constraints again.
const recheckFix = "in one transaction drop the constraint, change the type and add the constraint back NOT VALID (catalog changes only); VALIDATE CONSTRAINT in a later statement, which lets writes through"

// reindexFix is scan-under-write-lock's fix for a statement that rebuilt indexes in place.
const reindexFix = "REINDEX ... CONCURRENTLY (or CREATE INDEX CONCURRENTLY beside the old index, then DROP INDEX CONCURRENTLY), in a file with -- migrator:no-transaction"

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
	Fix     string `json:"fix,omitempty"`     // for this statement, where the rule's own fix does not fit it
	Allowed string `json:"allowed,omitempty"` // the reason of the file's allow directive, if one covers it
}

// writeBlocking are the table lock modes that block INSERT, UPDATE and DELETE.
var writeBlocking = []string{"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}

// evaluate applies the rules that need what was measured to one statement of mig.
func (l *linter) evaluate(s *Statement, populated map[string]int64, mig migrate.Migration) {
	isPopulated := func(t string) bool { return populated[t] > 0 }
	for _, lk := range s.Locks {
		if slices.Contains(writeBlocking, lk.Mode) && isPopulated(lk.Table) && lk.Hold > l.opts.MaxLockHold {
			blocks := "writes"
			if lk.Mode == "AccessExclusiveLock" {
				blocks = "reads and writes"
			}
			s.add("long-blocking-lock", fmt.Sprintf("%s: %s held %s, blocking its %s (limit %s)", lk.Table, modeName(lk.Mode), round(lk.Hold), blocks, l.opts.MaxLockHold))
		}
	}
	for _, w := range s.Blocked {
		s.add("blocks-traffic", fmt.Sprintf("the application's %s of %s (%s) waited %s for %s%s (limit %s)",
			w.Kind, w.Table, w.SQL, round(w.Took), w.Lock, heldBy(s, w), l.opts.MaxBlock))
	}
	for _, b := range s.breaks {
		s.add("breaks-running-app", fmt.Sprintf("%s (queries.sql:%d) %s: %s", b.query.Name, b.query.Line, summary(b.query.SQL), b.err))
	}
	if len(s.breaks) == 0 { // the static backstops, where the application's statements are silent
		for _, t := range s.droppedTables {
			if isPopulated(t) {
				s.add("drops-table", fmt.Sprintf("%s (%d rows) dropped", t, populated[t]))
			}
		}
		for _, c := range s.droppedColumns {
			s.add("drops-column", c.String()+" dropped")
		}
		for _, r := range s.renamedTables {
			s.add("renames-table", r.String())
		}
		for _, r := range s.renamedColumns {
			s.add("renames-column", r.String())
		}
	}
	for _, n := range s.narrowedColumns {
		s.add("narrows-type", fmt.Sprintf("%s from %s to %s", n.relation, n.from, n.to))
	}
	for _, t := range s.Rewrote {
		if isPopulated(t) {
			s.add("table-rewrite", fmt.Sprintf("%s (%d rows) rewritten", t, populated[t]))
		}
	}
	for _, t := range s.Scanned {
		if slices.Contains(s.Rewrote, t) || slices.ContainsFunc(s.newIndexes, func(ix relation) bool { return ix.table == t }) ||
			slices.ContainsFunc(s.newValidConstraints, func(c relation) bool { return c.table == t }) {
			continue // a rewrite, an index build or a validated constraint reads the table in full: their own rules say so
		}
		if mode := s.strongestLock(t); isPopulated(t) && slices.Contains(writeBlocking, mode) {
			detail := fmt.Sprintf("%s (%d rows) read in full under %s", t, populated[t], modeName(mode))
			if checked := namesOn(s.rebuiltConstraints, t); len(checked) > 0 {
				s.addWithFix("scan-under-write-lock", detail+" to check "+strings.Join(checked, ", ")+" again", recheckFix)
				continue
			}
			if rebuilt := namesOn(s.rebuiltIndexes, t); len(rebuilt) > 0 {
				s.addWithFix("scan-under-write-lock", detail+" to rebuild "+strings.Join(rebuilt, ", "), reindexFix)
				continue
			}
			s.add("scan-under-write-lock", detail)
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
	if mig.PostDeploy {
		for i, f := range s.Findings {
			if slices.Contains(postDeployReported, f.Rule) {
				s.Findings[i].Allowed = "post-deploy file: it runs after the rollout, so the application must no longer use this"
			}
		}
	}
}

// heldBy says which lock of s the wait was for.
func heldBy(s *Statement, w Wait) string {
	if w.rowLock {
		return ", held by this statement's transaction"
	}
	for _, lk := range s.Locks {
		if lk.Table == w.Table && conflictsWith(lk.Mode, w.needs()) {
			return ", which this statement's " + modeName(lk.Mode) + " lock blocks"
		}
	}
	return ""
}

// namesOn names the indexes or constraints of table among rels.
func namesOn(rels []relation, table string) []string {
	var out []string
	for _, r := range rels {
		if r.table == table {
			out = append(out, r.name)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Statement) add(rule, detail string) {
	s.Findings = append(s.Findings, Finding{Rule: rule, Detail: detail})
}

func (s *Statement) addWithFix(rule, detail, fix string) {
	s.Findings = append(s.Findings, Finding{Rule: rule, Detail: detail, Fix: fix})
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

// conflictsWith: a lock held in mode held makes a request for mode wanted wait.
func conflictsWith(held, wanted string) bool { return pglock.Conflicts(held, wanted) }
