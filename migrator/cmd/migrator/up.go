package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/dbconn"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/seed"
)

// lockFlags are the settings of commands that take the migration lock.
type lockFlags struct {
	wait    time.Duration
	retries int
	backoff time.Duration
	report  time.Duration
}

func (l *lockFlags) add(flags *flagSet) {
	flags.durationVar(&l.wait, "lock-wait", "MIGRATOR_LOCK_WAIT", 5*time.Minute, "wait this long for another migrator to finish")
	flags.intVar(&l.retries, "lock-retries", "MIGRATOR_LOCK_RETRIES", 10, "retries of a migration that hit lock_timeout")
	flags.durationVar(&l.backoff, "retry-backoff", "MIGRATOR_RETRY_BACKOFF", 500*time.Millisecond, "first pause before such a retry; doubles each time, with jitter")
	flags.durationVar(&l.report, "wait-report", "MIGRATOR_WAIT_REPORT", 10*time.Second, "how often to log what a waiting concurrent index build waits for (0: never)")
}

func cmdUp(ctx context.Context, a *app, args []string) error {
	var (
		lock   lockFlags
		pre    preflightFlags
		to     int
		seedAs string
		verify string
		post   bool
		shape  bool
		stmts  bool
	)
	flags := a.flags("up", "[flags]", "Apply pending migrations in order, then seed, verify and clean up. A database without a\n"+
		"history table but with the legacy Carthub tables is adopted: 0001_baseline is recorded, not run.", true)
	lock.add(flags)
	pre.add(flags, true)
	flags.intVar(&to, "to", "MIGRATOR_TARGET", 0, "stop after this version (0: the latest)")
	flags.stringVar(&seedAs, "seed", "MIGRATOR_SEED", "", "load a dataset after migrating: demo")
	flags.stringVar(&verify, "verify", "MIGRATOR_VERIFY", "auto", "compare the live schema with the expected one: auto (after applying), always, never")
	flags.boolVar(&post, "post-deploy", "MIGRATOR_POST_DEPLOY", false, "also apply the files marked -- migrator:post-deploy (after the application's rollout)")
	flags.boolVar(&shape, "log-shape", "MIGRATOR_LOG_SHAPE", false, "after a run that applied something, log the tables' shape (statistics only, no rows) for lint --shape")
	flags.boolVar(&stmts, "log-statements", "MIGRATOR_LOG_STATEMENTS", false, "after a run that applied something, log the statements production runs (pg_stat_statements, normalized, no comments) for lint --production-statements; creates the extension if missing and the role may")
	a.awsSettings.addSnapshots(flags)
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	if seedAs != "" && !slices.Contains(seed.Names, seedAs) {
		return usagef("--seed %q: the datasets are %v", seedAs, seed.Names)
	}
	if !slices.Contains([]string{"auto", "always", "never"}, verify) {
		return usagef("--verify %q: use auto, always or never", verify)
	}
	if err := pre.validate(); err != nil {
		return err
	}
	p, err := a.load()
	if err != nil {
		return err
	}
	if to < 0 || to > len(p.migrations) {
		return usagef("--to %d: the migrations go from 1 to %d", to, len(p.migrations))
	}
	runStart := time.Now()
	a.writable = true
	s, err := a.session(ctx, p, lock)
	if err != nil {
		return err
	}
	defer closeConn(s.conn)
	mode := migrate.VerifyMode(verify)
	if len(p.expected) == 0 && mode == migrate.VerifyAuto {
		// A --dir without schema.sql has nothing to compare with: said, not silently skipped.
		a.log.WarnContext(ctx, "no schema.sql in --dir: verify is skipped (run `make schema` and put the snapshot beside the migrations to check the result)", "dir", a.dir)
		mode = migrate.VerifyNever
	}
	res, err := s.m.Up(ctx, migrate.UpPlan{Target: to, Seed: seedAs != "", Verify: mode, PostDeploy: post}, migrate.Hooks{
		Step:      a.step,
		Preflight: a.preflightHook(s, &pre),
		BeforeApply: func(ctx context.Context, from, to int) error {
			// Under the lock: what an earlier run's pre-flight left goes, however young.
			a.dropLeftScratch(ctx, s, true)
			return a.beforeApply(ctx, from, to)
		},
		Seed: func(ctx context.Context, conn *pgx.Conn) error {
			start := time.Now()
			res, err := seed.Demo(ctx, conn)
			if err == nil {
				a.step(ctx, "seed", start, "dataset", seedAs, "carts", res.Carts, "cart_items", res.CartItems, "orders", res.Orders, "order_items", res.OrderItems)
			}
			return err
		},
		Verify:       func(ctx context.Context, conn *pgx.Conn) error { return a.verify(ctx, conn, p) },
		AfterCleanup: a.pruneSnapshots,
	})
	a.metrics.applied = len(res.Applied)
	a.metrics.waiting = len(res.Waiting)
	for _, m := range res.Applied {
		if m.PostDeploy {
			a.metrics.postDeployApplied++
		}
	}
	if err != nil {
		// A connection lost anywhere (pre-flight, applying, recording, verify) is transient: exit 3.
		return dbconn.AsLost(err, s.conn.IsClosed())
	}
	if len(res.Waiting) > 0 {
		a.log.InfoContext(ctx, "post-deploy files wait for the application's rollout: `migrator up --post-deploy` applies them after it (the pipeline's PostDeploy stage)",
			"waiting", len(res.Waiting), "first", res.Waiting[0].File)
	}
	if res.UpToDate {
		a.summary = fmt.Sprintf("up to date at version %04d", res.Version)
		a.log.InfoContext(ctx, "database is up to date; nothing to apply", "version", res.Version, "duration_ms", msSince(runStart))
		return nil
	}
	if shape && len(res.Applied) > 0 {
		a.logShape(ctx, s)
	}
	if stmts && len(res.Applied) > 0 {
		a.logStatements(ctx, s)
	}
	a.summary = fmt.Sprintf("applied %d migration(s), now at version %04d", len(res.Applied), res.Version)
	a.log.InfoContext(ctx, "migration complete", "applied", len(res.Applied), "version", res.Version, "duration_ms", msSince(runStart))
	return nil
}

// beforeApply runs only when something is pending, so the no-op path never calls AWS: it waits
// for the RDS instance to be available and takes the pre-migration snapshot.
func (a *app) beforeApply(ctx context.Context, from, to int) error {
	s := &a.awsSettings
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
	s := &a.awsSettings
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

// logShape logs the tables' shape after a run that applied something (never on the no-op path):
// the pipeline's Deploy stage stores it where the next Build stage's lint reads it. A failure is
// only logged: the migration is done.
func (a *app) logShape(ctx context.Context, s *session) {
	shape, err := dataset.ReadShape(ctx, s.conn, migrate.DefaultHistoryTable)
	if err != nil {
		a.log.WarnContext(ctx, "could not read the table shape; lint keeps the last one", "error", err)
		return
	}
	a.log.InfoContext(ctx, "table shape", "shape", shape)
}
