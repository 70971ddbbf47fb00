package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/schema"
	"github.com/carthub/carthub-db/migrator/internal/seed"
)

// lockFlags are the settings of commands that take the migration lock.
type lockFlags struct {
	wait    time.Duration
	retries int
	backoff time.Duration
	report  time.Duration
}

func (l *lockFlags) add(fs *flagSet) {
	fs.durationVar(&l.wait, "lock-wait", "MIGRATOR_LOCK_WAIT", 5*time.Minute, "wait this long for another migrator to finish")
	fs.intVar(&l.retries, "lock-retries", "MIGRATOR_LOCK_RETRIES", 10, "retries of a migration that hit lock_timeout")
	fs.durationVar(&l.backoff, "retry-backoff", "MIGRATOR_RETRY_BACKOFF", 500*time.Millisecond, "first pause before such a retry; doubles each time, with jitter")
	fs.durationVar(&l.report, "wait-report", "MIGRATOR_WAIT_REPORT", 10*time.Second, "how often to log what a waiting concurrent index build waits for")
}

func cmdUp(ctx context.Context, a *app, args []string) error {
	var (
		lf     lockFlags
		to     int
		seedAs string
		verify string
	)
	fs := a.flags("up", "[flags]", "Apply pending migrations in order, then seed, verify and clean up. A database without a\n"+
		"history table but with the legacy Carthub tables is adopted: 0001_baseline is recorded, not run.", true)
	lf.add(fs)
	fs.intVar(&to, "to", "MIGRATOR_TARGET", 0, "stop after this version (0: the latest)")
	fs.stringVar(&seedAs, "seed", "MIGRATOR_SEED", "", "load a dataset after migrating: demo")
	fs.stringVar(&verify, "verify", "MIGRATOR_VERIFY", "auto", "compare the live schema with the expected one: auto (after applying), always, never")
	a.awsSet.addSnapshots(fs)
	if err := fs.parseFlags(args); err != nil {
		return err
	}
	if seedAs != "" && !slices.Contains(seed.Names, seedAs) {
		return usagef("--seed %q: the datasets are %v", seedAs, seed.Names)
	}
	if !slices.Contains([]string{"auto", "always", "never"}, verify) {
		return usagef("--verify %q: use auto, always or never", verify)
	}
	p, err := a.load()
	if err != nil {
		return err
	}
	if to < 0 || to > len(p.migrations) {
		return usagef("--to %d: the migrations go from 1 to %d", to, len(p.migrations))
	}
	runStart := time.Now()
	s, err := a.session(ctx, p, lf)
	if err != nil {
		return err
	}
	defer closeConn(s.conn)
	conn, m := s.conn, s.m

	start := time.Now()
	st, err := m.Check(ctx)
	if err != nil {
		return err
	}
	a.step(ctx, "check history", start, "version", st.Current(), "pending", len(st.PendingUpTo(to)))
	// The no-op path of every deploy: one query, no lock (tern's trick). A verify that failed
	// last time, or a history table to upgrade, is not up to date.
	if st.UpToDate(to) && seedAs == "" {
		if verify == "always" {
			if err := a.verify(ctx, conn, p); err != nil {
				return err
			}
		}
		a.summary = fmt.Sprintf("up to date at version %04d", st.Current())
		a.log.InfoContext(ctx, "database is up to date; nothing to apply", "version", st.Current(), "duration_ms", msSince(runStart))
		return nil
	}

	start = time.Now()
	release, err := m.Lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	a.step(ctx, "lock", start)

	start = time.Now()
	if st, err = m.Prepare(ctx); err != nil {
		return err
	}
	pending := st.PendingUpTo(to)
	from := st.Current()
	a.step(ctx, "prepare history", start, "version", from, "pending", len(pending))

	var applied []migrate.AppliedMigration
	if len(pending) > 0 {
		if err := a.beforeApply(ctx, from, pending[len(pending)-1].Version); err != nil {
			return err
		}
		start = time.Now()
		if !st.Fresh && slices.ContainsFunc(pending, func(m migrate.Migration) bool { return m.NoTransaction }) {
			// A concurrent index build interrupted last time left an INVALID index: drop it so
			// that this run builds it again.
			if err := m.DropInvalidIndexes(ctx); err != nil {
				return err
			}
		}
		applied, err = m.Apply(ctx, st, to)
		a.metrics.applied = len(applied)
		if err != nil {
			return err
		}
		a.step(ctx, "apply", start, "applied", len(applied), "from_version", from, "to_version", pending[len(pending)-1].Version)
	}

	if seedAs != "" {
		start = time.Now()
		res, err := seed.Demo(ctx, conn)
		if err != nil {
			return err
		}
		a.step(ctx, "seed", start, "dataset", seedAs, "carts", res.Carts, "cart_items", res.CartItems, "orders", res.Orders, "order_items", res.OrderItems)
	}

	atLatest := to == 0 || to == m.Latest()
	verifyAgain := st.VerifyFailed() != "" && len(applied) == 0
	// A database that was empty when this run began now holds exactly what the migrations make
	// (TestSchemaSnapshots proves the expected schema is that, on every server version CI runs):
	// there is nothing else to compare, so auto skips verify there. --verify=always still runs it.
	if verify == "auto" && st.Fresh {
		verify = "never"
		a.log.DebugContext(ctx, "fresh database: verify skipped; --verify=always runs it")
	}
	if verifyAgain {
		a.log.WarnContext(ctx, "the last run's verify failed: verifying again", "version", st.Current())
	}
	if verify == "always" || verifyAgain || (verify == "auto" && len(applied) > 0 && atLatest && len(p.expected) > 0) {
		err := a.verify(ctx, conn, p)
		var mismatch *schema.MismatchError
		switch {
		case errors.As(err, &mismatch):
			// Recorded, so that the next run is not a clean no-op on a schema that failed.
			if rerr := m.RecordVerify(ctx, schema.Report(mismatch.Diffs)); rerr != nil {
				a.log.ErrorContext(ctx, "could not record the failed verify", "error", rerr)
			}
			return err
		case err != nil:
			return err
		case verifyAgain || st.VerifyFailed() != "":
			if err := m.RecordVerify(ctx, ""); err != nil {
				return err
			}
		}
	}

	if len(applied) > 0 {
		start = time.Now()
		// Nothing from an earlier run can be left in a database this run created from empty.
		if !st.Fresh {
			if err := m.DropInvalidIndexes(ctx); err != nil {
				return err
			}
		}
		a.pruneSnapshots(ctx)
		a.step(ctx, "cleanup", start)
	}
	version := from
	if len(applied) > 0 {
		version = applied[len(applied)-1].Version
	}
	a.summary = fmt.Sprintf("applied %d migration(s), now at version %04d", len(applied), version)
	a.log.InfoContext(ctx, "migration complete", "applied", len(applied), "version", version, "duration_ms", msSince(runStart))
	return nil
}

// beforeApply runs only when something is pending, so the no-op path never calls AWS: it waits
// for the RDS instance to be available and takes the pre-migration snapshot.
func (a *app) beforeApply(ctx context.Context, from, to int) error {
	s := &a.awsSet
	if s.instance == "" {
		return nil
	}
	start := time.Now()
	c, err := a.aws(ctx, "")
	if err != nil {
		return err
	}
	inst, err := c.WaitAvailable(ctx, s.instance, s.instanceWait, s.pollEvery)
	if err != nil {
		return err
	}
	a.step(ctx, "instance available", start, "instance", inst.ID, "status", inst.Status)
	if !s.snapshots() {
		return nil
	}
	start = time.Now()
	name, err := c.CreateSnapshot(ctx, s.instance, s.snapshotPrefix, from, to, s.snapshotTimeout, s.pollEvery)
	if err != nil {
		return err
	}
	a.step(ctx, "snapshot", start, "snapshot", name)
	return nil
}

// pruneSnapshots keeps the newest --snapshot-retention pre-migration snapshots. A failure here
// does not undo a successful migration, so it is only logged.
func (a *app) pruneSnapshots(ctx context.Context) {
	s := &a.awsSet
	if !s.snapshots() || s.snapshotRetention == 0 {
		return
	}
	c, err := a.aws(ctx, "")
	if err == nil {
		var deleted []string
		deleted, err = c.PruneSnapshots(ctx, s.instance, s.snapshotPrefix, s.snapshotRetention)
		if err == nil {
			a.log.InfoContext(ctx, "pre-migration snapshots pruned", "kept", s.snapshotRetention, "deleted", len(deleted))
			return
		}
	}
	a.log.WarnContext(ctx, "could not prune old pre-migration snapshots; they remain", "error", err)
}
