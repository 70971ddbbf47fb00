package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

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

// cachedScratch is lint's local PostgreSQL kept in cacheDir: started for the run and stopped
// after it, its data kept. The state a run starts in (the migrations below --from applied, the
// dataset loaded) is kept as a template database named by lint.TemplateKey, so the next run of
// the same files copies it (CREATE DATABASE ... TEMPLATE) instead of loading the rows again. One
// lint at a time uses a cache directory (a lock file).
func (a *app) cachedScratch(ctx context.Context, cacheDir string, opts lint.Options) (lint.Connector, func(), string, error) {
	start := time.Now()
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, nil, "", fmt.Errorf("lint cache %s: %w (set --cache-dir, or none for a throwaway server)", cacheDir, err)
	}
	lockFile, err := os.OpenFile(filepath.Join(cacheDir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, nil, "", fmt.Errorf("lint cache %s: %w", cacheDir, err)
	}
	if syscall.Flock(int(lockFile.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		a.log.InfoContext(ctx, "another lint is using the cache; waiting for it", "cache", cacheDir)
		if err := syscall.Flock(int(lockFile.Fd()), syscall.LOCK_EX); err != nil {
			lockFile.Close()
			return nil, nil, "", fmt.Errorf("lock the lint cache %s: %w", cacheDir, err)
		}
	}
	unlock := func() { _ = syscall.Flock(int(lockFile.Fd()), syscall.LOCK_UN); lockFile.Close() }
	bin, err := pgserver.FindBin()
	if err != nil {
		unlock()
		return nil, nil, "", err
	}
	abs, _ := filepath.Abs(bin)
	sum := sha256.Sum256([]byte(abs))
	dir := filepath.Join(cacheDir, "server-"+hex.EncodeToString(sum[:4])) // one per installation (PG_BINDIR)
	srv, running := pgserver.Running(ctx, dir)
	if !running {
		if srv, err = pgserver.Start(ctx, pgserver.Options{Dir: dir, Detach: true}); err != nil {
			unlock()
			return nil, nil, "", fmt.Errorf("start lint's PostgreSQL in %s (or give --database-url, or --cache-dir none): %w", dir, err)
		}
	}
	stop := func() { _ = srv.Stop(); unlock() }
	admin, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err != nil {
		stop()
		return nil, nil, "", fmt.Errorf("connect to lint's PostgreSQL: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	password := pgserver.RandomHex(16)
	a.redactor.Add(password)
	name := "carthub_lint_" + pgserver.RandomHex(6)
	roleCfg := func(db string) (*pgx.ConnConfig, error) {
		cfg, err := pgx.ParseConfig(srv.URL(db))
		if err != nil {
			return nil, err
		}
		cfg.User, cfg.Password = "carthub_lint", password
		return cfg, nil
	}
	var note string
	err = func() error {
		// lint runs as a database owner that is not a superuser, like the migrator on RDS.
		if _, err := admin.Exec(ctx, `DO $$ BEGIN CREATE ROLE carthub_lint LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`); err != nil {
			return err
		}
		if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER ROLE carthub_lint PASSWORD '%s'", password)); err != nil {
			return err
		}
		var version string
		if err := admin.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
			return err
		}
		key := lint.TemplateKey(opts, version)
		if key == "" {
			_, err := admin.Exec(ctx, "CREATE DATABASE "+name+" OWNER carthub_lint")
			return err
		}
		tpl := "carthub_lint_tpl_" + key
		var exists bool
		if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", tpl).Scan(&exists); err != nil {
			return err
		}
		if exists {
			note = fmt.Sprintf("the migrations below %04d and %d rows per table copied from template %s (kept in %s)", opts.From, opts.Rows, tpl, cacheDir)
		} else {
			// Made under another name and marked a template only once it is complete, so that an
			// interrupted build is never reused.
			building := tpl + "_building"
			for _, sql := range []string{"DROP DATABASE IF EXISTS " + building + " WITH (FORCE)", "CREATE DATABASE " + building + " OWNER carthub_lint"} {
				if _, err := admin.Exec(ctx, sql); err != nil {
					return err
				}
			}
			cfg, err := roleCfg(building)
			if err != nil {
				return err
			}
			took, err := lint.Prepare(ctx, connector(cfg), opts)
			if err != nil {
				return err
			}
			for _, sql := range []string{"ALTER DATABASE " + building + " RENAME TO " + tpl, "ALTER DATABASE " + tpl + " IS_TEMPLATE true"} {
				if _, err := admin.Exec(ctx, sql); err != nil {
					return err
				}
			}
			note = fmt.Sprintf("the migrations below %04d applied and %d rows per table loaded in %s, kept as template %s in %s for the next run",
				opts.From, opts.Rows, round(took), tpl, cacheDir)
			if err := dropOldTemplates(ctx, admin, tpl); err != nil {
				return err
			}
		}
		_, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tpl+" OWNER carthub_lint STRATEGY FILE_COPY")
		return err
	}()
	if err != nil {
		stop()
		return nil, nil, "", fmt.Errorf("prepare lint's PostgreSQL in %s: %w", dir, err)
	}
	a.step(ctx, "lint PostgreSQL", start, "port", srv.Port, "cache", cacheDir)
	cfg, err := roleCfg(name)
	if err != nil {
		stop()
		return nil, nil, "", err
	}
	cleanup := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, srv.URL("postgres")); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
		stop()
	}
	return connector(cfg), cleanup, note, nil
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

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }
