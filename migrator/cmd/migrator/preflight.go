package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/config"
	"github.com/carthub/carthub-db/migrator/internal/dbconn"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgserver"
	"github.com/carthub/carthub-db/migrator/internal/preflight"
)

// preflightFlags configure the look at the live database before the lock (docs/cli.md).
type preflightFlags struct {
	enabled   bool
	timeout   time.Duration
	onTimeout string
	replica   string
	host      string
	blocking  string
	wait      time.Duration
}

func (p *preflightFlags) add(flags *flagSet, waits bool) {
	flags.boolVar(&p.enabled, "preflight", "MIGRATOR_PREFLIGHT", true, "before the lock, count the live rows that break what the pending files add, and list the sessions in the way")
	flags.durationVar(&p.timeout, "preflight-timeout", "MIGRATOR_PREFLIGHT_TIMEOUT", 30*time.Second, "statement_timeout of each counting query")
	flags.stringVar(&p.onTimeout, "preflight-on-timeout", "MIGRATOR_PREFLIGHT_ON_TIMEOUT", "stop", "a counting query that times out: stop, or continue without that count")
	flags.stringVar(&p.replica, "preflight-database-url", "MIGRATOR_PREFLIGHT_DATABASE_URL", "", "count the rows on this database (a read replica) instead of the primary")
	flags.stringVar(&p.host, "preflight-host", "MIGRATOR_PREFLIGHT_HOST", "", "count the rows on this host (a read replica of the instance) with the primary's credentials and database")
	if waits {
		flags.stringVar(&p.blocking, "blocking-sessions", "MIGRATOR_BLOCKING_SESSIONS", "wait", "sessions in the way of the pending files' locks: wait (up to --blocking-wait, then refuse idle-in-transaction ones) or proceed")
		flags.durationVar(&p.wait, "blocking-wait", "MIGRATOR_BLOCKING_WAIT", 30*time.Second, "how long to wait for the sessions in the way to finish")
	}
}

func (p *preflightFlags) validate() error {
	if !slices.Contains([]string{"stop", "continue"}, p.onTimeout) {
		return usagef("--preflight-on-timeout %q: use stop or continue", p.onTimeout)
	}
	if p.blocking != "" && !slices.Contains([]string{"wait", "proceed"}, p.blocking) {
		return usagef("--blocking-sessions %q: use wait or proceed", p.blocking)
	}
	if p.timeout <= 0 || p.wait < 0 {
		return usagef("--preflight-timeout must be positive and --blocking-wait not negative")
	}
	return nil
}

// preflightResult is what the pre-flight found, for up's logs and metrics and plan's report.
type preflightResult struct {
	derived  preflight.Derived
	counted  preflight.Counted
	sessions []preflight.Session
	skipped  string // why nothing was looked at
}

// runPreflight applies the pending files to a scratch database on the live server, counts the
// live rows that break what they add and lists the sessions in the way of their locks. It
// changes nothing live: the scratch database is made and dropped, the counts run read-only.
func (a *app) runPreflight(ctx context.Context, s *session, p *preflightFlags, st migrate.State, pending []migrate.Migration) (preflightResult, error) {
	var res preflightResult
	if len(st.Partial) > 0 {
		res.skipped = fmt.Sprintf("%04d_%s stopped part-way last run and resumes where it stopped, which a scratch run from its start cannot show", st.Partial[0].Version, st.Partial[0].Name)
		return res, nil
	}
	applied := st.Current()
	if !st.HistoryExists {
		present, diffs, err := s.m.Legacy(ctx)
		if err != nil {
			return res, err
		}
		switch {
		case !present:
			res.skipped = "an empty database: no rows to check, no sessions on its tables"
			return res, nil
		case len(diffs) > 0:
			res.skipped = "legacy tables that differ from the baseline: the run refuses to adopt them"
			return res, nil
		}
		// The legacy tables are counted: the role must be able to alter them, as adopting needs.
		if err := s.m.CheckOwnership(ctx); err != nil {
			return res, err
		}
		applied, pending = 1, slices.DeleteFunc(slices.Clone(pending), func(m migrate.Migration) bool { return m.Version == 1 }) // adopted, not run
	}
	if len(pending) == 0 {
		res.skipped = "nothing to run (the baseline is adopted)"
		return res, nil
	}
	connect, drop, err := a.preflightScratch(ctx, s)
	if err != nil {
		return res, err
	}
	defer drop()
	if res.derived, err = preflight.Derive(ctx, preflight.Scratch{
		Connect: connect, Engine: s.m.Options(), Applied: applied, Pending: pending, // its own log is silent: nothing live happens there
	}); err != nil {
		return res, err
	}
	counts := s.conn
	switch {
	case p.replica != "":
		if counts, err = a.connectTo(ctx, p.replica, s.conn); err != nil {
			return res, err
		}
		defer closeConn(counts)
	case p.host != "":
		if counts, err = replicaOf(ctx, s.conn, p.host); err != nil {
			return res, err
		}
		defer closeConn(counts)
	}
	if res.counted, err = preflight.CheckRows(ctx, counts, res.derived.Rules, p.timeout); err != nil {
		return res, err
	}
	res.derived.Unchecked = append(res.derived.Unchecked, res.counted.Unanswerable...)
	res.sessions, err = preflight.InTheWay(ctx, s.conn, res.derived.Tables())
	return res, err
}

// preflightScratch makes the empty scratch database on the live server (the role needs
// CREATEDB, as the RDS master user has) and returns how to open it and how to drop it.
func (a *app) preflightScratch(ctx context.Context, s *session) (preflight.Connector, func(), error) {
	a.dropLeftScratch(ctx, s, false)
	name := fmt.Sprintf("%s%d_%s", scratchPrefix, time.Now().Unix(), pgserver.RandomHex(4))
	// --statement-timeout bounds the migration's statements, not the making of a database (a
	// copy of template1, slow on a busy server): these two run without it.
	if err := createDatabase(ctx, s.conn, name); err != nil {
		if dbconn.Lost(err) || s.conn.IsClosed() {
			// A standby refuses CREATE DATABASE (25006) as it refuses every write: not a privilege matter.
			return nil, nil, dbconn.AsLost(fmt.Errorf("pre-flight: create the scratch database %s: %w", name, err), true)
		}
		return nil, nil, fmt.Errorf("pre-flight: create the scratch database %s on the live server (the role needs CREATEDB; or run with --preflight=false): %w", name, err)
	}
	cfg := s.conn.Config().Copy()
	cfg.Database = name
	// The scratch run replays the migrations on empty tables: the Job's deadline bounds it.
	cfg.RuntimeParams["statement_timeout"] = "0"
	drop := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		a.dropScratchOn(ctx, s.conn, name)
	}
	return func(ctx context.Context) (*pgx.Conn, error) {
		conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
		if err != nil {
			return nil, &dbconn.Error{Target: cfg.Host + "/" + name, Reason: "the pre-flight's scratch database on the live server cannot be opened: check the network, or run with --preflight=false", Err: err}
		}
		return conn, nil
	}, drop, nil
}

// scratchPrefix starts the pre-flight's scratch databases' names, followed by the Unix time they
// were made.
const scratchPrefix = "carthub_preflight_"

// dropLeftScratch drops the scratch databases a pre-flight that was killed or cut off (a failover
// copies them to the new primary) left behind, with no session on them (a running pre-flight has
// one open on its own). Before the lock only those made more than an hour ago go; under the
// migration lock (anyAge) every one goes, however young: this run's own is dropped already, and
// another migrator of this database runs its pre-flight only before it waits for the lock. (One
// that made its scratch database a moment ago and has not opened it yet would fail to open it
// and exit 3, to be retried.)
func (a *app) dropLeftScratch(ctx context.Context, s *session, anyAge bool) {
	minAge := 3600
	if anyAge {
		minAge = -1
	}
	rows, err := s.conn.Query(ctx, `SELECT d.datname FROM pg_database d
 WHERE d.datname LIKE 'carthub\_preflight\_%' AND pg_has_role(current_user, d.datdba, 'USAGE')
   AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)
   AND split_part(d.datname, '_', 3) ~ '^[0-9]+$' AND split_part(d.datname, '_', 3)::int8 <= extract(epoch FROM now())::int8 - $1::int8`, minAge)
	if err != nil {
		return
	}
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range left {
		if _, err := s.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err == nil {
			a.log.InfoContext(ctx, "dropped a scratch database an earlier pre-flight left (killed or cut off)", "database", name)
		}
	}
}

// connectTo opens a session on url (--preflight-database-url) with the migrator's connect
// retries and settings: an unreachable replica is exit 3, as the primary is.
func (a *app) connectTo(ctx context.Context, url string, like *pgx.Conn) (*pgx.Conn, error) {
	t, err := config.Resolve(url, func(string) string { return "" })
	if err != nil {
		return nil, usagef("--preflight-database-url: %v", err)
	}
	a.redactor.Add(t.Secrets...)
	return dbconn.Connect(ctx, t, dbconn.Options{Timeout: a.connectTimeout, Logger: a.log, Settings: like.Config().RuntimeParams})
}

// replicaOf opens a session on host (a read replica) as conn's: the same user, password,
// database, settings and TLS, verified against host's name.
func replicaOf(ctx context.Context, conn *pgx.Conn, host string) (*pgx.Conn, error) {
	cfg := conn.Config().Copy()
	cfg.Host, cfg.Fallbacks = host, nil
	if cfg.TLSConfig != nil {
		cfg.TLSConfig = cfg.TLSConfig.Clone()
		cfg.TLSConfig.ServerName = host
	}
	replica, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &dbconn.Error{Target: host, Reason: "--preflight-host: the replica cannot be reached with the primary's credentials: check the host, or leave it unset to count on the primary", Err: err}
	}
	return replica, nil
}

// lostConnection turns a pre-flight error that is the live connection failing into the
// connect error it is (exit 3: the Job retries), instead of a failed migration.
func lostConnection(s *session, err error) error {
	if err == nil || !s.conn.IsClosed() {
		return err
	}
	return &dbconn.Error{Target: s.conn.Config().Host, Reason: "the connection was lost during the pre-flight (nothing was changed): check the network and the instance, then run again", Err: err}
}

// preflightHook is up's Hooks.Preflight: it refuses before the lock when rows break a rule
// (exit 9), when a count timed out and --preflight-on-timeout is stop (exit 9), or when sessions
// idle in a transaction stay in the way past --blocking-wait (exit 10).
func (a *app) preflightHook(s *session, p *preflightFlags) func(context.Context, migrate.State, []migrate.Migration) error {
	return func(ctx context.Context, st migrate.State, pending []migrate.Migration) error {
		if !p.enabled {
			return nil
		}
		start := time.Now()
		res, err := a.runPreflight(ctx, s, p, st, pending)
		if err != nil {
			return lostConnection(s, err)
		}
		if res.skipped != "" {
			a.log.DebugContext(ctx, "pre-flight skipped", "why", res.skipped)
			return nil
		}
		for _, u := range res.derived.Unchecked {
			a.log.WarnContext(ctx, "pre-flight: not checked", "change", u)
		}
		for _, v := range res.counted.Broken {
			a.log.ErrorContext(ctx, "pre-flight: live rows break a rule a pending file adds", "file", v.Rule.File, "table", v.Rule.Table,
				"rule", v.Rule.Kind, "name", v.Rule.Name, "definition", v.Rule.Def, "rows", v.Rows, "examples", v.Examples)
		}
		for _, t := range res.counted.TimedOut {
			a.log.WarnContext(ctx, "pre-flight: a counting query timed out", "file", t.Rule.File, "table", t.Rule.Table, "rule", t.Rule.Kind,
				"name", t.Rule.Name, "statement_timeout", t.After.String(), "preflight_on_timeout", p.onTimeout)
		}
		refuse := &preflight.RefusedError{Violations: res.counted.Broken}
		if p.onTimeout == "stop" {
			refuse.Timeouts = res.counted.TimedOut
		}
		if len(refuse.Violations) > 0 || len(refuse.Timeouts) > 0 {
			return refuse
		}
		sessions := res.sessions
		a.logSessions(ctx, sessions)
		if len(sessions) > 0 && p.blocking == "wait" {
			a.log.InfoContext(ctx, "pre-flight: waiting for the sessions in the way to finish", "sessions", len(sessions), "wait", p.wait.String())
			if sessions, err = preflight.WaitOut(ctx, s.conn, res.derived.Tables(), p.wait, time.Second); err != nil {
				return err
			}
		}
		a.metrics.blocking, a.metrics.oldestBlocking = len(sessions), preflight.Oldest(sessions)
		if p.blocking == "wait" {
			var idle []preflight.Session
			for _, s := range sessions {
				if s.IdleInTransaction() && s.XactAge >= p.wait {
					idle = append(idle, s)
				}
			}
			if len(idle) > 0 {
				return &preflight.BlockedError{Sessions: idle, Waited: p.wait.String()}
			}
		}
		if len(sessions) > 0 {
			a.log.WarnContext(ctx, "pre-flight: going ahead with sessions in the way: each statement waits for its locks at most --lock-timeout, and the file is retried (--lock-retries)",
				"sessions", len(sessions), "oldest_transaction_s", preflight.Oldest(sessions).Seconds())
		}
		a.step(ctx, "preflight", start, "rules", len(res.derived.Rules), "tables", len(res.derived.Tables()), "sessions_in_the_way", len(sessions),
			"scratch_ms", res.derived.Took.Milliseconds())
		return nil
	}
}

// logSessions logs each session in the way, with what it holds and the command that would end it.
func (a *app) logSessions(ctx context.Context, sessions []preflight.Session) {
	for _, s := range sessions {
		a.log.WarnContext(ctx, "pre-flight: a session is in the way of a pending file's lock", "pid", s.PID, "application_name", s.Application,
			"client_addr", s.Client, "state", s.State, "transaction_age_s", s.XactAge.Seconds(), "table", s.Table, "lock", s.Mode, "granted", s.Granted,
			"needed_by", s.Needs.File, "needs", s.Needs.Mode, "query", s.Query, "terminate_with", s.TerminateCommand())
	}
}
