package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbackup"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodestarnotifications"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/carthub/carthub-db/names"
)

// OperationsStackProps are the stacks the operations layer watches.
type OperationsStackProps struct {
	awscdk.StackProps
	Config   EnvConfig
	Database *DatabaseStack
	Cluster  *ClusterStack
	Pipeline *PipelineStack
	// CopyVaultArn is the vault in Config.BackupCopyRegion that prod's backups are copied to.
	CopyVaultArn string
}

// OperationsStack is what tells a person: the alerts topic, the pipeline's notifications, the
// alarms, the dashboard, and in prod the AWS Backup plan.
type OperationsStack struct {
	awscdk.Stack
	Topic     awssns.Topic
	Alarms    []awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard
	Plan      awsbackup.BackupPlan // nil without Config.Backup
}

// PipelineEvents are the pipeline events that reach the topic.
var PipelineEvents = []string{
	"codepipeline-pipeline-pipeline-execution-failed",
	"codepipeline-pipeline-pipeline-execution-succeeded",
	"codepipeline-pipeline-manual-approval-needed",
}

// StorageEvents are the RDS events about storage autoscaling reaching its maximum and storage
// running out: FreeStorageSpace cannot say "near the maximum", since autoscaling keeps growing it.
var StorageEvents = []string{"RDS-EVENT-0007", "RDS-EVENT-0223", "RDS-EVENT-0224", "RDS-EVENT-0225"}

// NewOperationsStack builds the operations layer of one environment.
func NewOperationsStack(scope constructs.Construct, id string, props *OperationsStackProps) *OperationsStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config
	o := &OperationsStack{Stack: stack}

	key := awskms.NewKey(stack, str("AlertsKey"), &awskms.KeyProps{
		Description: str(cfg.Prefix() + " alerts topic"), EnableKeyRotation: jsii.Bool(true), RemovalPolicy: cfg.RemovalPolicy,
	})
	o.Topic = awssns.NewTopic(stack, str("Alerts"), &awssns.TopicProps{
		TopicName: str(alertsTopicName(cfg)), DisplayName: str("Carthub " + cfg.Name + " database alerts"),
		MasterKey: key, EnforceSSL: jsii.Bool(true),
	})
	// CloudWatch alarms publish as cloudwatch.amazonaws.com, from this account's alarms only
	// (GrantPublish writes the topic policy and the key policy).
	o.Topic.GrantPublish(awsiam.NewServicePrincipal(str("cloudwatch.amazonaws.com"), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": cfg.Account},
			"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:*", *stack.Partition(), cfg.Region, cfg.Account)},
		},
	}))
	if cfg.AlarmEmail != "" {
		o.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(str(cfg.AlarmEmail), nil))
	}

	// The pipeline: failed, succeeded, and (prod) waiting for approval. In this stack, not through
	// pipeline.NotifyOn: that would make the pipeline stack depend on this one and on itself.
	awscodestarnotifications.NewNotificationRule(stack, str("PipelineNotifications"), &awscodestarnotifications.NotificationRuleProps{
		NotificationRuleName: str(cfg.Prefix() + "-pipeline"), Source: props.Pipeline.Pipeline,
		Events: jsii.Strings(PipelineEvents...), Targets: &[]awscodestarnotifications.INotificationRuleTarget{o.Topic},
		DetailType: awscodestarnotifications.DetailType_FULL,
	})

	o.alarms(props)
	awsevents.NewRule(stack, str("StorageEvents"), &awsevents.RuleProps{
		Description: str("RDS storage autoscaling near or at its maximum, or storage exhausted: raise max_allocated_storage (MaxAllocatedStorage in infra) or free space"),
		EventPattern: &awsevents.EventPattern{
			Source: jsii.Strings("aws.rds"), DetailType: jsii.Strings("RDS DB Instance Event"),
			Resources: &[]*string{props.Database.Instance.InstanceArn()},
			Detail:    &map[string]any{"EventID": StorageEvents},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSnsTopic(o.Topic, nil)},
	})
	o.dashboard(props)
	if cfg.Backup {
		o.Plan = backupPlan(stack, cfg, props.Database, o.Topic, props.CopyVaultArn)
	}
	confineAlertPublishers(stack, cfg, o.Topic, key)
	return o
}

func alertsTopicName(cfg EnvConfig) string { return cfg.Prefix() + "-alerts" }

// confineAlertPublishers limits the services that publish to the alerts topic (EventBridge for
// the storage events, CodeStar Notifications for the pipeline, AWS Backup for failed jobs) to
// this account's rules, notification rules and vaults, in the topic policy and in the key
// policy (there also to this topic's encryption context).
func confineAlertPublishers(stack awscdk.Stack, cfg EnvConfig, topic awssns.Topic, key awskms.Key) {
	arn := func(service, resource string, format awscdk.ArnFormat) string {
		return *stack.FormatArn(&awscdk.ArnComponents{Service: str(service), Resource: str(resource), ResourceName: str("*"), ArnFormat: format})
	}
	sources := []string{arn("events", "rule", awscdk.ArnFormat_SLASH_RESOURCE_NAME),
		arn("codestar-notifications", "notificationrule", awscdk.ArnFormat_SLASH_RESOURCE_NAME),
		arn("backup", "backup-vault", awscdk.ArnFormat_COLON_RESOURCE_NAME)}
	fromHere := map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": cfg.Account}, "ArnLike": map[string]any{"aws:SourceArn": sources}}
	policy := topic.Node().FindChild(str("Policy")).Node().DefaultChild().(awssns.CfnTopicPolicy)
	confineServiceGrants(policy, "PolicyDocument", policy.PolicyDocument(), fromHere)
	cfnKey := key.Node().DefaultChild().(awskms.CfnKey)
	confineServiceGrants(cfnKey, "KeyPolicy", cfnKey.KeyPolicy(), map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": cfg.Account, "kms:EncryptionContext:aws:sns:topicArn": *stack.FormatArn(&awscdk.ArnComponents{
			Service: str("sns"), Resource: str(alertsTopicName(cfg)), ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME})}, // by name: the topic's ARN would make the key depend on the topic
		"ArnLike": map[string]any{"aws:SourceArn": sources},
	})
}

// alarm makes one alarm that publishes to the topic; description says what to do.
func (o *OperationsStack) alarm(id string, metric awscloudwatch.IMetric, op awscloudwatch.ComparisonOperator, threshold float64,
	periods int, description string) {
	a := awscloudwatch.NewAlarm(o.Stack, str(id), &awscloudwatch.AlarmProps{
		AlarmName:          str(*o.Stack.StackName() + "-" + id),
		Metric:             metric,
		ComparisonOperator: op,
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(periods),
		DatapointsToAlarm:  jsii.Number(periods),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		AlarmDescription:   str(description),
	})
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(o.Topic))
	o.Alarms = append(o.Alarms, a)
}

func (o *OperationsStack) alarms(props *OperationsStackProps) {
	cfg, db, t := props.Config, props.Database, props.Config.Alarms
	five := awscdk.Duration_Minutes(jsii.Number(5))
	avg := func(m awscloudwatch.Metric) awscloudwatch.Metric {
		return m.With(&awscloudwatch.MetricOptions{Period: five, Statistic: str("Average")})
	}
	above, below := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD
	atLeast := awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	o.alarm("MigrationFailed", MigratorMetric(cfg, "ExitCode", "Maximum"), above, 0, 1,
		"A migration run (migrator up in the Job) ended with a non-zero exit code. Read its logs: `kubectl -n "+names.Namespace+
			" logs job/"+names.MigrationJob+"` or the log group "+ContainerLogGroup(cfg, "migrator")+"; docs/operations.md lists each exit code's first step.")
	o.alarm("DatabaseCPU", avg(db.Instance.MetricCPUUtilization(nil)), above, t.CPUPercent, 3,
		fmt.Sprintf("Database CPU above %.0f%% for 15 minutes. Find the statements in Performance Insights (top SQL) or pg_stat_activity; check for a migration or a missing index.", t.CPUPercent))
	o.alarm("DatabaseFreeableMemory", avg(db.Instance.MetricFreeableMemory(nil)), below, t.FreeableMemoryMiB*1024*1024, 3,
		fmt.Sprintf("Database freeable memory below %.0f MiB for 15 minutes. Look for many connections or large work_mem sorts; consider a larger instance class.", t.FreeableMemoryMiB))
	o.alarm("DatabaseFreeStorage", avg(db.Instance.MetricFreeStorageSpace(nil)), below, t.FreeStorageGiB*1024*1024*1024, 1,
		fmt.Sprintf("Database free storage below %.0f GiB although storage autoscales: it may be at MaxAllocatedStorage. Raise it in infra, or find bloat and old WAL (replication slots).", t.FreeStorageGiB))
	o.alarm("DatabaseConnections", avg(db.Instance.MetricDatabaseConnections(nil)), atLeast, t.Connections, 3,
		fmt.Sprintf("%.0f or more database connections (about 80%% of max_connections). Check pg_stat_activity by application_name; a leaking pool or idle-in-transaction sessions.", t.Connections))
	for _, kind := range []string{"ReadLatency", "WriteLatency"} {
		o.alarm("Database"+kind, avg(db.Instance.Metric(str(kind), nil)), above, t.LatencySeconds, 3,
			fmt.Sprintf("Database %s above %.0f ms for 15 minutes. Check I/O in Performance Insights; gp3 throughput or IOPS may need raising.", kind, t.LatencySeconds*1000))
	}
	if db.Replica != nil {
		o.alarm("ReplicaLag", avg(db.Replica.Metric(str("ReplicaLag"), nil)), above, t.ReplicaLagSeconds, 3,
			fmt.Sprintf("The read replica is more than %.0f s behind. Look for long transactions or heavy writes on the primary; readers see old data meanwhile.", t.ReplicaLagSeconds))
	}
	// RDS for PostgreSQL has no Deadlocks metric (Aurora has): count the server's log lines.
	deadlocks := awslogs.NewMetricFilter(o.Stack, str("DeadlockFilter"), &awslogs.MetricFilterProps{
		LogGroup:        awslogs.LogGroup_FromLogGroupName(o.Stack, str("PostgresLogs"), str("/aws/rds/instance/"+cfg.DBInstanceID()+"/postgresql")),
		FilterPattern:   awslogs.FilterPattern_AllTerms(str("deadlock detected")),
		MetricNamespace: str("Carthub/Database"), MetricName: str("Deadlocks"), MetricValue: str("1"),
	})
	// The construct writes an empty Dimensions list, which CloudFormation refuses (E3032).
	deadlocks.Node().DefaultChild().(awslogs.CfnMetricFilter).AddPropertyDeletionOverride(str("MetricTransformations.0.Dimensions"))
	o.alarm("DatabaseDeadlocks", deadlocks.Metric(&awscloudwatch.MetricOptions{Period: five, Statistic: str("Sum")}), above, 0, 1,
		"PostgreSQL detected a deadlock. The log group /aws/rds/instance/"+cfg.DBInstanceID()+"/postgresql has both statements (search \"deadlock detected\"); make the transactions lock rows in the same order.")
	if fn, ok := db.Rotation.Node().TryFindChild(str("RotationLambda")).(awslambda.IFunction); ok {
		o.alarm("SecretRotationErrors", fn.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Hours(jsii.Number(1)), Statistic: str("Sum")}), above, 0, 1,
			"The database secret's rotation Lambda failed: the password was not rotated (the old one still works). Read the function's logs; check its network path to the database and Secrets Manager.")
	}
	o.alarm("NodeFailures", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: str("ContainerInsights"), MetricName: str("cluster_failed_node_count"),
		DimensionsMap: &map[string]*string{"ClusterName": str(cfg.Prefix())}, Period: five, Statistic: str("Maximum"),
	}), above, 0, 3, "An EKS node has been failing for 15 minutes (Container Insights). `kubectl get nodes`, `kubectl describe node NAME`; the managed node group replaces unhealthy nodes.")
}

// MigratorMetric is one of the migrator's run metrics for `up` in this environment (the Job sets
// MIGRATOR_ENVIRONMENT to the environment's name).
func MigratorMetric(cfg EnvConfig, name, statistic string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: str(names.MetricNamespace), MetricName: str(name),
		DimensionsMap: &map[string]*string{names.MetricDimensions[0]: str(cfg.Name), names.MetricDimensions[1]: str("up")},
		Period:        awscdk.Duration_Minutes(jsii.Number(5)), Statistic: str(statistic),
	})
}

func (o *OperationsStack) dashboard(props *OperationsStackProps) {
	cfg, db, p := props.Config, props.Database, props.Pipeline
	refs := make([]interfacesawscloudwatch.IAlarmRef, len(o.Alarms))
	for i, a := range o.Alarms {
		refs[i] = a
	}
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: str(title), Left: &metrics, Width: jsii.Number(8)})
	}
	pipelineName := &map[string]*string{"PipelineName": p.Pipeline.PipelineName()}
	o.Dashboard = awscloudwatch.NewDashboard(o.Stack, str("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: str(cfg.Prefix() + "-database"),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{Title: str("Alarms"), Alarms: &refs, Width: jsii.Number(24)})},
			{
				graph("Pipeline runs",
					awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: str("AWS/CodePipeline"), MetricName: str("FailedPipelineExecutions"), DimensionsMap: pipelineName, Statistic: str("Sum")}),
					p.Deploy.MetricSucceededBuilds(nil), p.Deploy.MetricFailedBuilds(nil), p.Test.MetricFailedBuilds(nil), p.Image.MetricFailedBuilds(nil)),
				graph("Migration runs", MigratorMetric(cfg, "MigrationsApplied", "Sum"), MigratorMetric(cfg, "ExitCode", "Maximum")),
				graph("Migration durations (ms)", MigratorMetric(cfg, "Duration", "Maximum"), MigratorMetric(cfg, "LockWait", "Maximum"), MigratorMetric(cfg, "SnapshotDuration", "Maximum")),
			},
			{
				graph("Database CPU and connections", db.Instance.MetricCPUUtilization(nil), db.Instance.MetricDatabaseConnections(nil)),
				graph("Database storage and memory", db.Instance.MetricFreeStorageSpace(nil), db.Instance.MetricFreeableMemory(nil)),
				graph("Database latency (s)", db.Instance.Metric(str("ReadLatency"), nil), db.Instance.Metric(str("WriteLatency"), nil)),
			},
		},
	})
}

// CopyVaultName is the name of the vault in the copy region.
func CopyVaultName(cfg EnvConfig) string { return cfg.Prefix() + "-db-copy" }

// backupPlan backs the database up daily into a vault here, with a copy to the vault of the
// copy region; failed backup and copy jobs reach the topic.
func backupPlan(stack awscdk.Stack, cfg EnvConfig, db *DatabaseStack, topic awssns.ITopic, copyVaultArn string) awsbackup.BackupPlan {
	key := awskms.NewKey(stack, str("BackupKey"), &awskms.KeyProps{
		Description: str(cfg.Prefix() + " AWS Backup vault"), EnableKeyRotation: jsii.Bool(true), RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	vault := awsbackup.NewBackupVault(stack, str("Vault"), &awsbackup.BackupVaultProps{
		BackupVaultName: str(cfg.Prefix() + "-db"), EncryptionKey: key, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		NotificationTopic:  topic,
		NotificationEvents: &[]awsbackup.BackupVaultEvents{awsbackup.BackupVaultEvents_BACKUP_JOB_FAILED, awsbackup.BackupVaultEvents_COPY_JOB_FAILED, awsbackup.BackupVaultEvents_BACKUP_JOB_EXPIRED},
	})
	copyVault := awsbackup.BackupVault_FromBackupVaultArn(stack, str("CopyVault"), str(copyVaultArn))
	plan := awsbackup.NewBackupPlan(stack, str("Plan"), &awsbackup.BackupPlanProps{
		BackupPlanName: str(cfg.Prefix() + "-db"), BackupVault: vault,
		BackupPlanRules: &[]awsbackup.BackupPlanRule{awsbackup.NewBackupPlanRule(&awsbackup.BackupPlanRuleProps{
			RuleName:           str("DailyWithCopy"),
			ScheduleExpression: awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: str("5"), Minute: str("0")}),
			StartWindow:        awscdk.Duration_Hours(jsii.Number(1)), CompletionWindow: awscdk.Duration_Hours(jsii.Number(4)),
			DeleteAfter: awscdk.Duration_Days(jsii.Number(35)),
			CopyActions: &[]*awsbackup.BackupPlanCopyActionProps{{DestinationBackupVault: copyVault, DeleteAfter: awscdk.Duration_Days(jsii.Number(35))}},
		})},
	})
	plan.AddSelection(str("Database"), &awsbackup.BackupSelectionOptions{
		Resources: &[]awsbackup.BackupResource{awsbackup.BackupResource_FromRdsDatabaseInstance(db.Instance)},
	})
	return plan
}

// BackupCopyStack is the vault in the copy region that prod's backups are copied to.
type BackupCopyStack struct {
	awscdk.Stack
	Vault awsbackup.BackupVault
}

// NewBackupCopyStack makes the copy vault (with its own key: keys are regional) in the copy region.
func NewBackupCopyStack(scope constructs.Construct, id string, props *awscdk.StackProps, cfg EnvConfig) *BackupCopyStack {
	stack := awscdk.NewStack(scope, &id, props)
	key := awskms.NewKey(stack, str("BackupCopyKey"), &awskms.KeyProps{
		Description: str(cfg.Prefix() + " AWS Backup copy vault"), EnableKeyRotation: jsii.Bool(true), RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	vault := awsbackup.NewBackupVault(stack, str("CopyVault"), &awsbackup.BackupVaultProps{
		BackupVaultName: str(CopyVaultName(cfg)), EncryptionKey: key, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	return &BackupCopyStack{Stack: stack, Vault: vault}
}
