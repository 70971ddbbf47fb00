package stacks

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/carthub/carthub-db/names"
)

// Every alarm exists in each environment with that environment's threshold, and publishes to
// the environment's alerts topic; each says what to do.
func TestAlarms(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			a := appFor(t, env)
			th := a.Config.Alarms
			want := map[string]struct {
				metric    string
				threshold float64
			}{
				"MigrationFailed":        {"ExitCode", 0},
				"DatabaseCPU":            {"CPUUtilization", th.CPUPercent},
				"DatabaseFreeableMemory": {"FreeableMemory", th.FreeableMemoryMiB * 1024 * 1024},
				"DatabaseFreeStorage":    {"FreeStorageSpace", th.FreeStorageGiB * 1024 * 1024 * 1024},
				"DatabaseConnections":    {"DatabaseConnections", th.Connections},
				"DatabaseReadLatency":    {"ReadLatency", th.LatencySeconds},
				"DatabaseWriteLatency":   {"WriteLatency", th.LatencySeconds},
				"DatabaseDeadlocks":      {"Deadlocks", 0},
				"SecretRotationErrors":   {"Errors", 0},
				"NodeFailures":           {"cluster_failed_node_count", 0},
			}
			if a.Database.Replica != nil {
				want["ReplicaLag"] = struct {
					metric    string
					threshold float64
				}{"ReplicaLag", th.ReplicaLagSeconds}
			}
			tpl := template(a.Operations.Stack)
			topic := logicalIDLike(t, (*tpl.ToJSON()), "AWS::SNS::Topic", "Alerts")
			found := map[string]bool{}
			for _, r := range resources(t, tpl, "AWS::CloudWatch::Alarm") {
				p := props(r)
				name := strings.TrimPrefix(p["AlarmName"].(string), *a.Operations.StackName()+"-")
				w, ok := want[name]
				if !ok {
					t.Errorf("unexpected alarm %s", name)
					continue
				}
				found[name] = true
				if p["MetricName"] != w.metric || p["Threshold"] != w.threshold {
					t.Errorf("%s: metric %v threshold %v, want %s %v", name, p["MetricName"], p["Threshold"], w.metric, w.threshold)
				}
				if !contains(p["AlarmActions"], topic) {
					t.Errorf("%s does not publish to the alerts topic: %v", name, p["AlarmActions"])
				}
				if d, _ := p["AlarmDescription"].(string); len(d) < 40 {
					t.Errorf("%s: the description must say what to do: %q", name, d)
				}
			}
			for name := range want {
				if !found[name] {
					t.Errorf("no %s alarm in %s", name, env)
				}
			}
			// The topic is encrypted with its own rotating key and refuses plain HTTP publishers.
			tpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), &map[string]any{"KmsMasterKeyId": assertions.Match_AnyValue()})
			tpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), &map[string]any{
				"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}, "Effect": "Deny"}),
				})}),
			})
		})
	}
}

// The migration alarm reads the metric the migrator writes: its namespace, dimensions and the
// environment the Job sets.
func TestMigrationAlarmReadsTheMigratorsMetric(t *testing.T) {
	a := appFor(t, "dev")
	template(a.Operations.Stack).HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), &map[string]any{
		"Namespace": names.MetricNamespace, "MetricName": "ExitCode", "Statistic": "Maximum",
		"ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
		"Dimensions": []any{ // CloudFormation lists them by name
			map[string]any{"Name": names.MetricDimensions[1], "Value": "up"},
			map[string]any{"Name": names.MetricDimensions[0], "Value": "dev"},
		},
	})
	// The Job the pipeline synthesizes for each environment says that environment's name (the
	// k8s-synth config the Build stage passes), or the alarm's dimension never matches.
	for _, env := range []string{"dev", "prod"} {
		b, err := os.ReadFile(filepath.Join(RepoRoot(), "k8s-synth", "config", env+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^environment:\s*"?` + env + `"?\s*$`).Match(b) {
			t.Errorf("k8s-synth/config/%s.yaml does not set environment: %s (MIGRATOR_ENVIRONMENT, the alarm's Environment)", env, env)
		}
	}
	// The logs reach CloudWatch as the migrator writes them (EMF needs _aws at the top level).
	addon := template(a.Cluster.Stack)
	var config string
	for _, r := range resources(t, addon, "AWS::EKS::Addon") {
		if props(r)["AddonName"] == "amazon-cloudwatch-observability" {
			config, _ = props(r)["ConfigurationValues"].(string)
		}
	}
	for _, want := range []string{"log_key           log", "log_format        json/emf", ContainerLogGroup(a.Config, "migrator"),
		"/var/log/containers/" + names.MigrationJob + "-*_" + names.Namespace + "_" + names.MigrationContainer + "-*.log"} {
		if !strings.Contains(config, want) {
			t.Errorf("the add-on's Fluent Bit config lacks %q:\n%s", want, config)
		}
	}
}

// The pipeline tells the topic when a run fails, succeeds, or waits for approval.
func TestPipelineNotifications(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		a := appFor(t, env)
		tpl := template(a.Operations.Stack)
		rules := resources(t, tpl, "AWS::CodeStarNotifications::NotificationRule")
		if len(rules) != 1 {
			t.Fatalf("%s: %d notification rules, want 1", env, len(rules))
		}
		for _, r := range rules {
			p := props(r)
			var events []string
			for _, e := range p["EventTypeIds"].([]any) {
				events = append(events, e.(string))
			}
			slices.Sort(events)
			want := slices.Clone(PipelineEvents)
			slices.Sort(want)
			if !slices.Equal(events, want) {
				t.Errorf("%s: events %v, want %v", env, events, want)
			}
			if !contains(p["Targets"], logicalIDLike(t, (*tpl.ToJSON()), "AWS::SNS::Topic", "Alerts")) || !contains(p["Resource"], "Pipeline") {
				t.Errorf("%s: rule %v does not send the pipeline's events to the topic", env, p)
			}
		}
	}
}

// No log group keeps logs forever: every group in every stack has a retention, and the groups
// EKS and the add-on would otherwise create (control plane, container logs) exist first.
func TestLogGroupsHaveRetention(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		a := appFor(t, env)
		var names []string
		for _, s := range a.Stacks() {
			for id, r := range resources(t, template(s), "AWS::Logs::LogGroup") {
				if props(r)["RetentionInDays"] == nil {
					t.Errorf("%s/%s keeps its logs forever", *s.StackName(), id)
				}
				if n, ok := props(r)["LogGroupName"].(string); ok {
					names = append(names, n)
				}
			}
		}
		for _, want := range []string{ControlPlaneLogGroup(a.Config), ContainerLogGroup(a.Config, "application"), ContainerLogGroup(a.Config, "migrator")} {
			if !slices.Contains(names, want) {
				t.Errorf("%s: no log group %s", env, want)
			}
		}
		cluster := (*template(a.Cluster.Stack).ToJSON())
		group := logicalIDLike(t, cluster, "AWS::Logs::LogGroup", "ControlPlaneLogs")
		for _, r := range resources(t, template(a.Cluster.Stack), "AWS::EKS::Cluster") {
			if !contains(r["DependsOn"], group) {
				t.Errorf("%s: the cluster does not wait for its control-plane log group (EKS would create one without retention)", env)
			}
		}
	}
}

// Prod has an AWS Backup plan whose rule copies to the copy region's vault; dev has none.
func TestBackupPlanInProdOnly(t *testing.T) {
	dev := appFor(t, "dev")
	template(dev.Operations.Stack).ResourceCountIs(jsii.String("AWS::Backup::BackupPlan"), jsii.Number(0))
	if dev.BackupCopy != nil {
		t.Error("dev has a backup copy stack")
	}
	prod := appFor(t, "prod")
	tpl := template(prod.Operations.Stack)
	tpl.HasResourceProperties(jsii.String("AWS::Backup::BackupPlan"), &map[string]any{
		"BackupPlan": assertions.Match_ObjectLike(&map[string]any{"BackupPlanRule": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"CopyActions": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"DestinationBackupVaultArn": assertions.Match_AnyValue()}),
			})}),
		})}),
	})
	if plan := resources(t, tpl, "AWS::Backup::BackupPlan"); !contains(plan, ":backup:"+testCopyRegion+":"+testProdAccount+":backup-vault:"+CopyVaultName(prod.Config)) {
		t.Errorf("the copy goes elsewhere than %s's vault: %v", testCopyRegion, plan)
	}
	tpl.HasResourceProperties(jsii.String("AWS::Backup::BackupSelection"), &map[string]any{
		"BackupSelection": assertions.Match_ObjectLike(&map[string]any{"Resources": assertions.Match_AnyValue()})})
	tpl.HasResourceProperties(jsii.String("AWS::Backup::BackupVault"), &map[string]any{
		"Notifications": assertions.Match_ObjectLike(&map[string]any{"BackupVaultEvents": assertions.Match_ArrayWith(&[]any{"BACKUP_JOB_FAILED", "COPY_JOB_FAILED"})})})
	if prod.BackupCopy == nil || *prod.BackupCopy.Region() != testCopyRegion {
		t.Fatalf("prod's copy vault is not in %s", testCopyRegion)
	}
	template(prod.BackupCopy.Stack).HasResourceProperties(jsii.String("AWS::Backup::BackupVault"), &map[string]any{
		"BackupVaultName": CopyVaultName(prod.Config), "EncryptionKeyArn": assertions.Match_AnyValue()})
}

// -c alarmEmail subscribes one address; a malformed one is refused before synthesis.
func TestAlarmEmail(t *testing.T) {
	a := newTestApp(t, "dev", map[string]any{"alarmEmail": "oncall@example.com"})
	assertions.Template_FromStack(a.Operations.Stack, nil).HasResourceProperties(jsii.String("AWS::SNS::Subscription"),
		&map[string]any{"Protocol": "email", "Endpoint": "oncall@example.com"})
	template(appFor(t, "dev").Operations.Stack).ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))

	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"env": "dev", "alarmEmail": "not an address",
		"carthub:environments": map[string]any{"dev": map[string]any{"account": testAccount, "region": testRegion}}}, Outdir: jsii.String(outdir(t))})
	if _, err := NewApp(app); err == nil || !strings.Contains(err.Error(), "alarmEmail") {
		t.Errorf("err = %v, want the bad alarmEmail named", err)
	}
}

// Dev costs less: one AZ for the database and two interface endpoints; prod keeps Multi-AZ and
// every endpoint.
func TestDevCostKnobs(t *testing.T) {
	dev, prod := appFor(t, "dev"), appFor(t, "prod")
	if dev.Config.MultiAZ || !prod.Config.MultiAZ {
		t.Errorf("Multi-AZ: dev %v prod %v, want false true", dev.Config.MultiAZ, prod.Config.MultiAZ)
	}
	if len(dev.Config.Endpoints) >= len(prod.Config.Endpoints) || len(prod.Config.Endpoints) != len(InterfaceEndpoints) {
		t.Errorf("endpoints: dev %v, prod %v", dev.Config.Endpoints, prod.Config.Endpoints)
	}
	for _, needed := range []string{"SecretsManager", "Rds"} {
		if !slices.Contains(dev.Config.Endpoints, needed) {
			t.Errorf("dev lacks the %s endpoint: the migrator's NetworkPolicy allows HTTPS only inside the VPC", needed)
		}
	}
}
