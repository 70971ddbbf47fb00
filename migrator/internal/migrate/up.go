package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carthub/carthub-db/migrator/internal/schema"
	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// VerifyMode says when Up compares the live schema with the expected one.
type VerifyMode string

const (
	VerifyAuto   VerifyMode = "auto"   // after applying up to the latest version, and again after a failed verify
	VerifyAlways VerifyMode = "always" // on every run, a no-op one too
	VerifyNever  VerifyMode = "never"
)

// Hooks are what a caller adds to Up and Down. Every field may be nil.
type Hooks struct {
	// Step reports that a step of the sequence finished (for logs); attrs are slog pairs.
	Step func(ctx context.Context, name string, start time.Time, attrs ...any)
	// Preflight runs when files are pending, before the lock is taken (st is the history read
	// without it): an error stops the run before anything changes. The no-op path never calls it.
	Preflight func(ctx context.Context, st State, pending []Migration) error
	// BeforeApply runs under the lock once it is known that versions from..to will be applied,
	// before anything changes (the pre-migration snapshot). An error stops the run.
	BeforeApply func(ctx context.Context, from, to int) error
	// Seed loads a dataset after applying; Up runs it even when nothing was pending.
	Seed func(ctx context.Context, conn *pgx.Conn) error
	// Verify compares the live schema with the expected one; a *schema.MismatchError is
	// recorded in the history so that the next run checks again.
	Verify func(ctx context.Context, conn *pgx.Conn) error
	// AfterCleanup runs last, after a run that applied something (pruning old snapshots).
	AfterCleanup func(ctx context.Context)
	// Observer, when set, sees every statement run (migrator lint). Transactional files then run
	// statement by statement inside their transaction instead of as one batch.
	Observer Observer
}

// Observer watches the statements a Migrator runs, one at a time.
type Observer interface {
	// Statement must call exec, which runs s.Statement on s.Conn, and return its error.
	Statement(ctx context.Context, s ObservedStatement, exec func(context.Context) error) error
	// FileDone is called when a file's statements are done (for a transactional file, right
	// after its COMMIT or ROLLBACK); err is the file's error.
	FileDone(ctx context.Context, mig Migration, err error)
}

// ObservedStatement is a statement about to run under an Observer.
type ObservedStatement struct {
	Migration     Migration
	Index         int // in the file's up (or down) part
	Statement     sqlscript.Statement
	Conn          *pgx.Conn // the migrator's connection, inside the file's transaction when InTransaction
	InTransaction bool
	// Tag is the statement's command tag once exec has run it (e.g. "DO", "ALTER TABLE").
	Tag *pgconn.CommandTag
}

// UpPlan is what Up is asked to do.
type UpPlan struct {
	Target int        // the version to stop after (0: the latest)
	Seed   bool       // run Hooks.Seed
	Verify VerifyMode // "" is VerifyAuto
	// PostDeploy also applies the files marked -- migrator:post-deploy (contract steps, after the
	// application's rollout). Without it the run stops before the first pending one.
	PostDeploy bool
}

// UpResult is what Up did.
type UpResult struct {
	From     int                // the version before the run
	Version  int                // the version after it
	Applied  []AppliedMigration // this run's files, in order
	UpToDate bool               // nothing was pending: the run took no lock and changed nothing
	// Waiting are the pending files left for `up --post-deploy`: the first post-deploy file and
	// everything after it.
	Waiting []Migration
}

// Up brings the database to plan.Target: check the history without a lock (the no-op path of
// every deploy is that one query), run the pre-flight (Hooks.Preflight), take the lock, prepare the history (adopting a legacy schema),
// drop INVALID indexes an interrupted run left, apply the pending files, seed, verify and clean
// up. On failure the result still lists what was applied; the error is typed (*PartialError,
// *DriftError, *LockError, ...).
func (m *Migrator) Up(ctx context.Context, plan UpPlan, h Hooks) (UpResult, error) {
	h.fill()
	if plan.Verify == "" {
		plan.Verify = VerifyAuto
	}
	if plan.Target < 0 || plan.Target > m.Latest() {
		return UpResult{}, fmt.Errorf("target version %d: the migrations go from 1 to %d", plan.Target, m.Latest())
	}
	m.observer = h.Observer
	defer func() { m.observer = nil }()

	start := time.Now()
	st, err := m.Check(ctx)
	if err != nil {
		return UpResult{}, err
	}
	pending, waiting := st.Runnable(plan)
	res := UpResult{From: st.Current(), Version: st.Current(), Waiting: waiting}
	h.Step(ctx, "check history", start, "version", st.Current(), "pending", len(pending), "post_deploy_waiting", len(waiting))
	// A verify that failed last time, or a history table to upgrade, is not up to date.
	if st.UpToDate(plan) && !plan.Seed {
		res.UpToDate = true
		if plan.Verify == VerifyAlways {
			return res, h.Verify(ctx, m.conn)
		}
		return res, nil
	}

	if len(pending) > 0 {
		if err := h.Preflight(ctx, st, pending); err != nil {
			return res, err
		}
	}

	start = time.Now()
	release, err := m.Lock(ctx)
	if err != nil {
		return res, err
	}
	defer release()
	h.Step(ctx, "lock", start)

	start = time.Now()
	if st, err = m.prepare(ctx); err != nil {
		return res, err
	}
	pending, res.Waiting = st.Runnable(plan) // the history as the lock holder sees it
	res.From, res.Version = st.Current(), st.Current()
	h.Step(ctx, "prepare history", start, "version", res.From, "pending", len(pending))

	if len(pending) > 0 {
		if err := h.BeforeApply(ctx, res.From, pending[len(pending)-1].Version); err != nil {
			return res, err
		}
		start = time.Now()
		if !st.Fresh && slices.ContainsFunc(pending, func(m Migration) bool { return m.NoTransaction }) {
			// A concurrent index build interrupted last time left an INVALID index: drop it so
			// that this run builds it again.
			if err := m.dropInvalidIndexes(ctx); err != nil {
				return res, err
			}
		}
		res.Applied, err = m.runAll(ctx, pending, false)
		if len(res.Applied) > 0 {
			res.Version = res.Applied[len(res.Applied)-1].Version
		}
		if err != nil {
			return res, err
		}
		h.Step(ctx, "apply", start, "applied", len(res.Applied), "from_version", res.From, "to_version", res.Version)
	}

	if plan.Seed {
		if err := h.Seed(ctx, m.conn); err != nil {
			return res, err
		}
	}

	if err := m.verifyAfterUp(ctx, plan, st, res, h); err != nil {
		return res, err
	}

	if len(res.Applied) > 0 {
		start = time.Now()
		// Nothing from an earlier run can be left in a database this run created from empty.
		if !st.Fresh {
			if err := m.dropInvalidIndexes(ctx); err != nil {
				return res, err
			}
		}
		h.AfterCleanup(ctx)
		h.Step(ctx, "cleanup", start)
	}
	return res, nil
}

// verifyAfterUp decides whether this run verifies, and records the outcome. A database that was
// empty when the run began holds exactly what the migrations make (TestSchemaSnapshots proves the
// expected schema is that on every server version CI runs), so auto skips verify there.
func (m *Migrator) verifyAfterUp(ctx context.Context, plan UpPlan, st State, res UpResult, h Hooks) error {
	again := st.VerifyFailed() != "" && len(res.Applied) == 0
	atLatest := plan.Target == 0 || plan.Target == m.Latest()
	run := plan.Verify == VerifyAlways || again ||
		(plan.Verify == VerifyAuto && !st.Fresh && len(res.Applied) > 0 && atLatest)
	if again {
		m.opts.Logger.WarnContext(ctx, "the last run's verify failed: verifying again", "version", st.Current())
	}
	if !run {
		return nil
	}
	err := h.Verify(ctx, m.conn)
	var mismatch *schema.MismatchError
	switch {
	case errors.As(err, &mismatch):
		// Recorded, so that the next run is not a clean no-op on a schema that failed.
		if rerr := m.recordVerify(ctx, schema.Report(mismatch.Diffs)); rerr != nil {
			m.opts.Logger.ErrorContext(ctx, "could not record the failed verify", "error", rerr)
		}
		return err
	case err != nil:
		return err
	case st.VerifyFailed() != "":
		return m.recordVerify(ctx, "")
	}
	return nil
}

func (h *Hooks) fill() {
	if h.Step == nil {
		h.Step = func(context.Context, string, time.Time, ...any) {}
	}
	if h.Preflight == nil {
		h.Preflight = func(context.Context, State, []Migration) error { return nil }
	}
	if h.BeforeApply == nil {
		h.BeforeApply = func(context.Context, int, int) error { return nil }
	}
	if h.Seed == nil {
		h.Seed = func(context.Context, *pgx.Conn) error { return nil }
	}
	if h.Verify == nil {
		h.Verify = func(context.Context, *pgx.Conn) error { return nil }
	}
	if h.AfterCleanup == nil {
		h.AfterCleanup = func(context.Context) {}
	}
}
