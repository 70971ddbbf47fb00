package stacks

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/carthub/carthub-db/k8s-synth/manifests"
	"github.com/carthub/carthub-db/names"
)

// The stacks, the manifests k8s-synth writes for the pipeline and the migrator's defaults must
// name the same namespace, ServiceAccount, database and snapshots, or the first Job cannot get
// credentials, reach its database or take its snapshot. All take them from the names module;
// this checks what each one really produces.
func TestSharedNamesAgree(t *testing.T) {
	a := appFor(t, "dev")
	cluster := template(a.Cluster.Stack)
	var association map[string]any
	for _, r := range resources(t, cluster, "AWS::EKS::PodIdentityAssociation") {
		association = props(r)
	}
	if association["Namespace"] != names.Namespace || association["ServiceAccount"] != names.MigrationServiceAccount {
		t.Errorf("Pod Identity association for %v/%v, want %s/%s", association["Namespace"], association["ServiceAccount"],
			names.Namespace, names.MigrationServiceAccount)
	}
	var snapshotGrant bool
	for _, p := range resources(t, cluster, "AWS::IAM::Policy") {
		if contains(props(p)["Roles"], "MigratorRole") && contains(props(p)["PolicyDocument"], ":snapshot:"+names.SnapshotPrefix+"-*") {
			snapshotGrant = true
		}
	}
	if !snapshotGrant {
		t.Errorf("the migrator's role may not create snapshots named %s-*, the migrator's default prefix", names.SnapshotPrefix)
	}
	database := template(a.Database.Stack)
	for _, r := range resources(t, database, "AWS::RDS::DBInstance") {
		if p := props(r); p["DBName"] != names.DatabaseName || p["Port"] != float64(names.DatabasePort) && p["Port"] != "5432" {
			t.Errorf("RDS instance database %v port %v, want %s %d", p["DBName"], p["Port"], names.DatabaseName, names.DatabasePort)
		}
	}

	// With a Kubernetes Secret (the local and legacy way) the Job names the database itself; with
	// Pod Identity the master secret does.
	c := manifests.Config{Credentials: manifests.CredentialsSecret}
	c.Defaults()
	m := manifests.Build(c)
	var sa *corev1.ServiceAccount
	var job *batchv1.Job
	for _, o := range m.Job {
		switch v := o.(type) {
		case *corev1.ServiceAccount:
			sa = v
		case *batchv1.Job:
			job = v
		}
	}
	if sa == nil || job == nil {
		t.Fatalf("k8s-synth's migration-job.yaml lacks the ServiceAccount or the Job: %T", m.Job)
	}
	if sa.Namespace != names.Namespace || sa.Name != names.MigrationServiceAccount ||
		job.Namespace != names.Namespace || job.Spec.Template.Spec.ServiceAccountName != names.MigrationServiceAccount {
		t.Errorf("k8s-synth's Job runs as %s/%s (ServiceAccount %s/%s), want %s/%s", job.Namespace,
			job.Spec.Template.Spec.ServiceAccountName, sa.Namespace, sa.Name, names.Namespace, names.MigrationServiceAccount)
	}
	env := map[string]string{}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["DB_NAME"] != names.DatabaseName || env["DB_PORT"] != "5432" {
		t.Errorf("the Job connects to database %q on port %q, want %s on %d", env["DB_NAME"], env["DB_PORT"], names.DatabaseName, names.DatabasePort)
	}
	if v, set := env["MIGRATOR_SNAPSHOT_PREFIX"]; set && v != names.SnapshotPrefix {
		t.Errorf("the Job sets MIGRATOR_SNAPSHOT_PREFIX=%s, but the role allows only %s-*", v, names.SnapshotPrefix)
	}
}
