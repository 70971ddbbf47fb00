package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/internal/corpus"
	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/lint"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgserver"
	"github.com/carthub/carthub-db/names"
)

// lintFailedError: lint ran, and a rule failed that no allow directive covers (exit 8).
type lintFailedError struct{ failed int }

func (e *lintFailedError) Error() string {
	return fmt.Sprintf("%d finding(s) make the migrations unsafe to run against live traffic: fix them as the report says, "+
		"or allow one with a reason (-- migrator:allow RULE-ID: reason above the statement)", e.failed)
}

func cmdLint(ctx context.Context, a *app, args []string) error {
	var (
		from, rows    int
		format, dbURL string
		output, junit string
		maxHold       time.Duration
		maxBlock      time.Duration
		queriesFile   string
		prodStmts     string
		cacheDir      string
		shapeFile     string
		fraction      float64
		prodRows      int64
		planGrowth    float64
	)
	var rules strings.Builder
	for _, r := range lint.Rules {
		fmt.Fprintf(&rules, "\n  %-35s %s", r.ID, r.Reason)
	}
	flags := a.flags("lint", "[flags]", "Apply the migrations to a scratch database whose tables hold a dataset, one statement at a time, and\n"+
		"report what each statement locked and for how long, whether it rewrote or read a whole table, how long a\n"+
		"probe doing the services' reads and writes waited, and which of the application's statements (queries.sql)\n"+
		"stopped working after it. Exit 8 when a rule fails. Rules:"+rules.String()+
		"\nAllow a finding with a reason: a line \"-- migrator:allow RULE-ID: reason\" above the statement.", false)
	flags.stringVar(&dbURL, "database-url", "MIGRATOR_LINT_DATABASE_URL", "", "a server to create (and drop) the scratch database on; default: a throwaway local PostgreSQL")
	flags.intVar(&from, "from", "MIGRATOR_LINT_FROM", 1, "the first version to lint; the ones below it are applied without measuring")
	flags.intVar(&rows, "rows", "MIGRATOR_LINT_ROWS", lint.DefaultRows, "rows loaded into every empty table before each linted file (the verdict is judged at production's size: --shape or --production-rows)")
	flags.durationVar(&maxHold, "max-lock-hold", "MIGRATOR_LINT_MAX_LOCK_HOLD", time.Second, "the longest a lock that blocks reads or writes (SHARE or stronger) may be held on a populated table")
	flags.durationVar(&maxBlock, "max-block", "MIGRATOR_LINT_MAX_BLOCK", 500*time.Millisecond, "the longest the application's reads and writes may wait for the migration's locks, row locks included")
	flags.stringVar(&queriesFile, "queries", "MIGRATOR_LINT_QUERIES", "", "the application's statements to run around every migration (default: queries.sql of --dir, else the embedded migrations/queries.sql)")
	flags.stringVar(&prodStmts, "production-statements", "MIGRATOR_LINT_PRODUCTION_STATEMENTS", "", "also run the statements production ran, as the migration Job logged them (up --log-statements; the pipeline stores them beside the shape): merged with queries.sql; one lint cannot run is listed as not checked")
	flags.stringVar(&cacheDir, "cache-dir", "MIGRATOR_LINT_CACHE_DIR", defaultLintCache(), "where lint keeps its local PostgreSQL and dataset templates between runs (none: a throwaway server each run)")
	flags.stringVar(&shapeFile, "shape", "MIGRATOR_LINT_SHAPE", "", "generate the dataset in this shape (migrator shape's file: production's row counts, NULL fractions, widths, distinct counts) instead of --rows per table")
	flags.float64Var(&fraction, "shape-fraction", "MIGRATOR_LINT_SHAPE_FRACTION", 0.01, "the share of the shape's rows each table gets")
	flags.int64Var(&prodRows, "production-rows", "MIGRATOR_LINT_PRODUCTION_ROWS", lint.DefaultProductionRows,
		"the rows each table has in production where --shape does not say: holds, waits and scans that grow with rows are judged at this size, not at lint's dataset size")
	flags.float64Var(&planGrowth, "max-plan-growth", "MIGRATOR_LINT_MAX_PLAN_GROWTH", lint.DefaultMaxPlanGrowth,
		"how many times its estimated cost an application statement's plan may grow by with a file (slows-running-app)")
	flags.stringVar(&format, "format", "MIGRATOR_LINT_FORMAT", "text", "report format: "+strings.Join(lintFormats(), ", ")+" (markdown: for a pull request comment; junit: for a CodeBuild report group)")
	flags.stringVar(&output, "output", "MIGRATOR_LINT_OUTPUT", "", "write the report to this file instead of standard output")
	flags.stringVar(&junit, "junit", "MIGRATOR_LINT_JUNIT", "", "also write the report as JUnit XML to this file (a CodeBuild report group's input)")
	if err := flags.parseFlags(args); err != nil {
		return err
	}
	if lint.Formats[format] == nil {
		return usagef("--format %q: use one of %s", format, strings.Join(lintFormats(), ", "))
	}
	for flag, file := range map[string]string{"--output": output, "--junit": junit} {
		if file == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(file)); err != nil || !st.IsDir() {
			return usagef("%s %s: its directory %s does not exist: create it first", flag, file, filepath.Dir(file))
		}
	}
	if prodRows <= 0 {
		return usagef("--production-rows %d: give the rows a table has in production (above zero)", prodRows)
	}
	if planGrowth <= 1 {
		return usagef("--max-plan-growth %g: give a factor above 1", planGrowth)
	}
	if maxBlock == 0 {
		return usagef("--max-block must be above zero: it is the probe's lock_timeout")
	}
	queries, err := a.applicationQueries(queriesFile)
	if err != nil {
		return err
	}
	if prodStmts != "" {
		if queries, err = a.withProductionStatements(ctx, queries, prodStmts); err != nil {
			return err
		}
	}
	p, err := a.load()
	if err != nil {
		return err
	}
	if from > len(p.migrations) {
		return usagef("--from %d: the migrations go from 1 to %d", from, len(p.migrations))
	}
	for _, mig := range p.migrations {
		for _, al := range mig.Allows {
			if _, ok := lint.RuleByID(al.Rule); !ok {
				return usagef("%s:%d allows %q, which is not a lint rule: the rules are %s", mig.File, al.Line, al.Rule, lint.RuleIDs())
			}
		}
	}

	opts := lint.Options{
		From: from, Rows: rows, MaxLockHold: maxHold, MaxBlock: maxBlock, Queries: queries, Logger: a.log,
		ProductionRows: prodRows, MaxPlanGrowth: planGrowth,
		Engine: migrate.Options{Migrations: p.migrations, Baseline: p.baseline, Tables: p.expected.Tables()},
	}
	if shapeFile != "" {
		if fraction <= 0 || fraction > 1 {
			return usagef("--shape-fraction %g: use a share above 0 and at most 1", fraction)
		}
		if opts.Shape, err = dataset.LoadShape(shapeFile); err != nil {
			return usagef("--shape: %v", err)
		}
		opts.Fraction = fraction
	}
	var (
		connect lint.Connector
		cleanup func()
	)
	switch {
	case dbURL != "":
		connect, cleanup, err = a.remoteScratch(ctx, dbURL)
	case cacheDir == "none":
		connect, cleanup, _, err = a.localScratch(ctx, "", opts)
	default:
		var origin datasetOrigin
		connect, cleanup, origin, err = a.localScratch(ctx, cacheDir, opts)
		opts.Dataset, opts.DatasetNotes = origin.note, origin.notes
	}
	if err != nil {
		return err
	}
	defer cleanup()
	rep, err := lint.Run(ctx, connect, opts)
	if rep != nil {
		if werr := a.writeReport(rep, format, output); werr != nil && err == nil {
			err = werr
		}
		if junit != "" {
			if werr := a.writeReport(rep, "junit", junit); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil {
		return fmt.Errorf("lint: %w", err)
	}
	if rep.Failed > 0 {
		return &lintFailedError{failed: rep.Failed}
	}
	a.summary = fmt.Sprintf("lint: %d file(s) online-safe", len(rep.Files))
	return nil
}

// lintFormats are --format's values, in a stable order for messages.
func lintFormats() []string {
	names := make([]string, 0, len(lint.Formats))
	for name := range lint.Formats {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// writeReport writes rep in format to file, or to standard output when file is "".
func (a *app) writeReport(rep *lint.Report, format, file string) error {
	if file == "" {
		return lint.Formats[format](rep, a.stdout)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("lint: write the %s report: %w", format, err)
	}
	if err := lint.Formats[format](rep, f); err != nil {
		f.Close()
		return fmt.Errorf("lint: write the %s report to %s: %w", format, file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("lint: write the %s report to %s: %w", format, file, err)
	}
	return nil
}

// applicationQueries reads the application's statements: the file given, else queries.sql of
// --dir when there is one, else the embedded migrations/queries.sql.
func (a *app) applicationQueries(file string) ([]corpus.Query, error) {
	name, text := "migrations/queries.sql", migrations.Queries
	if file == "" && a.dir != "" {
		if _, err := os.Stat(filepath.Join(a.dir, "queries.sql")); err == nil {
			file = filepath.Join(a.dir, "queries.sql")
		}
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--queries: %v", err)
		}
		name, text = file, string(b)
	}
	qs, err := corpus.Parse(name, text)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return qs, nil
}

// withProductionStatements merges the statements production ran (a corpus the Job logged) into
// the application's: each is cleaned again as capture cleans it (a stored file may be older than
// the Job, or edited), and one that is not a read or write, or still holds a constant, is left
// out with a warning that names its line, never its text.
func (a *app) withProductionStatements(ctx context.Context, queries []corpus.Query, file string) ([]corpus.Query, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, usagef("--production-statements: %v", err)
	}
	stored, err := corpus.Parse(file, string(b))
	if err != nil {
		return nil, usagef("--production-statements: %v: store the file the migration Job logged, or leave the flag out", err)
	}
	captured := stored[:0]
	for _, q := range stored {
		text, err := corpus.Clean(q.SQL)
		if err != nil {
			a.log.WarnContext(ctx, "a stored production statement is left out", "file", file, "line", q.Line, "why", err.Error())
			continue
		}
		q.SQL, q.Captured = text, true
		captured = append(captured, q)
	}
	merged := corpus.Merge(queries, captured)
	a.log.InfoContext(ctx, "production statements merged with the application's", "file", file, "read", len(stored),
		"new", len(merged)-len(queries))
	return merged, nil
}

// remoteScratch makes the empty database lint works in on the server serverURL names: a database
// of a random name (it never touches another), dropped after the run.
func (a *app) remoteScratch(ctx context.Context, serverURL string) (lint.Connector, func(), error) {
	name := "carthub_lint_" + pgserver.RandomHex(6)
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return nil, nil, fmt.Errorf("lint: connect to --database-url: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if err := createDatabase(ctx, admin, name); err != nil {
		return nil, nil, fmt.Errorf("lint: create the scratch database %s (the role needs CREATEDB): %w", name, err)
	}
	cfg := admin.Config().Copy()
	a.redactor.Add(cfg.Password)
	scratch := cfg.Copy()
	scratch.Database = name
	return connector(scratch), func() { a.dropScratch(serverURL, name) }, nil
}

// dropScratch drops lint's scratch database name on the server adminURL reaches.
func (a *app) dropScratch(adminURL, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		a.log.WarnContext(ctx, "could not drop lint's scratch database; drop it by hand", "database", name, "error", err)
		return
	}
	defer conn.Close(ctx)
	a.dropScratchOn(ctx, conn, name)
}

// connector opens sessions on cfg's database with the settings the migrator's have.
func connector(cfg *pgx.ConnConfig) lint.Connector {
	cfg.RuntimeParams["application_name"] = names.Application + "-lint"
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["lock_timeout"] = "5000"
	return func(ctx context.Context) (*pgx.Conn, error) { return pgx.ConnectConfig(ctx, cfg.Copy()) }
}
