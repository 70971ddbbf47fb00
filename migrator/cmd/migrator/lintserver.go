package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/sqlscript"

	"github.com/carthub/carthub-db/migrator/internal/lint"
	"github.com/carthub/carthub-db/migrator/internal/pgserver"
)

// keptTemplates is how many dataset templates the lint cache keeps (the newest).
const keptTemplates = 3

// defaultLintCache is where lint keeps its local PostgreSQL and dataset templates between runs.
func defaultLintCache() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "carthub-db", "lint")
	}
	return ""
}

// localScratch starts lint's own PostgreSQL and makes the scratch database lint works in, where
// lint runs as a database owner that is not a superuser, like the migrator on RDS. With cacheDir
// the server's data is kept there between runs (one lint at a time: a lock file), and the state a
// run starts in (the migrations below --from applied, the dataset loaded) is kept as a template
// database named by lint.TemplateKey, so the next run of the same files copies it (CREATE
// DATABASE ... TEMPLATE) instead of loading the rows again. Without it the server is throwaway.
func (a *app) localScratch(ctx context.Context, cacheDir string, opts lint.Options) (lint.Connector, func(), datasetOrigin, error) {
	start := time.Now()
	dir, release, err := lintServerDir(ctx, a, cacheDir)
	if err != nil {
		return nil, nil, datasetOrigin{}, err
	}
	srv, running := pgserver.Running(ctx, dir)
	if !running {
		// A kept server outlives this process between its runs; a throwaway one dies with it.
		if srv, err = pgserver.Start(ctx, pgserver.Options{Dir: dir, Detach: cacheDir != ""}); err != nil {
			release(nil)
			return nil, nil, datasetOrigin{}, fmt.Errorf("start lint's PostgreSQL in %s (or give --database-url): %w", dir, err)
		}
	}
	admin, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err != nil {
		release(srv)
		return nil, nil, datasetOrigin{}, fmt.Errorf("connect to lint's PostgreSQL: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	password := pgserver.RandomHex(16)
	a.redactor.Add(password)
	role := func(db string) *pgx.ConnConfig {
		cfg, _ := pgx.ParseConfig(srv.URL(db)) // the server's own URL parses
		cfg.User, cfg.Password = "carthub_lint", password
		return cfg
	}
	name := "carthub_lint_" + pgserver.RandomHex(6)
	origin, err := createScratch(ctx, admin, name, password, cacheDir, opts, role)
	if err != nil {
		release(srv)
		return nil, nil, datasetOrigin{}, fmt.Errorf("prepare lint's PostgreSQL in %s: %w", dir, err)
	}
	a.step(ctx, "lint PostgreSQL", start, "port", srv.Port, "cache", cacheDir)
	cleanup := func() {
		a.dropScratch(srv.URL("postgres"), name)
		release(srv)
	}
	return connector(role(name)), cleanup, origin, nil
}

// datasetOrigin is what the report says of a dataset lint did not load itself: where it came
// from, and what it could not fill.
type datasetOrigin struct {
	note  string
	notes []string
}

// lintServerDir is the directory of lint's server: in cacheDir, one per PostgreSQL build
// (PG_BINDIR), locked for this run; or, without cacheDir, a temporary one. release stops the
// server (if any) and unlocks the cache, or removes the temporary server.
func lintServerDir(ctx context.Context, a *app, cacheDir string) (string, func(*pgserver.Server), error) {
	if cacheDir == "" {
		tmp, err := os.MkdirTemp("", "carthub-lint-")
		if err != nil {
			return "", nil, err
		}
		return tmp, func(srv *pgserver.Server) {
			if srv != nil {
				_ = srv.Stop()
			}
			_ = pgserver.Remove(context.WithoutCancel(ctx), tmp)
		}, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", nil, fmt.Errorf("lint cache %s: %w (set --cache-dir, or none for a throwaway server)", cacheDir, err)
	}
	lockFile, err := os.OpenFile(filepath.Join(cacheDir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("lint cache %s: %w", cacheDir, err)
	}
	if syscall.Flock(int(lockFile.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		a.log.InfoContext(ctx, "another lint is using the cache; waiting for it", "cache", cacheDir)
		if err := syscall.Flock(int(lockFile.Fd()), syscall.LOCK_EX); err != nil {
			lockFile.Close()
			return "", nil, fmt.Errorf("lock the lint cache %s: %w", cacheDir, err)
		}
	}
	release := func(srv *pgserver.Server) {
		if srv != nil {
			_ = srv.Stop()
		}
		lockFile.Close() // closing the file releases the lock
	}
	bin, err := pgserver.FindBin()
	if err != nil {
		release(nil)
		return "", nil, err
	}
	// One server per PostgreSQL build, not per path: every clone (CI makes a fresh one each run)
	// shares the same kept server and its templates.
	key, err := pgserver.BuildKey(bin)
	if err != nil {
		release(nil)
		return "", nil, err
	}
	return filepath.Join(cacheDir, "server-"+key[:8]), release, nil
}

// createScratch creates the scratch database name owned by carthub_lint: from the dataset
// template when a cache keeps one (building it first if it is missing), else empty. It returns
// what the report says of the dataset.
func createScratch(ctx context.Context, admin *pgx.Conn, name, password, cacheDir string, opts lint.Options, role func(string) *pgx.ConnConfig) (datasetOrigin, error) {
	// CREATE ROLE has no IF NOT EXISTS; a kept server has the role from an earlier run.
	if _, err := admin.Exec(ctx, `DO $$ BEGIN CREATE ROLE carthub_lint LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`); err != nil {
		return datasetOrigin{}, err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER ROLE carthub_lint PASSWORD '%s'", password)); err != nil {
		return datasetOrigin{}, err
	}
	key := lint.TemplateKey(opts, admin.PgConn().ParameterStatus("server_version"))
	if cacheDir == "" || key == "" {
		_, err := admin.Exec(ctx, "CREATE DATABASE "+name+" OWNER carthub_lint")
		return datasetOrigin{}, err
	}
	tpl := "carthub_lint_tpl_" + key
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", tpl).Scan(&exists); err != nil {
		return datasetOrigin{}, err
	}
	note := fmt.Sprintf("the migrations below %04d and %d rows per table copied from template %s (kept in %s)", opts.From, opts.Rows, tpl, cacheDir)
	if !exists {
		// Made under another name and marked a template only once it is complete, so that an
		// interrupted build is never reused.
		building := tpl + "_building"
		for _, sql := range []string{"DROP DATABASE IF EXISTS " + building + " WITH (FORCE)", "CREATE DATABASE " + building + " OWNER carthub_lint"} {
			if _, err := admin.Exec(ctx, sql); err != nil {
				return datasetOrigin{}, err
			}
		}
		took, notes, err := lint.Prepare(ctx, connector(role(building)), opts)
		if err != nil {
			return datasetOrigin{}, err
		}
		// What the dataset could not fill travels with the template, for every run that copies it.
		if _, err := admin.Exec(ctx, "COMMENT ON DATABASE "+building+" IS "+sqlscript.QuoteLiteral(strings.Join(notes, "\n"))); err != nil {
			return datasetOrigin{}, err
		}
		for _, sql := range []string{"ALTER DATABASE " + building + " RENAME TO " + tpl, "ALTER DATABASE " + tpl + " IS_TEMPLATE true"} {
			if _, err := admin.Exec(ctx, sql); err != nil {
				return datasetOrigin{}, err
			}
		}
		note = fmt.Sprintf("the migrations below %04d applied and %d rows per table loaded in %s, kept as template %s in %s for the next run",
			opts.From, opts.Rows, took.Round(100*time.Millisecond), tpl, cacheDir)
		if err := dropOldTemplates(ctx, admin, tpl); err != nil {
			return datasetOrigin{}, err
		}
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tpl+" OWNER carthub_lint STRATEGY FILE_COPY"); err != nil {
		return datasetOrigin{}, err
	}
	var notes string
	if err := admin.QueryRow(ctx, "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1", tpl).Scan(&notes); err != nil {
		return datasetOrigin{}, err
	}
	origin := datasetOrigin{note: note}
	if notes != "" {
		origin.notes = strings.Split(notes, "\n")
	}
	return origin, nil
}

// dropOldTemplates keeps the newest keptTemplates dataset templates besides keep.
func dropOldTemplates(ctx context.Context, admin *pgx.Conn, keep string) error {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datistemplate AND datname LIKE 'carthub\_lint\_tpl\_%' AND datname <> $1
 ORDER BY oid DESC OFFSET $2`, keep, keptTemplates-1)
	if err != nil {
		return err
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range old {
		for _, sql := range []string{"ALTER DATABASE " + name + " IS_TEMPLATE false", "DROP DATABASE " + name} {
			if _, err := admin.Exec(ctx, sql); err != nil {
				return err
			}
		}
	}
	return nil
}
