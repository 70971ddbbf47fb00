package main

import (
	"strings"
	"syscall"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// kill -9 (an OOM kill, an eviction) in the middle of a no-transaction file: status says the file
// is partly applied, not pending, and the next run resumes at the statement that was running.
func TestKill9MidNoTransactionFileResumes(t *testing.T) {
	dir := writeMigrations(t, map[string]string{
		"0001_first.sql": "CREATE TABLE first (id int);\n",
		"0002_steps.sql": "-- migrator:no-transaction\nCREATE TABLE k_t (id int);\nCREATE TABLE k_u (id int);\n" + sleepy + ";\nCREATE TABLE k_v (id int);\n",
	})
	url := pgtest.NewDB(t)
	p := start(t, map[string]string{"DATABASE_URL": withSleep(url, "60"), "MIGRATOR_DIR": dir}, "up")
	waitFor(t, url, "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep%' AND state = 'active' AND datname = current_database() AND pid <> pg_backend_pid()")
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	// The server notices the dead client at its next write; end the orphan as a failover would.
	pgtest.Exec(t, url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep%' AND pid <> pg_backend_pid()")
	waitFor(t, url, "SELECT count(*) = 0 FROM pg_locks WHERE locktype = 'advisory'")

	env := map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir}
	st := cli(t, env, "status")
	mustCode(t, st, 0)
	if !strings.Contains(st.stdout, "PARTIAL: 2 of 4 statements ran") {
		t.Errorf("status after kill -9 does not say 0002 is partly applied (2 of 4):\n%s", st.stdout)
	}
	r := cli(t, env, "up")
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "resuming a partly applied file") {
		t.Errorf("the rerun did not resume:\n%s", r.stderr)
	}
	if got := historyVersions(t, url); len(got) != 2 {
		t.Errorf("history = %v, want 1..2", got)
	}
}
