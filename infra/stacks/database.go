package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DatabaseStackProps configure the database.
type DatabaseStackProps struct {
	awscdk.StackProps
	Config EnvConfig
	Vpc    awsec2.IVpc
}

// DatabaseStack is the RDS PostgreSQL instance and its credentials.
type DatabaseStack struct {
	awscdk.Stack
	Instance      awsrds.DatabaseInstance
	Replica       awsrds.DatabaseInstanceReadReplica // nil unless -c readReplica=true
	Secret        awssecretsmanager.ISecret
	SecurityGroup awsec2.SecurityGroup
	Key           awskms.Key
	// Rotation is the master secret's rotation; its Lambda's errors are alarmed.
	Rotation awssecretsmanager.SecretRotation
	// Logs are the instances' exported postgresql log groups, by instance identifier.
	Logs map[string]awslogs.LogGroup
}

// NewDatabaseStack makes a Multi-AZ RDS PostgreSQL instance in the isolated subnets: gp3 storage
// encrypted with a customer-managed key, IAM authentication, Performance Insights, logs exported,
// TLS forced, and credentials generated into Secrets Manager with 30-day rotation. Its security
// group admits nobody; the cluster stack opens 5432 to the cluster's pods and nodes only.
func NewDatabaseStack(scope constructs.Construct, id string, props *DatabaseStackProps) *DatabaseStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config
	key := awskms.NewKey(stack, str("Key"), &awskms.KeyProps{
		Description:       str(cfg.Prefix() + " database storage, Performance Insights and credentials"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     cfg.RemovalPolicy,
	})
	sg := awsec2.NewSecurityGroup(stack, str("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      str("PostgreSQL: ingress only from the EKS cluster (added by the cluster stack)"),
		AllowAllOutbound: jsii.Bool(false),
	})
	params := awsrds.NewParameterGroup(stack, str("Parameters"), &awsrds.ParameterGroupProps{
		Engine: awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{Version: PostgresVersion()}),
		Parameters: &map[string]*string{
			"rds.force_ssl":                       str("1"),    // no plain-text connections
			"log_min_duration_statement":          str("1000"), // statements slower than 1 s
			"log_lock_waits":                      str("1"),    // waits longer than deadlock_timeout
			"deadlock_timeout":                    str("1000"),
			"log_statement":                       str("ddl"), // every schema change, as applied
			"log_autovacuum_min_duration":         str("10000"),
			"idle_in_transaction_session_timeout": str("600000"),
			// RDS preloads pg_stat_statements; kept explicit so that a change of the default
			// cannot take away what `migrator capture-queries` reads (the extension itself is
			// created once by the master user: CREATE EXTENSION IF NOT EXISTS pg_stat_statements).
			"shared_preload_libraries": str("pg_stat_statements"),
			"pg_stat_statements.track": str("top"),
		},
	})
	instance := awsrds.NewDatabaseInstance(stack, str("Instance"), &awsrds.DatabaseInstanceProps{
		InstanceIdentifier:              str(cfg.DBInstanceID()),
		Engine:                          awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{Version: PostgresVersion()}),
		InstanceType:                    cfg.InstanceType,
		Vpc:                             props.Vpc,
		VpcSubnets:                      &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		SecurityGroups:                  &[]awsec2.ISecurityGroup{sg},
		PubliclyAccessible:              jsii.Bool(false),
		MultiAz:                         jsii.Bool(cfg.MultiAZ),
		StorageType:                     awsrds.StorageType_GP3,
		AllocatedStorage:                jsii.Number(cfg.AllocatedStorageGiB),
		MaxAllocatedStorage:             jsii.Number(cfg.AllocatedStorageGiB * 5),
		StorageEncrypted:                jsii.Bool(true),
		StorageEncryptionKey:            key,
		IamAuthentication:               jsii.Bool(true),
		EnablePerformanceInsights:       jsii.Bool(true),
		PerformanceInsightEncryptionKey: key,
		CloudwatchLogsExports:           &[]*string{str("postgresql"), str("upgrade")},
		BackupRetention:                 awscdk.Duration_Days(jsii.Number(cfg.BackupRetentionDays)),
		DeletionProtection:              jsii.Bool(cfg.DeletionProtection),
		RemovalPolicy:                   cfg.RemovalPolicy,
		AutoMinorVersionUpgrade:         jsii.Bool(true),
		CopyTagsToSnapshot:              jsii.Bool(true),
		// Automated backups at 03:00 UTC; prod's AWS Backup plan runs at 05:00, never at once.
		PreferredBackupWindow: str("03:00-04:00"),
		ParameterGroup:        params,
		DatabaseName:          str(DatabaseName),
		Port:                  jsii.Number(PostgresPort),
		Credentials: awsrds.Credentials_FromGeneratedSecret(str(MasterUsername), &awsrds.CredentialsBaseOptions{
			SecretName:    str(cfg.SecretName()),
			EncryptionKey: key,
		}),
	})
	logs := map[string]awslogs.LogGroup{cfg.DBInstanceID(): exportedLogGroups(stack, cfg, cfg.DBInstanceID(), instance)}
	// The rotation Lambda reaches the database (CDK adds that rule pair) and Secrets Manager
	// through its VPC endpoint; nothing else.
	rotationSG := awsec2.NewSecurityGroup(stack, str("RotationSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc: props.Vpc, Description: str("secret rotation Lambda: PostgreSQL and the Secrets Manager endpoint"), AllowAllOutbound: jsii.Bool(false),
	})
	rotationSG.AddEgressRule(awsec2.Peer_Ipv4(props.Vpc.VpcCidrBlock()), awsec2.Port_Tcp(jsii.Number(443)), str("Secrets Manager endpoint"), nil)
	rotation := instance.AddRotationSingleUser(&awsrds.RotationSingleUserOptions{
		AutomaticallyAfter: awscdk.Duration_Days(jsii.Number(secretRotationPeriod)),
		VpcSubnets:         &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		SecurityGroup:      rotationSG,
	})
	var replica awsrds.DatabaseInstanceReadReplica
	if cfg.ReadReplica {
		// Encrypted with the source's key: a replica of an encrypted instance always is.
		replica = awsrds.NewDatabaseInstanceReadReplica(stack, str("ReadReplica"), &awsrds.DatabaseInstanceReadReplicaProps{
			InstanceIdentifier:              str(cfg.DBInstanceID() + "-replica"),
			SourceDatabaseInstance:          instance,
			InstanceType:                    cfg.InstanceType,
			Vpc:                             props.Vpc,
			VpcSubnets:                      &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
			SecurityGroups:                  &[]awsec2.ISecurityGroup{sg},
			MultiAz:                         jsii.Bool(true),
			EnablePerformanceInsights:       jsii.Bool(true),
			PerformanceInsightEncryptionKey: key,
			IamAuthentication:               jsii.Bool(true),
			DeletionProtection:              jsii.Bool(cfg.DeletionProtection),
			RemovalPolicy:                   cfg.RemovalPolicy,
			PubliclyAccessible:              jsii.Bool(false),
			ParameterGroup:                  params,
			CloudwatchLogsExports:           &[]*string{str("postgresql"), str("upgrade")},
		})
		logs[cfg.DBInstanceID()+"-replica"] = exportedLogGroups(stack, cfg, cfg.DBInstanceID()+"-replica", replica)
	}
	awscdk.NewCfnOutput(stack, str("DbInstanceIdentifier"), &awscdk.CfnOutputProps{Value: instance.InstanceIdentifier(),
		Description: str("k8s-synth --db-instance-id, migrator DB_INSTANCE_IDENTIFIER")})
	awscdk.NewCfnOutput(stack, str("DbSecretArn"), &awscdk.CfnOutputProps{Value: instance.Secret().SecretArn(),
		Description: str("k8s-synth --secret-arn, migrator DB_SECRET_ARN")})
	return &DatabaseStack{Stack: stack, Instance: instance, Replica: replica, Secret: instance.Secret(), SecurityGroup: sg, Key: key,
		Rotation: rotation, Logs: logs}
}

// exportedLogGroups makes the groups RDS exports an instance's logs to, with their retention,
// before the instance exists: otherwise RDS makes them without one, or the CDK adds its
// log-retention Lambda (one more custom resource with a wildcard role).
func exportedLogGroups(stack awscdk.Stack, cfg EnvConfig, instanceID string, instance constructs.IConstruct) (postgresql awslogs.LogGroup) {
	for _, kind := range []string{"postgresql", "upgrade"} {
		group := awslogs.NewLogGroup(stack, str("Logs-"+instanceID+"-"+kind), &awslogs.LogGroupProps{
			LogGroupName:  str("/aws/rds/instance/" + instanceID + "/" + kind),
			Retention:     retention(cfg.LogRetentionDays),
			RemovalPolicy: cfg.RemovalPolicy,
		})
		instance.Node().AddDependency(group)
		if kind == "postgresql" {
			postgresql = group
		}
	}
	return postgresql
}
