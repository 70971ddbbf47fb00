package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/carthub/carthub-db/migrator/internal/awstest"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

var (
	motoOnce sync.Once
	moto     *awstest.Server
	motoErr  error
)

// openMoto is one emulator for the package, started on first use; tests keep apart by names.
func openMoto(t *testing.T) *awstest.Server {
	t.Helper()
	motoOnce.Do(func() { moto, motoErr = awstest.Start() })
	if motoErr != nil {
		t.Fatal(motoErr)
	}
	return moto
}

func stopMoto() {
	if moto != nil {
		moto.Stop()
	}
}

// dbSecret is the JSON of the secret RDS generates for an instance, pointing at a test database.
func dbSecret(t *testing.T, dbURL string) (string, string) {
	t.Helper()
	u, _ := url.Parse(dbURL)
	pw, _ := u.User.Password()
	port, _ := strconv.Atoi(u.Port())
	b, _ := json.Marshal(map[string]any{"username": u.User.Username(), "password": pw, "host": u.Hostname(), "port": port,
		"dbname": strings.TrimPrefix(u.Path, "/"), "engine": "postgres"})
	return string(b), pw
}

func withEnv(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func mustNotContain(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("secret %q appears in the output:\n%s\n%s", s, r.stdout, r.stderr)
		}
	}
}

func TestSecretsManagerConnectionEndToEnd(t *testing.T) {
	m := openMoto(t)
	url := pgtest.NewDB(t)
	value, pw := dbSecret(t, url)
	arn := m.Clients().CreateSecret(t, "carthub/e2e/db-"+t.Name(), value)
	env := withEnv(m.Env("testing", "testing"), "DB_SECRET_ARN", arn)

	r := cli(t, env, "up")
	mustCode(t, r, 0)
	mustNotContain(t, r, pw)
	if !strings.Contains(r.stderr, `"step":"read secret"`) {
		t.Errorf("no read-secret step logged:\n%s", r.stderr)
	}
	if got := historyVersions(t, url); len(got) != 5 {
		t.Errorf("history = %v", got)
	}
	// The region comes from the ARN when AWS_REGION is not set.
	noRegion := withEnv(env, "AWS_REGION", "")
	mustCode(t, cli(t, noRegion, "status"), 0)
}

func TestManagedMasterSecretTakesHostAndPortFromTheInstance(t *testing.T) {
	m := openMoto(t)
	c := m.Clients()
	c.CreateInstance(t, "carthub-managed", 6432)
	arn := c.CreateSecret(t, "rds!db-managed-master", `{"username":"carthub_admin","password":"managed-Pa55word"}`)
	env := withEnv(m.Env("testing", "testing"), "DB_SECRET_ARN", arn, "MIGRATOR_CONNECT_TIMEOUT", "1s")

	r := cli(t, env, "up")
	mustCode(t, r, 2)
	if !strings.Contains(r.stderr, "has no host (an RDS-managed master secret): set DB_INSTANCE_IDENTIFIER") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	// With the instance named, the migrator connects to the endpoint RDS reports. The emulator's
	// host name does not resolve here, which proves where it went.
	r = cli(t, withEnv(env, "DB_INSTANCE_IDENTIFIER", "carthub-managed"), "up")
	mustCode(t, r, 3)
	if !strings.Contains(r.stderr, "carthub_admin@carthub-managed.") || !strings.Contains(r.stderr, ".rds.amazonaws.com:6432/carthub") {
		t.Errorf("did not connect to the instance's endpoint:\n%s", r.stderr)
	}
	mustNotContain(t, r, "managed-Pa55word")
}

// snapshotsOf lists the instance's manual snapshots (not RDS's automated ones) and their purpose tags.
func snapshotsOf(t *testing.T, m *awstest.Server, instance string) map[string]string {
	t.Helper()
	out, err := m.Clients().RDS.DescribeDBSnapshots(context.Background(), &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String(instance), SnapshotType: aws.String("manual")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range out.DBSnapshots {
		purpose := ""
		for _, tag := range s.TagList {
			if aws.ToString(tag.Key) == "carthub:purpose" {
				purpose = aws.ToString(tag.Value)
			}
		}
		got[aws.ToString(s.DBSnapshotIdentifier)] = purpose
	}
	return got
}

func TestSnapshotOnlyWhenSomethingIsPending(t *testing.T) {
	m := openMoto(t)
	c := m.Clients()
	c.CreateInstance(t, "carthub-snap", 5432)
	url := pgtest.NewDB(t)
	value, _ := dbSecret(t, url)
	env := withEnv(m.Env("testing", "testing"), "DB_SECRET_ARN", c.CreateSecret(t, "carthub/snap/db", value), "DB_INSTANCE_IDENTIFIER", "carthub-snap")

	mustCode(t, cli(t, env, "up", "--to", "2"), 0)
	snaps := snapshotsOf(t, m, "carthub-snap")
	if len(snaps) != 1 {
		t.Fatalf("snapshots after the first run = %v, want one", snaps)
	}
	for name, purpose := range snaps {
		if !strings.HasPrefix(name, "carthub-premigrate-0000-to-0002-") || purpose != "pre-migration" {
			t.Errorf("snapshot %s (purpose %q), want carthub-premigrate-0000-to-0002-<time> tagged pre-migration", name, purpose)
		}
	}
	r := cli(t, env, "up")
	mustCode(t, r, 0)
	if len(snapshotsOf(t, m, "carthub-snap")) != 2 || !strings.Contains(r.stderr, "carthub-premigrate-0002-to-0005-") {
		t.Errorf("second run: snapshots %v\n%s", snapshotsOf(t, m, "carthub-snap"), r.stderr)
	}
	noop := cli(t, env, "up")
	mustCode(t, noop, 0)
	if n := len(snapshotsOf(t, m, "carthub-snap")); n != 2 {
		t.Errorf("a no-op run took a snapshot: %d snapshots", n)
	}
	if strings.Contains(noop.stderr, "instance available") {
		t.Errorf("a no-op run called AWS for the instance:\n%s", noop.stderr)
	}
	st := cli(t, env, "status")
	mustCode(t, st, 0)
	if !strings.Contains(st.stdout, "Restore point: carthub-premigrate-0002-to-0005-") {
		t.Errorf("status does not show the latest restore point:\n%s", st.stdout)
	}
}

func TestSnapshotRetentionDeletesOnlyOurOldSnapshots(t *testing.T) {
	m := openMoto(t)
	c := m.Clients()
	c.CreateInstance(t, "carthub-keep", 5432)
	ctx := context.Background()
	mk := func(name string, ours bool) {
		in := &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("carthub-keep"), DBSnapshotIdentifier: aws.String(name)}
		if ours {
			in.Tags = []rdstypes.Tag{{Key: aws.String("carthub:purpose"), Value: aws.String("pre-migration")}}
		}
		if _, err := c.RDS.CreateDBSnapshot(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ {
		mk(fmt.Sprintf("carthub-premigrate-0000-to-000%d-2026010%dt000000z", i, i), true)
	}
	mk("nightly-manual-backup", false)               // someone else's
	mk("carthub-premigrate-untagged", false)         // our prefix, not our tag
	mk("other-team-premigrate-0001-to-0002-x", true) // our tag, not our prefix

	url := pgtest.NewDB(t)
	value, _ := dbSecret(t, url)
	env := withEnv(m.Env("testing", "testing"), "DB_SECRET_ARN", c.CreateSecret(t, "carthub/keep/db", value),
		"DB_INSTANCE_IDENTIFIER", "carthub-keep", "MIGRATOR_SNAPSHOT_RETENTION", "3")
	mustCode(t, cli(t, env, "up"), 0)

	var names []string
	for name := range snapshotsOf(t, m, "carthub-keep") {
		names = append(names, name)
	}
	sort.Strings(names)
	got := strings.Join(names, "\n")
	for _, keep := range []string{"nightly-manual-backup", "carthub-premigrate-untagged", "other-team-premigrate-0001-to-0002-x",
		"carthub-premigrate-0000-to-0004-", "carthub-premigrate-0000-to-0005-", "carthub-premigrate-0000-to-0005-2"} {
		if !strings.Contains(got, keep) {
			t.Errorf("%s was deleted or never made; left:\n%s", keep, got)
		}
	}
	for _, gone := range []string{"0000-to-0001-", "0000-to-0002-", "0000-to-0003-"} {
		if strings.Contains(got, gone) {
			t.Errorf("old snapshot %s was kept; left:\n%s", gone, got)
		}
	}
	if len(names) != 6 {
		t.Errorf("left %d snapshots, want 3 of ours and 3 others:\n%s", len(names), got)
	}
}

func TestAWSBadInput(t *testing.T) {
	m := openMoto(t)
	c := m.Clients()
	url := pgtest.NewDB(t)
	value, _ := dbSecret(t, url)
	goodARN := c.CreateSecret(t, "carthub/bad-input/good", value)
	notJSON := c.CreateSecret(t, "carthub/bad-input/not-json", "hunter2-not-json-at-all")
	noPassword := c.CreateSecret(t, "carthub/bad-input/no-password", `{"username":"app","host":"db","port":5432}`)
	c.CreateInstance(t, "carthub-stopped", 5432)
	if _, err := c.RDS.StopDBInstance(context.Background(), &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("carthub-stopped")}); err != nil {
		t.Fatal(err)
	}
	base := m.Env("testing", "testing")
	tests := []struct {
		name string
		env  map[string]string
		code int
		want string
	}{
		{"missing_secret", withEnv(base, "DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:carthub/nope-AbCdEf"), 2, "not found in us-east-1"},
		{"secret_not_json", withEnv(base, "DB_SECRET_ARN", notJSON), 2, "is not a JSON object"},
		{"secret_without_password", withEnv(base, "DB_SECRET_ARN", noPassword), 2, `has no "password" key`},
		{"no_region", withEnv(base, "DB_SECRET_ARN", "carthub/bad-input/good", "AWS_REGION", ""), 2, "no AWS region: set AWS_REGION"},
		{"instance_not_found", withEnv(base, "DB_SECRET_ARN", goodARN, "DB_INSTANCE_IDENTIFIER", "carthub-nope"), 2, `RDS instance "carthub-nope" not found`},
		{"instance_stopped", withEnv(base, "DB_SECRET_ARN", goodARN, "DB_INSTANCE_IDENTIFIER", "carthub-stopped"), 3, "carthub-stopped is stopped"},
		{"snapshot_without_instance", withEnv(base, "DB_SECRET_ARN", goodARN, "MIGRATOR_SNAPSHOT", "true"), 2, "needs the instance to snapshot"},
		{"bad_snapshot_prefix", withEnv(base, "DB_SECRET_ARN", goodARN, "MIGRATOR_SNAPSHOT_PREFIX", "Bad_Prefix"), 2, "--snapshot-prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, tt.env, "up")
			mustCode(t, r, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			mustNotContain(t, r, "hunter2-not-json-at-all")
		})
	}
	if got := historyVersions(t, url); len(got) != 0 {
		t.Errorf("a failed run applied migrations: %v", got)
	}
}

// With IAM enforced, the migrator's role lacks permissions: a role that may not read the secret
// stops with exit 2, and a role that may not snapshot applies nothing (exit 6).
func TestAWSAccessDenied(t *testing.T) {
	// Seven calls set the scene before the emulator starts enforcing IAM policies.
	m, err := awstest.Start("INITIAL_NO_AUTH_ACTION_COUNT=7")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	ctx := context.Background()
	admin := m.Clients()
	url := pgtest.NewDB(t)
	value, pw := dbSecret(t, url)
	keys := map[string]*iam.CreateAccessKeyOutput{}
	for _, user := range []string{"migrator", "no-permissions"} {
		if _, err := admin.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		if keys[user], err = admin.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
	}
	// Everything the migrator needs except rds:CreateDBSnapshot.
	policy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{
		{"Effect": "Allow", "Action": []string{"secretsmanager:GetSecretValue", "rds:DescribeDBInstances", "rds:DescribeDBSnapshots"}, "Resource": "*"},
	}})
	if _, err := admin.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("migrator"), PolicyName: aws.String("migrator"),
		PolicyDocument: aws.String(string(policy))}); err != nil {
		t.Fatal(err)
	}
	arn := admin.CreateSecret(t, "carthub/iam/db", value)
	admin.CreateInstance(t, "carthub-iam", 5432)
	envAs := func(user string) map[string]string {
		k := keys[user].AccessKey
		return withEnv(m.Env(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey)), "DB_SECRET_ARN", arn)
	}

	r := cli(t, envAs("no-permissions"), "up")
	mustCode(t, r, 2)
	if !strings.Contains(r.stderr, "access denied") || !strings.Contains(r.stderr, "secretsmanager:GetSecretValue") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	r = cli(t, withEnv(envAs("migrator"), "DB_INSTANCE_IDENTIFIER", "carthub-iam"), "up")
	mustCode(t, r, 6)
	if !strings.Contains(r.stderr, "rds:CreateDBSnapshot") || !strings.Contains(r.stderr, "nothing was applied") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	mustNotContain(t, r, pw, aws.ToString(keys["migrator"].AccessKey.SecretAccessKey))
	if got := historyVersions(t, url); len(got) != 0 {
		t.Errorf("migrations were applied without a snapshot: %v", got)
	}
}

// DB_IAM_AUTH makes an IAM token the password. The test server does not know IAM, so it rejects
// the token: what matters is that a token was sent, and that it never shows in the output.
func TestIAMAuthTokenIsThePassword(t *testing.T) {
	m := openMoto(t)
	u, _ := url.Parse(pgtest.NewDB(t))
	env := withEnv(m.Env("testing", "testing"), "DB_HOST", u.Hostname(), "DB_PORT", u.Port(), "DB_NAME", strings.TrimPrefix(u.Path, "/"),
		"DB_USERNAME", u.User.Username(), "DB_IAM_AUTH", "true", "MIGRATOR_CONNECT_TIMEOUT", "1s")
	r := cli(t, env, "up")
	mustCode(t, r, 3)
	if !strings.Contains(r.stderr, "rejected the credentials") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	mustNotContain(t, r, "X-Amz-Signature", "Action=connect")
}
