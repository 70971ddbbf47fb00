package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pglock"
)

// Rule is one thing a migration must not do to what live traffic uses. Each rule lives in its
// own file, rule_<id>.go: its texts and its check; its bad and safe cases in testdata/<id>/.
type Rule struct {
	ID     string // stable: used in "-- migrator:allow ID: reason" and in the JSON report
	Reason string // why it hurts, in one line
	Fix    string // what to write instead
	// check adds the rule's findings to a statement from what was measured (nil: the finding is
	// added where it is seen, e.g. not-rerunnable by the second run).
	check func(j *judge, s *Statement)
}

// Rules are the rules, in the order the report lists them. The first two hold every file,
// post-deploy ones included, to the two budgets: how long the application's reads and writes
// may stand still, at production's size.
var Rules = []Rule{
	longBlockingLock, blocksTraffic, breaksRunningApp, appStatementNotRun, hidesRows, slowsRunningApp,
	dropsTable, dropsColumn, renamesTable, renamesColumn, narrowsType, emptiesTable, tableRewrite,
	scanUnderWriteLock, blockingIndexBuild, concurrentIndexInTransaction, concurrentIndexWithoutIfExists,
	notRerunnable, constraintWithoutNotValid, volatileDefault, revokesPrivilege, resetsSequence,
}

// postDeployReported are the rules a post-deploy file reports without failing: the application
// that still used what it removes has been rolled out by then.
var postDeployReported = []string{"breaks-running-app", "hides-rows", "drops-table", "drops-column", "renames-table",
	"renames-column", "revokes-privilege", "slows-running-app", "app-statement-not-run"}

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

// explain is why the finding's rule exists and what to do, the finding's own fix where it has one.
func (fd Finding) explain() (why, fix string) {
	rule, _ := RuleByID(fd.Rule)
	if fd.Fix != "" {
		return rule.Reason, fd.Fix
	}
	return rule.Reason, rule.Fix
}

// judge is what the rules judge a statement of a file by.
type judge struct {
	opts      Options
	populated map[string]int64 // the dataset's rows per table when the file started
	mig       migrate.Migration
	matviews  map[string]bool
}

func (j *judge) matview(t string) bool { return j.matviews[t] }

func (j *judge) isPopulated(t string) bool { return j.populated[t] > 0 }

// production says how many rows table has in production, for a finding's detail.
func (j *judge) production(t string) string {
	return fmt.Sprintf("%s rows in production", thousands(j.opts.productionRows(t)))
}

// writeBlocking are the table lock modes that block INSERT, UPDATE and DELETE.
var writeBlocking = []string{"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}

// evaluate applies every rule to one statement of the file.
func (j *judge) evaluate(s *Statement) {
	for _, r := range Rules {
		if r.check != nil {
			r.check(j, s)
		}
	}
	if j.mig.PostDeploy {
		for i, f := range s.Findings {
			if slices.Contains(postDeployReported, f.Rule) {
				s.Findings[i].Allowed = "post-deploy file: it runs after the rollout, so the application must no longer use this"
			}
		}
	}
}

// has: the statement already has a finding of rule about table.
func (s *Statement) has(rule, table string) bool {
	return slices.ContainsFunc(s.Findings, func(f Finding) bool {
		return f.Rule == rule && (table == "" || strings.HasPrefix(f.Detail, table+":") || strings.HasPrefix(f.Detail, table+" "))
	})
}

// heldMode is the strongest lock the statement's transaction holds on table once the statement
// has run ("" if none): a lock taken by an earlier statement of the same transaction is held
// still.
func (s *Statement) heldMode(table string) string {
	if m, ok := s.held[table]; ok {
		return m
	}
	return s.strongestLock(table)
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

// measuredAndProjected says a time as lint measured it and as it projects it to production.
func measuredAndProjected(measured, projected time.Duration) string {
	if round(projected) == round(measured) {
		return round(measured).String()
	}
	return fmt.Sprintf("%s here, %s projected to production", round(measured), round(projected))
}

// thousands writes n with thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
