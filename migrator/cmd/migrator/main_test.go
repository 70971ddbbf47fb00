package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// bin is the migrator built once for all tests, run as a user would run it.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "migrator-bin-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "migrator")
	// The AWS helper goes beside the migrator, where the migrator looks for it (as in the image).
	for pkg, out := range map[string]string{".": bin, "../migrator-aws": filepath.Join(dir, "migrator-aws")} {
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, b)
			os.Exit(1)
		}
	}
	code := pgtest.Main(m)
	stopMoto()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// logs decodes the JSON log lines on stderr.
func (r result) logs() []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// cli runs the migrator with exactly env (plus PATH and HOME) and checks that no password
// in env, or in a URL in env, shows up in its output.
func cli(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	cmd := start(t, env, args...)
	return cmd.wait(t)
}

type running struct {
	cmd            *exec.Cmd
	stdout, stderr *bytes.Buffer
	env            map[string]string
}

func start(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "MIGRATOR_LOG_FORMAT=json"}
	if _, ok := env["MIGRATOR_TERMINATION_LOG"]; !ok {
		cmd.Env = append(cmd.Env, "MIGRATOR_TERMINATION_LOG="+filepath.Join(t.TempDir(), "absent"))
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	r := &running{cmd: cmd, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, env: env}
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *running) wait(t *testing.T) result {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = r.cmd.Process.Kill()
		t.Fatalf("migrator %v did not finish in 2 minutes; stderr:\n%s", r.cmd.Args[1:], r.stderr)
	}
	res := result{code: r.cmd.ProcessState.ExitCode(), stdout: r.stdout.String(), stderr: r.stderr.String()}
	for _, secret := range secretsIn(r.env) {
		if strings.Contains(res.stdout+res.stderr, secret) {
			t.Errorf("password %q leaked into the output of migrator %v:\n%s\n%s", secret, r.cmd.Args[1:], res.stdout, res.stderr)
		}
	}
	return res
}

func secretsIn(env map[string]string) []string {
	var out []string
	for k, v := range env {
		if k == "DB_PASSWORD" && len(v) > 3 {
			out = append(out, v)
		}
		if u, err := url.Parse(v); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && len(pw) > 3 {
				out = append(out, pw)
			}
		}
		if i := strings.Index(v, "://"); i >= 0 { // a malformed URL still carries its password
			rest := v[i+3:]
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				if _, pw, ok := strings.Cut(rest[:at], ":"); ok && len(pw) > 3 {
					out = append(out, pw)
				}
			}
		}
	}
	return out
}

func dbEnv(url string) map[string]string { return map[string]string{"DATABASE_URL": url} }

func mustCode(t *testing.T, r result, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
	}
}

func query[T any](t *testing.T, url, sql string, args ...any) T {
	t.Helper()
	conn := pgtest.Connect(t, url)
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func historyVersions(t *testing.T, url string) []int {
	t.Helper()
	conn := pgtest.Connect(t, url)
	rows, _ := conn.Query(context.Background(), "SELECT version FROM carthub_schema_history ORDER BY version")
	v, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// legacyFixture is what the old Python script left on live databases: a copy of the project's
// shared fixtures/legacy-schema.sql in testdata, so that a clone alone runs every test (CI checks
// the copy against the shared file).
func legacyFixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "legacy-schema.sql"))
	if err != nil {
		t.Fatalf("the legacy fixture: %v", err)
	}
	return string(b)
}

func TestFreshMigrateTwice(t *testing.T) {
	url := pgtest.NewDB(t)
	first := cli(t, dbEnv(url), "up")
	mustCode(t, first, 0)
	if got := historyVersions(t, url); len(got) != 5 {
		t.Fatalf("history after up = %v, want versions 1..5", got)
	}
	var steps []string
	for _, l := range first.logs() {
		if l["msg"] == "step done" {
			steps = append(steps, l["step"].(string))
		}
	}
	// A database that was empty holds exactly what the migrations make: auto skips verify there.
	if want := "connect,check history,lock,prepare history,apply,cleanup"; strings.Join(steps, ",") != want {
		t.Errorf("steps logged = %v, want %s", steps, want)
	}
	always := cli(t, dbEnv(pgtest.NewDB(t)), "up", "--verify=always")
	mustCode(t, always, 0)
	if !strings.Contains(always.stderr, `"step":"verify"`) {
		t.Errorf("--verify=always on a fresh database did not verify:\n%s", always.stderr)
	}

	second := cli(t, dbEnv(url), "up")
	mustCode(t, second, 0)
	if !strings.Contains(second.stderr, "nothing to apply") {
		t.Errorf("second run did not say it had nothing to apply:\n%s", second.stderr)
	}
	if strings.Contains(second.stderr, `"step":"lock"`) {
		t.Errorf("a no-op run took the lock:\n%s", second.stderr)
	}
	mustCode(t, cli(t, dbEnv(url), "verify"), 0)

	status := cli(t, dbEnv(url), "status", "--exit-code")
	mustCode(t, status, 0)
	if !strings.Contains(status.stdout, "0005 of 0005 (up to date)") || strings.Count(status.stdout, " applied ") != 5 {
		t.Errorf("status output:\n%s", status.stdout)
	}
}

func TestSeedDemoIsIdempotent(t *testing.T) {
	url := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(url), "up", "--seed", "demo"), 0)
	counts := func() string {
		return query[string](t, url, `SELECT format('%s/%s/%s/%s', (SELECT count(*) FROM carts), (SELECT count(*) FROM cart_items),
			(SELECT count(*) FROM orders), (SELECT count(*) FROM order_items))`)
	}
	first := counts()
	if first != "5/15/10/20" {
		t.Fatalf("demo data counts = %s, want 5/15/10/20", first)
	}
	mustCode(t, cli(t, dbEnv(url), "up", "--seed", "demo"), 0)
	if again := counts(); again != first {
		t.Errorf("second seed changed counts: %s -> %s", first, again)
	}
	mustCode(t, cli(t, dbEnv(url), "up", "--seed", "nonsense"), 2)
}

func TestLegacyAdoptionKeepsEveryRow(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, legacyFixture(t))
	pgtest.Exec(t, url, legacyRows)
	before := tableFingerprint(t, url)

	r := cli(t, dbEnv(url), "up")
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "adopted the legacy schema") {
		t.Errorf("no adoption logged:\n%s", r.stderr)
	}
	if after := tableFingerprint(t, url); before != after {
		t.Fatalf("rows changed during adoption\nbefore %s\nafter  %s", before, after)
	}
	if kind := query[string](t, url, "SELECT kind FROM carthub_schema_history WHERE version = 1"); kind != "adopted" {
		t.Errorf("baseline recorded as %q, want adopted", kind)
	}
	if s := query[string](t, url, "SELECT status FROM orders WHERE customer_id = 'cust-null'"); s != "pending" {
		t.Errorf("NULL status backfilled to %q, want pending", s)
	}
	if n := query[int64](t, url, "SELECT count(*) FROM carts WHERE created_at IS NULL OR updated_at IS NULL"); n != 0 {
		t.Errorf("%d carts still have NULL timestamps", n)
	}
	mustCode(t, cli(t, dbEnv(url), "verify"), 0)
}

func TestAdoptionRefusesTablesThatDifferFromBaseline(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, legacyFixture(t))
	pgtest.Exec(t, url, "ALTER TABLE orders ADD COLUMN coupon text; DROP INDEX idx_orders_status;")
	r := cli(t, dbEnv(url), "up")
	mustCode(t, r, 5)
	for _, want := range []string{"cannot be adopted", "column orders.coupon is not in the expected schema", "index orders.idx_orders_status is missing"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if query[bool](t, url, "SELECT to_regclass('carthub_schema_history') IS NOT NULL") {
		t.Error("a refused adoption created the history table")
	}
}

func TestHistoryRefusals(t *testing.T) {
	tests := []struct {
		name, tamper, want string
	}{
		{"changed_file", "UPDATE carthub_schema_history SET checksum = repeat('0', 64) WHERE version = 3",
			"0003_backfill_nulls.sql was changed after it was applied"},
		{"database_ahead", "INSERT INTO carthub_schema_history (version, name, checksum, duration_ms, applied_by) VALUES (9, 'future', 'x', 1, 'newer image')",
			"knows only versions up to 0005"},
		{"pending_below_applied", "DELETE FROM carthub_schema_history WHERE version = 2",
			"0002_timestamptz.sql is not applied but a later version (0005) is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := pgtest.NewDB(t)
			mustCode(t, cli(t, dbEnv(url), "up"), 0)
			pgtest.Exec(t, url, tt.tamper)
			for _, cmd := range []string{"up", "status"} {
				r := cli(t, dbEnv(url), cmd)
				mustCode(t, r, 5)
				if !strings.Contains(r.stderr, tt.want) {
					t.Errorf("%s: stderr lacks %q:\n%s", cmd, tt.want, r.stderr)
				}
			}
		})
	}
}

func TestEightMigratorsAtOnce(t *testing.T) {
	url := pgtest.NewDB(t)
	var procs []*running
	for range 8 {
		procs = append(procs, start(t, dbEnv(url), "up", "--retry-backoff", "50ms"))
	}
	applied := map[float64]int{}
	for _, p := range procs {
		r := p.wait(t)
		mustCode(t, r, 0)
		for _, l := range r.logs() {
			if l["msg"] == "apply migration done" {
				applied[l["version"].(float64)]++
			}
		}
	}
	for v := 1.0; v <= 5; v++ {
		if applied[v] != 1 {
			t.Errorf("version %v applied %d times across the 8 migrators, want once", v, applied[v])
		}
	}
	if got := historyVersions(t, url); len(got) != 5 {
		t.Errorf("history = %v", got)
	}
}

// writeMigrations makes a migrations directory for tests that need their own files.
func writeMigrations(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSIGTERMMidMigrationThenRerunConverges(t *testing.T) {
	dir := writeMigrations(t, map[string]string{
		"0001_first.sql": "CREATE TABLE first (id int);\n",
		// Sleeps only when the test asks, through a session setting in the URL.
		"0002_slow.sql":  "CREATE TABLE slow (id int);\nSELECT pg_sleep(coalesce(nullif(current_setting('carthub.test_sleep', true), ''), '0')::float8);\n",
		"0003_third.sql": "CREATE TABLE third (id int);\n",
	})
	url := pgtest.NewDB(t)
	term := filepath.Join(t.TempDir(), "termination-log")
	if err := os.WriteFile(term, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": url + "&options=" + "-c%20carthub.test_sleep%3D60", "MIGRATOR_DIR": dir,
		"MIGRATOR_TERMINATION_LOG": term}
	p := start(t, env, "up")
	waitFor(t, url, "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()")
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	r := p.wait(t)
	mustCode(t, r, 143)
	if msg, _ := os.ReadFile(term); !strings.HasPrefix(string(msg), "exit 143: ") {
		t.Errorf("termination log = %q, want a one-line summary with exit 143", msg)
	}
	if got := historyVersions(t, url); len(got) != 1 {
		t.Errorf("history after SIGTERM = %v, want only version 1", got)
	}
	if query[bool](t, url, "SELECT to_regclass('slow') IS NOT NULL") {
		t.Error("the interrupted migration's table exists: its transaction was not rolled back")
	}
	waitFor(t, url, "SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()")
	waitFor(t, url, "SELECT count(*) = 0 FROM pg_locks WHERE locktype = 'advisory'")

	mustCode(t, cli(t, map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir}, "up"), 0)
	if got := historyVersions(t, url); len(got) != 3 {
		t.Errorf("history after rerun = %v, want 1..3", got)
	}
}

// waitFor polls a boolean query until it is true (for at most 30s).
func waitFor(t *testing.T, url, sql string) {
	t.Helper()
	conn := pgtest.Connect(t, url)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ok bool
		if err := conn.QueryRow(context.Background(), sql).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", sql)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Legacy tables owned by a role the migrator is not a member of: adoption is refused before
// anything is recorded, naming the tables, their owner and the statements that fix it; after the
// fix the adoption goes through.
func TestAdoptionRefusesTablesItCannotAlter(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, legacyFixture(t))
	db := strings.TrimPrefix(mustParseURL(t, url).Path, "/")
	admin := pgtest.AdminURL(t, db)
	pgtest.Exec(t, admin, `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'legacy_app') THEN CREATE ROLE legacy_app; END IF; END $$;
ALTER TABLE carts OWNER TO legacy_app; ALTER TABLE orders OWNER TO legacy_app`)
	if pgtest.Superuser() {
		// A superuser may alter any table: the same database is adopted and migrated.
		mustCode(t, cli(t, dbEnv(url), "up"), 0)
		return
	}
	r := cli(t, dbEnv(url), "up")
	mustCode(t, r, 2)
	for _, want := range []string{"carts (owner legacy_app)", "orders (owner legacy_app)", `ALTER TABLE "carts" OWNER TO "carthub_owner";`, "nothing was changed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if query[bool](t, url, "SELECT to_regclass('carthub_schema_history') IS NOT NULL") {
		t.Error("the history table was created although adoption was refused")
	}
	pgtest.Exec(t, admin, "ALTER TABLE carts OWNER TO carthub_owner; ALTER TABLE orders OWNER TO carthub_owner")
	mustCode(t, cli(t, dbEnv(url), "up"), 0)
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
