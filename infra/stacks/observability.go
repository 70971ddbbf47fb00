package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/carthub/carthub-db/names"
)

// ControlPlaneLogGroup is the group EKS writes the control-plane logs to. The stack creates it,
// with retention, before the cluster: otherwise EKS creates it and keeps the logs forever.
func ControlPlaneLogGroup(cfg EnvConfig) string { return "/aws/eks/" + cfg.Prefix() + "/cluster" }

// ContainerLogGroup is where the Container Insights add-on ships a kind of log ("application",
// "dataplane", "host", "performance"; "migrator" is the migration Job's own, see MigratorLogs).
func ContainerLogGroup(cfg EnvConfig, kind string) string {
	return "/aws/containerinsights/" + cfg.Prefix() + "/" + kind
}

// controlPlaneLogs makes the control-plane log group and makes the cluster wait for it.
func controlPlaneLogs(stack awscdk.Stack, cfg EnvConfig, cluster awseksv2.Cluster) awslogs.LogGroup {
	group := awslogs.NewLogGroup(stack, str("ControlPlaneLogs"), &awslogs.LogGroupProps{
		LogGroupName: str(ControlPlaneLogGroup(cfg)), Retention: retention(cfg.ControlPlaneLogRetentionDays), RemovalPolicy: cfg.RemovalPolicy,
	})
	// The cluster resource only: its kubectl provider and access entries need not wait.
	cluster.Node().DefaultChild().Node().AddDependency(group)
	return group
}

// migratorFluentBit is an extra Fluent Bit pipeline of the add-on: the migration Job's container
// logs, each line sent as it is (log_key log) to their own group with log_format json/emf, so
// that CloudWatch turns the migrator's closing Embedded Metric Format line into the
// Carthub/Migrator metrics. (The add-on's own application pipeline wraps each line in a record
// with Kubernetes metadata, where CloudWatch would not find the EMF; a filter keeps the Job's
// lines out of it, so they are shipped and stored once.)
func migratorFluentBit(cfg EnvConfig) string {
	return fmt.Sprintf(`[INPUT]
    Name              tail
    Tag               migrator.*
    Path              /var/log/containers/%s-*_%s_%s-*.log
    multiline.parser  docker, cri
    DB                /var/fluent-bit/state/flb_migrator.db
    Read_from_Head    On
    Refresh_Interval  5
    Mem_Buf_Limit     5MB
    Skip_Long_Lines   On

[OUTPUT]
    Name              cloudwatch_logs
    Match             migrator.*
    region            ${AWS_REGION}
    log_group_name    %s
    log_stream_prefix ${HOST_NAME}-
    auto_create_group false
    log_key           log
    log_format        json/emf

# One copy: the add-on's application pipeline (tag application.<path>) reads the same files;
# it drops them here. Either key matching drops a record: "log" until the add-on's kubernetes
# filter merges it into the record, "stream" after.
[FILTER]
    Name              grep
    Match             application.var.log.containers.%s-*_%s_%s-*.log
    Exclude           log .
    Exclude           stream .
`, names.MigrationJob, names.Namespace, names.MigrationContainer, ContainerLogGroup(cfg, "migrator"),
		names.MigrationJob, names.Namespace, names.MigrationContainer)
}

// The add-on's agent and Fluent Bit run as this ServiceAccount in this namespace.
const (
	cloudWatchNamespace = "amazon-cloudwatch"
	cloudWatchAgentSA   = "cloudwatch-agent"
)

// MigratorLogs is what containerLogs made: the log groups, with retention, and the agent's role.
type MigratorLogs struct {
	Groups    map[string]awslogs.LogGroup // by kind
	AgentRole awsiam.Role
}

// containerLogs installs the amazon-cloudwatch-observability add-on (Container Insights and
// Fluent Bit, managed and pinned like the other add-ons: the fewest moving parts that ship pod
// logs and node health) with the migrator pipeline above, its log groups with retention (the
// add-on itself would create them without), and its IAM role through Pod Identity.
func containerLogs(stack awscdk.Stack, cfg EnvConfig, cluster awseksv2.Cluster, after ...constructs.IDependable) MigratorLogs {
	out := MigratorLogs{Groups: map[string]awslogs.LogGroup{}}
	for _, kind := range []string{"application", "dataplane", "host", "performance", "migrator"} {
		out.Groups[kind] = awslogs.NewLogGroup(stack, str("ContainerLogs-"+kind), &awslogs.LogGroupProps{
			LogGroupName: str(ContainerLogGroup(cfg, kind)), Retention: retention(cfg.LogRetentionDays), RemovalPolicy: cfg.RemovalPolicy,
		})
	}
	out.AgentRole = awsiam.NewRole(stack, str("CloudWatchAgentRole"), &awsiam.RoleProps{
		AssumedBy:       podIdentityPrincipal(stack, cfg, cloudWatchNamespace, cloudWatchAgentSA),
		Description:     str("the CloudWatch agent and Fluent Bit of the amazon-cloudwatch-observability add-on (Pod Identity)"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(str("CloudWatchAgentServerPolicy"))},
	})
	config := map[string]any{"containerLogs": map[string]any{"enabled": true, "fluentBit": map[string]any{
		"config": map[string]any{"extraFiles": map[string]any{"migrator-log.conf": migratorFluentBit(cfg)}}}}}
	name := "amazon-cloudwatch-observability"
	addon := awseksv2.NewAddon(stack, str("Addon-"+name), &awseksv2.AddonProps{
		Cluster: cluster, AddonName: str(name), AddonVersion: str(AddonVersions[name]), ConfigurationValues: &config,
	})
	cfn := addon.Node().DefaultChild().(awseksv2.CfnAddon)
	cfn.SetResolveConflicts(str("OVERWRITE"))
	cfn.SetPodIdentityAssociations(&[]any{&awseksv2.CfnAddon_PodIdentityAssociationProperty{
		ServiceAccount: str(cloudWatchAgentSA), RoleArn: out.AgentRole.RoleArn(),
	}})
	for _, d := range after {
		addon.Node().AddDependency(d)
	}
	for _, g := range out.Groups {
		addon.Node().AddDependency(g)
	}
	return out
}
