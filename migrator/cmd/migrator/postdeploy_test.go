package main

import (
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// Expand and contract: plain up applies the files up to the first post-deploy one and says what
// waits; status and plan show it; up --post-deploy applies the rest after the rollout; the
// history records each file's phase and the metrics line counts both.
func TestPostDeployFilesWaitForTheRollout(t *testing.T) {
	dir := writeMigrations(t, map[string]string{
		"0001_table.sql":      "CREATE TABLE items (id int PRIMARY KEY, qty int, quantity int);\n",
		"0002_drop_qty.sql":   "-- migrator:post-deploy\n-- contract: the released version reads quantity only\nALTER TABLE items DROP COLUMN qty;\n",
		"0003_after_drop.sql": "CREATE INDEX IF NOT EXISTS items_quantity ON items (quantity);\n",
	})
	url := pgtest.NewDB(t)
	env := map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir, "MIGRATOR_LOG_FORMAT": "json"}
	r := cli(t, env, "up")
	mustCode(t, r, 0)
	if got := historyVersions(t, url); len(got) != 1 {
		t.Fatalf("plain up applied %v, want 0001 only (0002 is post-deploy, 0003 comes after it)", got)
	}
	if !strings.Contains(r.stderr, `"PostDeployWaiting":2`) || !strings.Contains(r.stderr, "up --post-deploy") {
		t.Errorf("the run should say two files wait, in the log and the metrics line:\n%s", r.stderr)
	}
	// The next deploy's plain up is the no-op path: nothing it may apply is pending.
	again := cli(t, env, "up")
	mustCode(t, again, 0)
	if !strings.Contains(again.stderr, "nothing to apply") {
		t.Errorf("a second plain up should be a no-op:\n%s", again.stderr)
	}
	st := cli(t, env, "status")
	mustCode(t, st, 0)
	if !strings.Contains(st.stdout, "pending, post-deploy: waits for the rollout") {
		t.Errorf("status does not show the waiting file:\n%s", st.stdout)
	}
	plan := cli(t, env, "plan")
	mustCode(t, plan, 0)
	if !strings.Contains(plan.stdout, "0002_drop_qty.sql waits for the application's rollout") || strings.Contains(plan.stdout, "DROP COLUMN") {
		t.Errorf("plan without --post-deploy must show 0002 waiting, not its SQL:\n%s", plan.stdout)
	}
	post := cli(t, env, "up", "--post-deploy")
	mustCode(t, post, 0)
	if got := historyVersions(t, url); len(got) != 3 {
		t.Fatalf("up --post-deploy applied up to %v, want all three", got)
	}
	if !strings.Contains(post.stderr, `"PostDeployApplied":1`) {
		t.Errorf("the metrics line should count the post-deploy file applied:\n%s", post.stderr)
	}
	phases := query[string](t, url, "SELECT string_agg(version || ':' || phase, ',' ORDER BY version) FROM carthub_schema_history")
	if phases != "1:pre-deploy,2:post-deploy,3:pre-deploy" {
		t.Errorf("history phases %q", phases)
	}
	st = cli(t, env, "status")
	if !strings.Contains(st.stdout, "applied (post-deploy)") {
		t.Errorf("status does not show the phase:\n%s", st.stdout)
	}
}
