package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// A line that is almost a directive (a typo, another tool's spelling) is refused with its place,
// before anything runs: taken for a comment, it would run the down part as part of up.
func TestNearDirectivesAreRefused(t *testing.T) {
	url := pgtest.NewDB(t)
	for _, line := range []string{"-- migratior:down", "-- migrate:down", "-- migrator down", "-- +goose Down"} {
		t.Run(strings.NewReplacer(" ", "_", ":", "_", "+", "").Replace(strings.TrimPrefix(line, "-- ")), func(t *testing.T) {
			dir := writeMigrations(t, map[string]string{"0001_first.sql": "CREATE TABLE first (id int);\n" + line + "\nDROP TABLE first;\n"})
			r := cli(t, map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir}, "up")
			if r.code != 2 || !strings.Contains(r.stderr, "0001_first.sql:2") || !strings.Contains(r.stderr, line) {
				t.Fatalf("exit %d, want 2 naming 0001_first.sql:2 and %q\n%s", r.code, line, r.stderr)
			}
		})
	}
	if query[bool](t, url, "SELECT to_regclass('carthub_schema_history') IS NOT NULL") {
		t.Error("something ran although the files were refused")
	}
}

// A raw password holding "@" and "/" makes a URL whose host part is a piece of the password: no
// piece of it may reach the output. A URL that does not parse at all is not echoed either.
func TestPasswordWithAtAndSlashNeverLeaks(t *testing.T) {
	for _, u := range []string{
		"postgres://u:abc@SECRET_xyz/q@127.0.0.1:1/db",
		"postgres://u:pw%zz@SECRET_xyz@127.0.0.1:1/db",
	} {
		r := cli(t, map[string]string{"DATABASE_URL": u}, "status", "--connect-timeout", "1s")
		if strings.Contains(r.stdout+r.stderr, "SECRET_xyz") || r.code != 2 {
			t.Errorf("DATABASE_URL=%s: exit %d, want 2 and no piece of the password\n%s%s", u, r.code, r.stdout, r.stderr)
		}
	}
}

// A migration file must be a regular file inside --dir: a symlink (to /proc/self/environ, whose
// parse error would echo the environment), a FIFO (which would hang the run) or a device is
// refused by name before it is opened.
func TestOnlyRegularFilesAreRead(t *testing.T) {
	for name, mk := range map[string]func(path string) error{
		"symlink": func(p string) error { return os.Symlink("/proc/self/environ", p) },
		"fifo":    func(p string) error { return syscall.Mkfifo(p, 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeMigrations(t, map[string]string{"0001_first.sql": "CREATE TABLE first (id int);\n"})
			if err := mk(filepath.Join(dir, "0002_odd.sql")); err != nil {
				t.Fatalf("make the %s: %v", name, err)
			}
			p := start(t, map[string]string{"MIGRATOR_DIR": dir, "AWS_SECRET_ACCESS_KEY": "SECRETKEY123"}, "plan", "--database-url", "postgres://u@127.0.0.1:1/db", "--connect-timeout", "1s")
			r := waitWithin(t, p, 10*time.Second)
			if r.code != 2 || !strings.Contains(r.stderr, "0002_odd.sql") || strings.Contains(r.stderr, "SECRETKEY123") {
				t.Fatalf("exit %d, want 2 naming 0002_odd.sql (and nothing read from it)\n%s", r.code, r.stderr)
			}
		})
	}
}

// waitWithin is running.wait with a shorter limit, for runs that must not hang.
func waitWithin(t *testing.T, p *running, limit time.Duration) result {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-done
		t.Fatalf("migrator %v still ran after %s (killed); stderr:\n%s", p.cmd.Args[1:], limit, p.stderr)
	}
	return result{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: p.stderr.String()}
}

// Files that look like migrations but are not named like one are reported, not skipped.
func TestMisnamedFilesAreReported(t *testing.T) {
	for _, name := range []string{"0002_x.SQL", "notes.sql", "0002_x.sql.bak"} {
		dir := writeMigrations(t, map[string]string{"0001_first.sql": "CREATE TABLE first (id int);\n", name: "SELECT 1;\n"})
		r := cli(t, map[string]string{"MIGRATOR_DIR": dir}, "version")
		if r.code != 2 || !strings.Contains(r.stderr, name) {
			t.Errorf("%s beside the migrations: exit %d, want 2 naming it\n%s%s", name, r.code, r.stdout, r.stderr)
		}
	}
}

// --dir that does not exist is named; a --dir without schema.sql says verify is skipped.
func TestDirProblemsAreSaid(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	r := cli(t, map[string]string{"MIGRATOR_DIR": missing}, "version")
	if r.code != 2 || !strings.Contains(r.stderr, missing) {
		t.Errorf("missing --dir: exit %d, want 2 naming %s\n%s", r.code, missing, r.stderr)
	}
	dir := writeMigrations(t, map[string]string{"0001_first.sql": "CREATE TABLE first (id int);\n"})
	r = cli(t, map[string]string{"DATABASE_URL": pgtest.NewDB(t), "MIGRATOR_DIR": dir}, "up")
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "no schema.sql") {
		t.Errorf("a --dir without schema.sql skipped verify without a word\n%s", r.stderr)
	}
}

// Zero timeouts would mean "no limit" to PostgreSQL; the migrator refuses them.
func TestZeroTimeoutsAreRefused(t *testing.T) {
	for _, flag := range []string{"--lock-timeout", "--statement-timeout"} {
		r := cli(t, dbEnv("postgres://u@127.0.0.1:1/db"), "status", "--connect-timeout", "1s", flag, "0")
		if r.code != 2 || !strings.Contains(r.stderr, flag) {
			t.Errorf("%s 0: exit %d, want 2 naming the flag\n%s", flag, r.code, r.stderr)
		}
	}
}

// An error without a position in a transactional file names its statement without running the
// file a second time (which would take its locks twice).
func TestErrorWithoutPositionNamesStatementWithoutRerun(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, "CREATE SEQUENCE runs")
	dir := writeMigrations(t, map[string]string{"0001_first.sql": "SELECT nextval('runs');\nCREATE TABLE x (id int);\nCREATE TABLE y (id int);\nCREATE TABLE x (id int);\n"})
	r := cli(t, map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir}, "up")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "0001_first.sql:4:1") {
		t.Errorf("the failing statement (line 4) is not named\n%s", r.stderr)
	}
	if n := query[int64](t, url, "SELECT last_value FROM runs"); n != 1 {
		t.Errorf("the file ran %d times, want once", n)
	}
}

// Drift's one-line termination message names the file.
func TestDriftTerminationMessageNamesTheFile(t *testing.T) {
	url := pgtest.NewDB(t)
	dir := writeMigrations(t, map[string]string{"0001_first.sql": "CREATE TABLE first (id int);\n"})
	mustCode(t, cli(t, map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir}, "up"), 0)
	if err := os.WriteFile(filepath.Join(dir, "0001_first.sql"), []byte("CREATE TABLE first (id bigint);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term := filepath.Join(t.TempDir(), "termination-log")
	if err := os.WriteFile(term, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mustCode(t, cli(t, map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir, "MIGRATOR_TERMINATION_LOG": term}, "up"), 5)
	if msg, _ := os.ReadFile(term); !strings.Contains(string(msg), "0001_first.sql") {
		t.Errorf("termination message %q does not name the file", msg)
	}
}

// With the history table dropped under a migrated schema, the advice is safe: up does not say to
// alter the tables, and verify says what the tables match instead of sending the operator to up,
// which refuses again.
func TestMissingHistoryAdviceIsSafe(t *testing.T) {
	url := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(url), "up"), 0)
	pgtest.Exec(t, url, "DROP TABLE carthub_schema_history")
	up := cli(t, dbEnv(url), "up")
	mustCode(t, up, 5)
	if strings.Contains(up.stderr, "by hand") || !strings.Contains(up.stderr, "restore it from a backup") {
		t.Errorf("up's advice without a history table:\n%s", up.stderr)
	}
	v := cli(t, dbEnv(url), "verify")
	mustCode(t, v, 5)
	if strings.Contains(v.stderr, "run `migrator up` first") || !strings.Contains(v.stderr, "history table carthub_schema_history is missing") {
		t.Errorf("verify's advice without a history table:\n%s", v.stderr)
	}
}
