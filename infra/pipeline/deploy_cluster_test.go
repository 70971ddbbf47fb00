package pipeline

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every way a run of the Deploy stage ends, one after another on the same cluster, as the
// pipeline meets them: each run leaves its Job and its events behind for the next.
func TestDeployOnARealControlPlane(t *testing.T) {
	bootstrap(t)
	healthy := func(t *testing.T) string { return jobWith(t) }
	steps := []struct {
		name     string
		manifest func(t *testing.T) string
		env      []string
		code     int
		story    []string
	}{
		{"success", healthy, nil, 0, []string{"creating Job database-migration", "attempt 1: pod database-migration-",
			"simulated by kwok", "Job database-migration completed"}},
		{"rerun_after_success", healthy, nil, 0, []string{"removing the finished Job database-migration (SuccessCriteriaMet Complete)", "Job database-migration completed"}},
		{"exit_1_fails_the_job_at_once", func(t *testing.T) string { return jobWith(t, exitCode(1)) }, nil, 1,
			[]string{"Job database-migration failed (PodFailurePolicy)", "attempt 1: pod"}},
		// backoffLimit 1 instead of 3 keeps the test to one retry (the controller waits 10 s, 20 s, ...).
		{"exit_3_is_retried_to_the_backoff_limit", func(t *testing.T) string { return jobWith(t, exitCode(3), patch(`{"spec":{"backoffLimit":1}}`)) }, nil, 1,
			[]string{"Job database-migration failed (BackoffLimitExceeded)", "attempt 1: pod", "attempt 2: pod"}},
		{"pod_security_rejects_a_privileged_pod", func(t *testing.T) string {
			return jobWith(t, []string{"patch", "--type", "strategic", "-p",
				`{"spec":{"template":{"spec":{"containers":[{"name":"migrator","securityContext":{"privileged":true,"allowPrivilegeEscalation":true}}]}}}}`})
		}, nil, 1, []string{"the Job cannot create its pod", `violates PodSecurity "baseline:v1.35"`, "privileged"}},
		// Bug 1: the rejection's events outlive its Job; bug 2: the Job it left never ended.
		{"healthy_after_a_rejection", healthy, nil, 0, []string{"Job database-migration completed"}},
		{"image_pull_backoff", func(t *testing.T) string {
			return jobWith(t, []string{"set", "image", "migrator=registry.invalid/carthub-database:missing"})
		}, nil, 1, []string{"ImagePullBackOff: the node cannot pull the image"}},
		{"healthy_after_an_image_that_cannot_be_pulled", healthy, nil, 0, []string{"Job database-migration completed"}},
		// Bug 3: a pod no node can take fails with the scheduler's reason, not after the deadline.
		{"unschedulable_pod", func(t *testing.T) string {
			return jobWith(t, []string{"patch", "--type", "strategic", "-p",
				`{"spec":{"template":{"spec":{"containers":[{"name":"migrator","resources":{"requests":{"memory":"64Gi"},"limits":{"memory":"64Gi"}}}]}}}}`})
		}, []string{"UNSCHEDULABLE_GRACE=3"}, 1, []string{"no node can run the pod", "Insufficient memory"}},
		{"healthy_after_an_unschedulable_pod", healthy, nil, 0, []string{"Job database-migration completed"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := realDeploy(t, st.manifest(t), st.env...)
			wantRun(t, r, st.code, st.story...)
			// Bug 4: the version line is kubectl's, never a SIGPIPE's "unknown".
			if !strings.Contains(r.stdout, "Client Version: v1.35") || strings.Contains(r.stdout, "kubectl version unknown") {
				t.Errorf("the version line is wrong:\n%s", r.stdout)
			}
		})
	}
}

// The PostDeploy stage runs the same Job spec with MIGRATOR_POST_DEPLOY=true, which deploy.sh
// adds with kubectl itself; the API server holds that Job.
func TestPostDeployRunsTheSameJob(t *testing.T) {
	r := realDeploy(t, jobWith(t), "POST_DEPLOY=true")
	wantRun(t, r, 0, "creating Job database-migration for the post-deploy migrations (MIGRATOR_POST_DEPLOY=true)", "Job database-migration completed")
	env := cluster.Must(t, cluster.Admin, "", "get", "job", "database-migration", "-n", "shopping-cart",
		"-o", `jsonpath={.spec.template.spec.containers[0].env[?(@.name=="MIGRATOR_POST_DEPLOY")].value}|{.spec.activeDeadlineSeconds}|{.spec.podFailurePolicy.rules[0].action}`)
	if env != "true|3600|FailJob" {
		t.Errorf("the post-deploy Job on the server: MIGRATOR_POST_DEPLOY|deadline|policy = %q, want the same spec with the setting", env)
	}
}

// After a run that applied something the Job logs its tables' shape and the statements production
// runs; on the real control plane (kwok serves those lines as the pod's log) deploy.sh stores
// exactly the shape in SHAPE_URI and the statements' text in STATEMENTS_URI, S3 objects on
// moto_server, with the real aws CLI.
func TestDeployStoresTheShapeOnARealControlPlane(t *testing.T) {
	aws, err := exec.LookPath("aws")
	moto, merr := exec.LookPath("moto_server")
	if err != nil || merr != nil {
		t.Fatal("the aws CLI and moto_server are required (make moto; CI puts the machine's pyenv on PATH)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := exec.Command(moto, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	awsEnv := []string{"AWS_ENDPOINT_URL=http://127.0.0.1:" + strconv.Itoa(port), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1"}
	awsRun := func(args ...string) string {
		cmd := exec.Command(aws, args...)
		cmd.Env = append(os.Environ(), awsEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		cmd := exec.Command(aws, "s3api", "create-bucket", "--bucket", "artifacts")
		cmd.Env = append(os.Environ(), awsEnv...)
		if cmd.Run() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("moto_server did not start")
		}
	}

	// The pod's log as kwok serves it: the Job's lines, the shape among them (restored after).
	bootstrap(t)
	log := filepath.Join(cluster.Dir, "pod.log")
	was, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(log, was, 0o644) })
	const shape = `{"source":"db/carthub","tables":{"orders":{"rows":2000000}}}`
	// The statements: a corpus text (migrator up --log-statements), JSON-escaped in its line.
	const statements = "-- The statements production ran\n\n-- name: q1\n-- calls: 3\nSELECT id FROM orders WHERE customer_id = $1 AND \"Note\" = $2;\n"
	quoted, err := json.Marshal(statements)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	lines := at + ` stdout F {"level":"INFO","msg":"table shape","shape":` + shape + "}\n" +
		at + ` stdout F {"level":"INFO","msg":"application statements","count":1,"statements":` + string(quoted) + "}\n"
	if err := os.WriteFile(log, append(slices.Clone(was), lines...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := realDeploy(t, jobWith(t), append([]string{"SHAPE_URI=s3://artifacts/shapes/dev.json", "STATEMENTS_URI=s3://artifacts/shapes/dev-statements.sql",
		"PATH=" + filepath.Dir(aws) + ":/usr/bin:/bin"}, awsEnv...)...)
	wantRun(t, r, 0, "table shape stored in s3://artifacts/shapes/dev.json")
	wantRun(t, r, 0, "production's statements stored in s3://artifacts/shapes/dev-statements.sql")
	if got := strings.TrimSpace(awsRun("s3", "cp", "s3://artifacts/shapes/dev.json", "-")); got != shape {
		t.Errorf("stored %q, want the shape the Job logged: %s", got, shape)
	}
	if got := awsRun("s3", "cp", "s3://artifacts/shapes/dev-statements.sql", "-"); strings.TrimSpace(got) != strings.TrimSpace(statements) {
		t.Errorf("stored %q, want the statements the Job logged, as text: %q", got, statements)
	}
}
