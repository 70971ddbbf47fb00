// Package lint proves migrations online-safe by running them: it applies them to a scratch
// database whose tables hold a representative dataset, one statement at a time, and records what
// each statement locked and for how long, whether it rewrote or scanned a table, whether a probe
// session doing the services' reads and writes waited, and whether the application's own
// statements (migrations/queries.sql) still work after it. Rules turn that into findings.
package lint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/corpus"
	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pglock"
	"github.com/carthub/carthub-db/migrator/internal/sqlscript"
)

// Options say how to lint.
type Options struct {
	// From is the first version linted; the ones below it are applied plainly first (0 or 1: all).
	From int
	// Rows go into every empty table before each linted file (COPY).
	Rows int
	// Shape, when set, sizes the dataset instead: each table gets its rows in the shape times
	// Fraction, its columns the shape's NULL fractions, widths and distinct counts.
	Shape    *dataset.Shape
	Fraction float64
	// MaxLockHold is the longest a lock that blocks the application's reads or writes may be
	// held on a populated table.
	MaxLockHold time.Duration
	// MaxBlock is the longest a read or write of the application's may wait for a lock the
	// migration holds (the probe's lock_timeout), row locks included.
	MaxBlock time.Duration
	// ProductionRows is each table's rows in production where the shape does not say (0:
	// DefaultProductionRows): holds, waits and scans that grow with rows are projected to it.
	ProductionRows int64
	// MaxPlanGrowth is how many times its estimated cost an application statement's plan may
	// grow by (0: DefaultMaxPlanGrowth).
	MaxPlanGrowth float64
	// Queries are the application's statements, run before and after each file (nil: none).
	Queries []corpus.Query
	// Dataset says where the rows came from when the caller prepared them (a template copy), and
	// DatasetNotes what that dataset could not fill.
	Dataset      string
	DatasetNotes []string
	// Engine are the migrator's options (migrations, baseline, tables, history table); lint
	// overrides its lock settings.
	Engine migrate.Options
	Logger *slog.Logger
}

// plan is the dataset the options ask for.
func (o Options) plan() dataset.Plan {
	return dataset.Plan{Rows: o.Rows, Shape: o.Shape, Fraction: o.Fraction}
}

// Report is what lint found.
type Report struct {
	Server string `json:"server"` // PostgreSQL's version
	Rows   int    `json:"rows_per_table"`
	Shape  string `json:"shape,omitempty"` // the shaped dataset's source and fraction
	// ProductionRows is the size lint projects to for a table the shape does not name.
	ProductionRows int64         `json:"production_rows"`
	MaxLockHold    time.Duration `json:"max_lock_hold_ns"`
	MaxBlock       time.Duration `json:"max_block_ns"`
	Queries        int           `json:"application_statements"`
	Dataset        string        `json:"dataset,omitempty"`
	// DatasetNotes say what the prepared dataset (a template) could not fill, and why.
	DatasetNotes []string `json:"dataset_notes,omitempty"`
	Files        []*File  `json:"files"`
	// Failed counts the findings no allow directive covers.
	Failed  int           `json:"failed"`
	Allowed int           `json:"allowed"`
	Took    time.Duration `json:"duration_ns"`
}

// File is one migration's part of the report.
type File struct {
	File          string           `json:"file"`
	NoTransaction bool             `json:"no_transaction"`
	PostDeploy    bool             `json:"post_deploy,omitempty"`
	Loaded        map[string]int64 `json:"loaded,omitempty"` // rows loaded into each table before it
	// DatasetNotes say what the dataset could not fill before it (a table short of rows, a
	// column left NULL) and why.
	DatasetNotes []string      `json:"dataset_notes,omitempty"`
	LoadTook     time.Duration `json:"load_duration_ns,omitempty"`
	Statements   []*Statement  `json:"statements"`
	// NotChecked are the application's statements that already failed before the file, with
	// their errors: lint cannot tell what the file does to them.
	NotChecked map[string]string `json:"application_not_checked,omitempty"`
	Error      string            `json:"error,omitempty"` // it did not apply: lint stopped here
	Took       time.Duration     `json:"duration_ns"`
}

// Statement is what one statement did.
type Statement struct {
	Line     int           `json:"line"`
	SQL      string        `json:"sql"`
	Duration time.Duration `json:"duration_ns"`
	Locks    []Lock        `json:"locks,omitempty"`
	Rewrote  []string      `json:"rewrote,omitempty"`
	Scanned  []string      `json:"scanned,omitempty"`       // tables read in full
	Touched  []Touch       `json:"touched,omitempty"`       // rows read and written, per table
	Blocked  []Wait        `json:"probe_blocked,omitempty"` // the probe's waits this statement caused
	// Projected is the statement's time at production's size: Duration times Scale, where Scale
	// is production's rows over the dataset's for the largest table whose rows its cost grows
	// with (1 when it touched a fixed number of rows: a catalog change, a lookup by key).
	Projected time.Duration `json:"projected_ns"`
	Scale     float64       `json:"scale"`
	ScaledBy  string        `json:"scaled_by,omitempty"` // the table Scale comes from
	Error     string        `json:"error,omitempty"`
	Findings  []Finding     `json:"findings,omitempty"`

	start, end          time.Time
	measuredBefore      time.Duration // the observer's measuring time in the transaction when it ran
	inTransaction       bool
	concurrent          bool
	newIndexes          []relation
	rebuiltIndexes      []relation
	rebuiltConstraints  []relation
	newValidConstraints []relation
	volatileColumns     []relation
	droppedTables       []string
	renamedTables       []rename
	droppedColumns      []relation
	renamedColumns      []rename
	narrowedColumns     []narrowing
	generatedColumns    []relation // stored generated columns added to a populated table
	droppedDefaults     []relation
	revoked             []grant
	hidden              []string // tables whose rows row level security now hides
	sequencesBack       []sequenceReset
	emptied             []string     // populated tables with no rows after it
	breaks              []appBreak   // application statements that fail after it
	slowed              []planChange // application statements whose plan got worse after it
	// held are the strongest locks its transaction holds on each table once it has run: its own
	// and those of the statements before it in the same transaction.
	held    map[string]string
	written map[string]bool // tables whose rows it changed inside a transaction (row locks held to its end)
	// untilEnd is how long its transaction lasted from its start (its own time outside one), and
	// projectedUntilEnd the same at production's size.
	untilEnd, projectedUntilEnd time.Duration
}

// Touch is what a statement did to one table's rows.
type Touch struct {
	Table    string `json:"table"`
	Read     int64  `json:"read"`    // rows fetched by scans and index lookups
	Written  int64  `json:"written"` // rows updated or deleted (each one row-locked)
	Inserted int64  `json:"inserted,omitempty"`
	Rows     int64  `json:"rows"`       // the table's rows in the dataset before the file
	Prod     int64  `json:"production"` // its rows in production
}

// Lock is a table lock a statement took and how long it was held: to the end of the statement,
// or for a statement in a transaction, to the end of the transaction.
type Lock struct {
	Table string        `json:"table"`
	Mode  string        `json:"mode"`
	Hold  time.Duration `json:"hold_ns"`
	// Projected is the hold at production's size: the statements it lasted through, each at its
	// projected time.
	Projected time.Duration `json:"projected_hold_ns"`
}

type relation struct{ name, table string }

// strongestLock is the strongest mode the statement held on table ("" if none).
func (s *Statement) strongestLock(table string) string {
	best := -1
	for _, l := range s.Locks {
		if l.Table == table {
			best = max(best, slices.Index(pglock.Modes, l.Mode))
		}
	}
	if best < 0 {
		return ""
	}
	return pglock.Modes[best]
}

// Connector opens a connection to the scratch database.
type Connector func(ctx context.Context) (*pgx.Conn, error)

type linter struct {
	opts    Options
	connect Connector
	conn    *pgx.Conn // the migrator's
	monitor *pgx.Conn // polls pg_locks while a statement outside a transaction runs
	probe   *probe
	app     *app // nil without Options.Queries
	schema  string
	history string
}

// Run lints opts.Engine.Migrations from opts.From on, in the scratch database connect opens
// (which must be empty). An error means lint could not do its job; a rule broken is a finding in
// the report (Report.Failed).
func Run(ctx context.Context, connect Connector, opts Options) (*Report, error) {
	start := time.Now()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.From = max(opts.From, 1)
	migs := opts.Engine.Migrations
	if opts.From > len(migs) {
		return nil, fmt.Errorf("--from %d: the migrations go from 1 to %d", opts.From, len(migs))
	}
	if opts.MaxBlock <= 0 {
		return nil, fmt.Errorf("the blocking budget (MaxBlock) must be above zero")
	}
	l := &linter{opts: opts, connect: connect, history: historyTable(opts)}
	if err := serialSessions(ctx, connect); err != nil {
		return nil, err
	}
	var err error
	if l.conn, err = connect(ctx); err != nil {
		return nil, err
	}
	defer l.conn.Close(context.WithoutCancel(ctx))
	if l.monitor, err = connect(ctx); err != nil {
		return nil, err
	}
	defer l.monitor.Close(context.WithoutCancel(ctx))
	if l.probe, err = newProbe(ctx, connect, opts.MaxBlock); err != nil {
		return nil, err
	}
	defer l.probe.close(context.WithoutCancel(ctx))
	var version int
	if err := l.conn.QueryRow(ctx, "SELECT current_schema(), current_setting('server_version_num')::int", pgx.QueryExecModeSimpleProtocol).
		Scan(&l.schema, &version); err != nil {
		return nil, fmt.Errorf("read the scratch database's schema: %w", err)
	}
	if version < 150000 {
		return nil, fmt.Errorf("lint needs PostgreSQL 15 or newer (it reads a statement's table statistics through pg_stat_force_next_flush); "+
			"this server is %s", l.conn.PgConn().ParameterStatus("server_version"))
	}
	rep := &Report{Server: l.conn.PgConn().ParameterStatus("server_version"), Rows: opts.Rows, ProductionRows: opts.productionRows(""),
		MaxLockHold: opts.MaxLockHold, MaxBlock: opts.MaxBlock, Queries: len(opts.Queries), Dataset: opts.Dataset, DatasetNotes: opts.DatasetNotes}
	if opts.Shape != nil {
		rep.Shape = opts.plan().String()
	}
	if len(opts.Queries) > 0 {
		l.app = &app{queries: opts.Queries}
	}

	m, err := applyBelow(ctx, l.conn, opts)
	if err != nil {
		return nil, err
	}
	for _, mig := range migs[opts.From-1:] {
		f, err := l.file(ctx, m, mig)
		rep.Files = append(rep.Files, f)
		if err != nil {
			return rep, err
		}
		if f.Error != "" {
			break
		}
	}
	for _, f := range rep.Files {
		failed, allowed := f.counts()
		rep.Failed += failed
		rep.Allowed += allowed
		if f.failsOnItsOwn() {
			rep.Failed++ // a file that does not apply is not online-safe, whatever it allows
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// serialSessions makes the scratch database's sessions run each statement in one process
// (no parallel workers): a parallel scan or index build counts its rows in the workers'
// statistics, which reach the views late, and what lint reads from them must not depend on
// timing. Production may build faster in parallel; the verdict stays on the safe side.
func serialSessions(ctx context.Context, connect Connector) error {
	conn, err := connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return fmt.Errorf("read the scratch database's name: %w", err)
	}
	ident := pgx.Identifier{db}.Sanitize()
	for _, setting := range []string{"max_parallel_workers_per_gather", "max_parallel_maintenance_workers"} {
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" SET "+setting+" = 0"); err != nil {
			return fmt.Errorf("set %s on the scratch database (lint's role must own it): %w", setting, err)
		}
	}
	return nil
}

// file lints one migration: fill the empty tables, apply it under the observer, run a
// no-transaction file a second time, then judge each statement.
func (l *linter) file(ctx context.Context, m *migrate.Migrator, mig migrate.Migration) (*File, error) {
	start := time.Now()
	f := &File{File: mig.File, NoTransaction: mig.NoTransaction, PostDeploy: mig.PostDeploy}
	defer func() { f.Took = time.Since(start) }()
	if !mig.NoTransaction {
		if i := slices.IndexFunc(mig.Up, func(s sqlscript.Statement) bool { return migrate.ConcurrentIndexOp(s.SQL) }); i >= 0 {
			s := &Statement{Line: mig.Up[i].Line, SQL: summary(mig.Up[i].SQL)}
			s.add("concurrent-index-in-transaction", "the file has no -- migrator:no-transaction line; PostgreSQL would refuse the statement")
			l.allow(mig, []*Statement{s})
			f.Statements = []*Statement{s}
			f.Error = "not applied: it cannot run in a transaction, so lint stops here"
			return f, nil
		}
	}
	loadStart := time.Now()
	filled, err := dataset.Load(ctx, l.conn, l.history, l.opts.plan())
	if err != nil {
		return f, err
	}
	for _, n := range filled.Notes {
		f.DatasetNotes = append(f.DatasetNotes, n.String())
	}
	if loaded := filled.Loaded; len(loaded) > 0 {
		f.Loaded, f.LoadTook = loaded, time.Since(loadStart)
		l.opts.Logger.InfoContext(ctx, "dataset loaded", "file", mig.File, "rows", loaded, "duration_ms", f.LoadTook.Milliseconds())
	}
	start = time.Now() // the file's time is its own, without the load
	if err := analyzeUnseen(ctx, l.conn, l.history); err != nil {
		return f, err
	}
	before, err := l.catalog(ctx, l.conn)
	if err != nil {
		return f, err
	}
	populated := before.rows // after fill's ANALYZE: the rows each table holds now
	if err := l.probe.prepare(ctx, populated); err != nil {
		return f, err
	}
	if l.app != nil {
		if err := l.app.prepare(ctx, l.conn); err != nil {
			return f, err
		}
		f.NotChecked = l.app.notChecked()
	}
	obs := &observer{l: l, populated: populated, broken: map[string]bool{}, slowed: map[string]bool{}}
	_, err = m.Up(ctx, migrate.UpPlan{Target: mig.Version, Verify: migrate.VerifyNever, PostDeploy: true}, migrate.Hooks{Observer: obs})
	f.Statements = obs.statements
	if err != nil {
		var pe *migrate.PartialError
		if !errors.As(err, &pe) {
			return f, err
		}
		f.Error = "failed: " + pe.Err.Error()
	}
	if err == nil && !mig.NoTransaction && l.app != nil {
		// The application never sees a transaction's intermediate states: what a later statement
		// of the file repaired (a view dropped and made again) is no break.
		breaks, slowed, err := l.app.check(ctx, l.conn, false, true, l.opts, populated)
		if err != nil {
			return f, err
		}
		for _, s := range f.Statements {
			s.breaks = slices.DeleteFunc(s.breaks, func(b appBreak) bool {
				return !slices.ContainsFunc(breaks, func(e appBreak) bool { return e.query.Name == b.query.Name })
			})
			s.slowed = slices.DeleteFunc(s.slowed, func(c planChange) bool {
				return !slices.ContainsFunc(slowed, func(e planChange) bool { return e.query.Name == c.query.Name })
			})
		}
	}
	if err == nil && !mig.NoTransaction {
		end, err := l.catalog(ctx, l.conn)
		if err != nil {
			return f, err
		}
		for _, s := range f.Statements {
			s.renamedTables = slices.DeleteFunc(s.renamedTables, func(r rename) bool { return r.undone(before, end) })
			s.renamedColumns = slices.DeleteFunc(s.renamedColumns, func(r rename) bool { return r.undone(before, end) })
		}
	}
	if err == nil && mig.NoTransaction {
		l.rerun(ctx, mig, f)
	}
	holdings(f)
	l.project(f, populated)
	j := &judge{opts: l.opts, populated: populated, mig: mig, matviews: before.matviews}
	for _, s := range f.Statements {
		if s.Error == "" {
			j.evaluate(s)
		}
	}
	if l.app != nil && len(f.Statements) > 0 {
		for _, st := range l.app.statement {
			if st.notRun && !st.query.Captured {
				f.Statements[0].add("app-statement-not-run", fmt.Sprintf("%s (%s:%d) %s: %s", st.query.Name, queryFile(st.query), st.query.Line, summary(st.query.SQL), st.err))
				delete(f.NotChecked, st.query.Name)
			}
		}
	}
	l.allow(mig, f.Statements)
	return f, nil
}

// queryFile is the file an application statement came from, as the report names it.
func queryFile(q corpus.Query) string {
	if q.File == "" {
		return "queries.sql"
	}
	return filepath.Base(q.File)
}

// analyzeUnseen analyzes the relations the planner has never counted (a materialized view or a
// table an earlier file made and filled), so that the rows lint judges by are there.
func analyzeUnseen(ctx context.Context, conn *pgx.Conn, history string) error {
	rows, err := conn.Query(ctx, `SELECT c.oid::regclass::text FROM pg_class c
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm', 'p') AND c.reltuples < 0 AND c.relname <> $1`, history)
	if err != nil {
		return fmt.Errorf("list the relations never analyzed: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list the relations never analyzed: %w", err)
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, "ANALYZE "+n); err != nil {
			return fmt.Errorf("analyze %s: %w", n, err)
		}
	}
	return nil
}

// holdings records, for each statement of a transactional file, the strongest lock its
// transaction holds on each table once it has run: the ones earlier statements took are still
// held.
func holdings(f *File) {
	held := map[string]string{}
	for _, s := range f.Statements {
		if !s.inTransaction {
			continue
		}
		for _, lk := range s.Locks {
			held[lk.Table] = pglock.Stronger(held[lk.Table], lk.Mode)
		}
		s.held = maps.Clone(held)
	}
}

// rerun runs every statement of a no-transaction file again, as a resumed run would, and adds a
// not-rerunnable finding to the first run of each statement that fails.
func (l *linter) rerun(ctx context.Context, mig migrate.Migration, f *File) {
	for i, st := range mig.Up {
		if migrate.ConcurrentIndexOp(st.SQL) { // as the engine runs them: no lock_timeout, they block nobody
			if _, err := l.conn.Exec(ctx, "SET lock_timeout = 0"); err != nil {
				return
			}
		}
		_, err := l.conn.Exec(ctx, st.SQL)
		if err == nil {
			continue
		}
		if i < len(f.Statements) {
			f.Statements[i].add("not-rerunnable", "second run: "+firstLine(err.Error()))
		}
		if l.conn.PgConn().TxStatus() != 'I' {
			_, _ = l.conn.Exec(ctx, "ROLLBACK")
		}
	}
	_, _ = l.conn.Exec(ctx, "RESET ALL")
}

// allow marks the findings an allow directive of the file covers: a directive covers the first
// statement after its line.
func (l *linter) allow(mig migrate.Migration, stmts []*Statement) {
	for _, a := range mig.Allows {
		for _, s := range stmts {
			if s.Line <= a.Line {
				continue
			}
			for i := range s.Findings {
				if s.Findings[i].Rule == a.Rule {
					s.Findings[i].Allowed = a.Reason
				}
			}
			break
		}
	}
}

// counts are the file's findings that fail and those an allow directive (or the post-deploy
// phase) covers.
func (f *File) counts() (failed, allowed int) {
	for _, s := range f.Statements {
		for _, fd := range s.Findings {
			if fd.Allowed == "" {
				failed++
			} else {
				allowed++
			}
		}
	}
	return failed, allowed
}

// failsOnItsOwn: the file did not apply, and no failed finding says why.
func (f *File) failsOnItsOwn() bool {
	failed, _ := f.counts()
	return f.Error != "" && failed == 0
}
