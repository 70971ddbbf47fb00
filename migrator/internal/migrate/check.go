// The history check: what the database has applied, compared with the files, read without the lock.

package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// State is what the database has applied compared with the known migrations.
type State struct {
	HistoryExists bool
	// Outdated: the history table has the first release's shape; prepare upgrades it.
	Outdated bool
	Applied  []Applied   // applied and adopted rows, in version order
	Partial  []Applied   // no-transaction files that stopped part-way (their versions are pending)
	Pending  []Migration // in version order
	// Fresh: prepare found an empty database (no history, no legacy tables) and made the history.
	// Nothing was there before this run, so nothing can be left over from an earlier one.
	Fresh bool
}

// VerifyFailed is the report of a verify that failed after the newest applied version, if any.
func (s State) VerifyFailed() string {
	if len(s.Applied) == 0 {
		return ""
	}
	return s.Applied[len(s.Applied)-1].VerifyError
}

// UpToDate: nothing a run of plan would apply, and nothing left to check again (a failed verify,
// a history table to upgrade).
func (s State) UpToDate(plan UpPlan) bool {
	run, _ := s.Runnable(plan)
	return s.HistoryExists && !s.Outdated && len(run) == 0 && s.VerifyFailed() == ""
}

// Current is the highest applied version (0 when nothing is applied).
func (s State) Current() int {
	if len(s.Applied) == 0 {
		return 0
	}
	return s.Applied[len(s.Applied)-1].Version
}

// Runnable splits the pending files up to plan.Target into those a run of plan applies and those
// it leaves for the rollout: without plan.PostDeploy it stops before the first post-deploy file.
func (s State) Runnable(plan UpPlan) (run, waiting []Migration) {
	pending := s.PendingUpTo(plan.Target)
	if i := slices.IndexFunc(pending, func(m Migration) bool { return m.PostDeploy }); i >= 0 && !plan.PostDeploy {
		return pending[:i], pending[i:]
	}
	return pending, nil
}

// PendingUpTo lists the pending migrations with versions up to target (0: all).
func (s State) PendingUpTo(target int) []Migration {
	var out []Migration
	for _, p := range s.Pending {
		if target == 0 || p.Version <= target {
			out = append(out, p)
		}
	}
	return out
}

// Check reads the history without taking the lock and compares it with the files. A DriftError
// says the two disagree. This is the only query a no-op `up` makes.
func (m *Migrator) Check(ctx context.Context) (State, error) {
	rows, exists, err := m.readHistory(ctx, m.conn)
	outdated := errors.Is(err, errOutdatedHistory)
	if err != nil && !outdated {
		return State{}, err
	}
	st := State{HistoryExists: exists, Outdated: outdated}
	for _, r := range rows {
		if r.Kind == KindPartial {
			st.Partial = append(st.Partial, r)
		} else {
			st.Applied = append(st.Applied, r)
		}
	}
	return st, m.compare(&st)
}

// compare fills st.Pending and reports drift: changed checksums, unknown versions, and pending
// files below an applied version.
func (m *Migrator) compare(st *State) error {
	applied := map[int]Applied{}
	var problems []string
	for _, a := range st.Applied {
		applied[a.Version] = a
		if a.Version < 1 || a.Version > m.Latest() {
			problems = append(problems, fmt.Sprintf(
				"the database has version %04d (%s) applied, but this migrator knows only versions up to %04d: "+
					"it is older than the schema, so deploy the image that has migration %04d", a.Version, a.Name, m.Latest(), a.Version))
			continue
		}
		f := m.opts.Migrations[a.Version-1]
		if f.Checksum != a.Checksum {
			problems = append(problems, fmt.Sprintf(
				"%s was changed after it was applied (checksum in database %.12s…, file %.12s…): restore the file as it was "+
					"and put the change in a new migration", f.File, a.Checksum, f.Checksum))
		}
	}
	st.Pending = nil
	current := st.Current()
	for _, f := range m.opts.Migrations {
		if _, ok := applied[f.Version]; ok {
			continue
		}
		st.Pending = append(st.Pending, f)
		if f.Version < current {
			problems = append(problems, fmt.Sprintf(
				"%s is not applied but a later version (%04d) is: renumber it after %04d", f.File, current, current))
		}
	}
	if len(problems) > 0 {
		return &DriftError{Problems: problems}
	}
	return nil
}
