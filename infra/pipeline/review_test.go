package pipeline

import (
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The review script's tests: real git repositories (an origin holding the destination and the
// pull requests' branches, a clone checked out at the source commit as CodeBuild checks it out),
// the real aws CLI, the real migrator lint on a real PostgreSQL (its own throwaway server), and
// codeCommit, a stand-in for CodeCommit's pull request calls, the one part that is not real.

var migratorOnce struct {
	sync.Once
	bin string
	err error
}

// migratorBin builds the migrator once for the review tests.
func migratorBin(t *testing.T) string {
	t.Helper()
	migratorOnce.Do(func() {
		dir, err := os.MkdirTemp("", "review-migrator-")
		if err != nil {
			migratorOnce.err = err
			return
		}
		migratorOnce.bin = filepath.Join(dir, "migrator")
		out, err := exec.Command("go", "build", "-o", migratorOnce.bin, "../../migrator/cmd/migrator").CombinedOutput()
		if err != nil {
			migratorOnce.err = err
			t.Logf("%s", out)
		}
	})
	if migratorOnce.err != nil {
		t.Fatalf("build the migrator: %v", migratorOnce.err)
	}
	return migratorOnce.bin
}

// gitRepo is the origin of a test: a bare repository whose main holds our migrations, and a
// working clone to make branches in.
type gitRepo struct {
	t            *testing.T
	origin, work string
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=author", "GIT_AUTHOR_EMAIL=author@invalid", "GIT_COMMITTER_NAME=author",
		"GIT_COMMITTER_EMAIL=author@invalid", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v in %s: %v\n%s", args, dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// newGitRepo makes the origin with main holding the repository's migrations (0001 to 0005).
func newGitRepo(t *testing.T) *gitRepo {
	dir := t.TempDir()
	r := &gitRepo{t: t, origin: filepath.Join(dir, "origin.git"), work: filepath.Join(dir, "work")}
	git(t, dir, "init", "--quiet", "--bare", "--initial-branch=main", r.origin)
	git(t, dir, "clone", "--quiet", r.origin, r.work)
	git(t, r.work, "checkout", "--quiet", "-b", "main")
	files, err := filepath.Glob("../../migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations in ../../migrations: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r.write("migrations/"+filepath.Base(f), string(b))
	}
	r.commit("main", "the migrations")
	return r
}

func (r *gitRepo) write(path, content string) {
	p := filepath.Join(r.work, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit commits everything on branch and pushes it; it returns the commit.
func (r *gitRepo) commit(branch, msg string) string {
	git(r.t, r.work, "add", "-A")
	git(r.t, r.work, "commit", "--quiet", "-m", msg)
	git(r.t, r.work, "push", "--quiet", "origin", "HEAD:refs/heads/"+branch)
	return git(r.t, r.work, "rev-parse", "HEAD")
}

// branch starts branch from commit in the working clone.
func (r *gitRepo) branch(name, from string) {
	git(r.t, r.work, "checkout", "--quiet", "-B", name, from)
}

// openPullRequest is the stand-in's pull request of branch into main as they are now.
func (r *gitRepo) openPullRequest(t *testing.T, branch string) *codeCommit {
	return newCodeCommit(t, "carthub-db", pullRequest{ID: "42", title: branch,
		Source: git(t, r.origin, "rev-parse", branch), Destination: git(t, r.origin, "rev-parse", "main"),
		SourceRef: "refs/heads/" + branch, DestinationRef: "refs/heads/main"})
}

type reviewRun struct {
	code   int
	stdout string
	stderr string
	junit  string // the JUnit file lint wrote ("" none)
}

// review runs review.sh as the Review project does: in a clone checked out at the pull
// request's source commit, with the real aws CLI pointed at the stand-in.
func (r *gitRepo) review(t *testing.T, cc *codeCommit) reviewRun {
	t.Helper()
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the aws CLI is required (CI puts the machine's pyenv on PATH: PATH=~/.pyenv/shims:$PATH)")
	}
	dir := t.TempDir()
	checkout := filepath.Join(dir, "src")
	git(t, dir, "clone", "--quiet", r.origin, checkout)
	git(t, checkout, "checkout", "--quiet", "--detach", cc.pr.Source)
	script, err := filepath.Abs("review.sh")
	if err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(dir, "reports", "lint-review.xml")
	cmd := exec.Command("bash", script)
	cmd.Dir = checkout
	cmd.Env = []string{"PATH=" + filepath.Dir(aws) + ":/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + dir, "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"PULL_REQUEST_ID=42", "REPOSITORY_NAME=carthub-db", "CODECOMMIT_ENDPOINT_URL=" + cc.srv.URL,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"MIGRATOR=" + cmp.Or(cc.migrator, migratorBin(t)), "JUNIT_FILE=" + junit, "LINT_ARGS=--rows 2000 --cache-dir none",
		"PG_BINDIR=" + os.Getenv("PG_BINDIR")}
	if os.Getenv("PYENV_ROOT") != "" {
		cmd.Env = append(cmd.Env, "PYENV_ROOT="+os.Getenv("PYENV_ROOT"))
	}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	res := reviewRun{stdout: out.String(), stderr: errOut.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		res.code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(junit); err == nil {
		res.junit = string(b)
	}
	return res
}

// comment is the one comment on the pull request; more than one fails the test.
func (c *codeCommit) comment(t *testing.T) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.comments) != 1 {
		t.Fatalf("%d comments on the pull request, want exactly one", len(c.comments))
	}
	return c.comments[0]["content"].(string)
}

func wantReview(t *testing.T, r reviewRun, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("review.sh exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

func wantIn(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

const addNote = "-- Adds orders.note (nullable, no default: a catalog change only). Locks: ACCESS EXCLUSIVE on orders, milliseconds.\nALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;\n"

// A pull request whose new file is online-safe gets one comment saying so, and the Review
// role's approval of its revision; lint wrote the JUnit file for the report group.
func TestReviewApprovesAPassingPullRequest(t *testing.T) {
	r := newGitRepo(t)
	r.branch("add-note", "main")
	r.write("migrations/0006_orders_note.sql", addNote)
	r.commit("add-note", "add orders.note")
	cc := r.openPullRequest(t, "add-note")

	res := r.review(t, cc)
	wantReview(t, res, 0)
	wantIn(t, "the comment", cc.comment(t), "**migrator lint review** for `", "merged into `main`", "✅ **online-safe**", "### ✅ `0006_orders_note.sql`")
	if cc.approved["rev-1"] != "APPROVE" {
		t.Errorf("approval states %v, want rev-1 approved; calls %v", cc.approved, cc.ops())
	}
	wantIn(t, "the JUnit file", res.junit, `<testsuite name="0006_orders_note.sql"`)
	t.Logf("the comment:\n%s", cc.comment(t))
}

// A push that adds a failing file: the same comment is edited to show the finding with its fix,
// and the approval the earlier revision got is revoked on the new one.
func TestReviewRevokesAfterAFailingPushAndEditsTheComment(t *testing.T) {
	r := newGitRepo(t)
	r.branch("add-note", "main")
	r.write("migrations/0006_orders_note.sql", addNote)
	r.commit("add-note", "add orders.note")
	cc := r.openPullRequest(t, "add-note")
	wantReview(t, r.review(t, cc), 0)

	bad, err := os.ReadFile("../../migrator/internal/lint/testdata/blocking-index-build/bad.sql")
	if err != nil {
		t.Fatal(err)
	}
	r.write("migrations/0007_orders_total_amount_index.sql", string(bad))
	cc.push(r.commit("add-note", "index orders.total_amount"))
	res := r.review(t, cc)
	wantReview(t, res, 8)
	comment := cc.comment(t) // still one: edited, not a second one
	wantIn(t, "the edited comment", comment, "❌ **NOT online-safe**", "### ❌ `0007_orders_total_amount_index.sql`",
		"❌ **blocking-index-build**", "fix: CREATE INDEX CONCURRENTLY", "-- migrator:allow RULE-ID: reason")
	if up := cc.lastCall("UpdateComment"); up == nil || up["commentId"] != "comment-1" {
		t.Errorf("the comment was not edited: calls %v", cc.ops())
	}
	if cc.approved["rev-1"] != "APPROVE" || cc.approved["rev-2"] != "REVOKE" {
		t.Errorf("approval states %v, want rev-1 approved and rev-2 revoked", cc.approved)
	}
	wantIn(t, "the JUnit file", res.junit, `type="blocking-index-build"`)
	t.Logf("the comment:\n%s", comment)
}

// A migration the destination already has, changed: refused by name before lint runs, with
// what to do instead.
func TestReviewRefusesAChangedAppliedFile(t *testing.T) {
	r := newGitRepo(t)
	r.branch("fix-backfill", "main")
	b, err := os.ReadFile(filepath.Join(r.work, "migrations/0003_backfill_nulls.sql"))
	if err != nil {
		t.Fatal(err)
	}
	r.write("migrations/0003_backfill_nulls.sql", string(b)+"\n-- batches of 10,000 now\n")
	r.commit("fix-backfill", "change an applied file")
	cc := r.openPullRequest(t, "fix-backfill")

	res := r.review(t, cc)
	wantReview(t, res, 2)
	wantIn(t, "the comment", cc.comment(t), "❌ **Changes an applied migration**", "`migrations/0003_backfill_nulls.sql`",
		"add a new file instead, `migrations/0006_<what it does>.sql`")
	if cc.approved["rev-1"] != "REVOKE" {
		t.Errorf("approval states %v, want rev-1 revoked", cc.approved)
	}
	if res.junit != "" {
		t.Error("lint ran on a pull request that changes an applied file")
	}
}

// Two pull requests add 0006; the first merges. The second is told the version is taken and
// the one to renumber to.
func TestReviewTellsADuplicateVersionToRenumber(t *testing.T) {
	r := newGitRepo(t)
	base := git(t, r.work, "rev-parse", "main")
	r.branch("first", base)
	r.write("migrations/0006_orders_note.sql", addNote)
	r.commit("first", "the first pull request")
	r.branch("second", base)
	r.write("migrations/0006_carts_note.sql", "ALTER TABLE carts ADD COLUMN IF NOT EXISTS note text;\n")
	r.commit("second", "the second pull request")
	git(t, r.work, "push", "--quiet", "origin", "first:main") // the first merged (fast-forward)

	cc := r.openPullRequest(t, "second")
	res := r.review(t, cc)
	wantReview(t, res, 2)
	wantIn(t, "the comment", cc.comment(t), "❌ **Version taken**", "`migrations/0006_carts_note.sql`",
		"has taken 0006 since your branch was made (`migrations/0006_orders_note.sql`)",
		"Renumber yours to 0007: `git mv migrations/0006_carts_note.sql migrations/0007_carts_note.sql`")
	if cc.approved["rev-1"] != "REVOKE" {
		t.Errorf("approval states %v, want rev-1 revoked", cc.approved)
	}
}

// A post-deploy file is named as one that waits for the rollout; lint reports, and does not
// fail, what it removes of the old version.
func TestReviewNamesPostDeployFiles(t *testing.T) {
	r := newGitRepo(t)
	r.branch("contract", "main")
	r.write("migrations/0006_orders_note.sql", addNote)
	r.write("migrations/0007_drop_orders_note.sql", "-- migrator:post-deploy\n-- Drops orders.note once no version reads it.\nALTER TABLE orders DROP COLUMN IF EXISTS note;\n")
	r.commit("contract", "expand and contract")
	cc := r.openPullRequest(t, "contract")

	res := r.review(t, cc)
	wantReview(t, res, 0)
	wantIn(t, "the comment", cc.comment(t), "**Post-deploy files**:",
		"- `migrations/0007_drop_orders_note.sql` waits for the rollout: `migrator up` stops before it")
	if strings.Contains(cc.comment(t), "0006_orders_note.sql` waits") {
		t.Error("named a file that is not post-deploy")
	}
}

// A source that conflicts with the destination as it is now is refused with the files.
func TestReviewRefusesAConflict(t *testing.T) {
	r := newGitRepo(t)
	base := git(t, r.work, "rev-parse", "main")
	r.branch("queries", base)
	r.write("migrations/queries.sql", "-- the pull request's\n")
	r.commit("queries", "rewrite queries.sql")
	r.branch("main", base)
	r.write("migrations/queries.sql", "-- main's\n")
	r.commit("main", "main rewrote queries.sql too")

	cc := r.openPullRequest(t, "queries")
	res := r.review(t, cc)
	wantReview(t, res, 2)
	wantIn(t, "the comment", cc.comment(t), "❌ **Does not merge**", "- `migrations/queries.sql`")
}

// A report longer than CodeCommit takes in a comment (10,240 characters: the stand-in refuses
// more, as CodeCommit does) is cut with a pointer to the whole report; the verdict stands. The
// migrator here is a stand-in too, writing 40 files' worth of report: what is tested is the cut.
func TestReviewCutsAReportLongerThanAComment(t *testing.T) {
	r := newGitRepo(t)
	r.branch("many", "main")
	r.write("migrations/0006_orders_note.sql", addNote)
	r.commit("many", "add orders.note")
	cc := r.openPullRequest(t, "many")
	fake := filepath.Join(t.TempDir(), "migrator")
	script := `#!/usr/bin/env bash
while [ $# -gt 0 ]; do case "$1" in --output) out=$2; shift ;; --junit) junit=$2; shift ;; esac; shift; done
{ echo "✅ **online-safe**: 0 finding(s) failed, 0 allowed, in 40 file(s)"
  for i in $(seq 6 45); do printf '\n### ✅ %s\n\n| line | statement |\n| ---: | --- |\n' "$(printf '%04d_file_%d.sql' "$i" "$i")"
    for l in $(seq 1 5); do printf '| %d | ` + "`" + ` ALTER TABLE orders ADD COLUMN IF NOT EXISTS c%d text, cut at 57 ... ` + "`" + ` | orders ACCESS EXCLUSIVE (1ms) | ok |\n' "$l" "$l"; done
  done; } > "$out"
echo '<testsuites/>' > "$junit"
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cc.migrator = fake
	res := r.review(t, cc)
	wantReview(t, res, 0)
	comment := cc.comment(t)
	if len(comment) > 10240 {
		t.Fatalf("a comment of %d characters", len(comment))
	}
	wantIn(t, "the comment", comment, "**migrator lint review** for `", "### ✅ 0006_file_6.sql",
		"… cut here: a comment holds at most 10,240 characters. The whole report is in the Review build's log and its Reports tab.")
	if cc.approved["rev-1"] != "APPROVE" {
		t.Errorf("approval states %v", cc.approved)
	}
}
