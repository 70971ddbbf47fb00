// Package stacks defines the AWS CDK stacks of the Carthub database tier: network, registry,
// database and cluster, wired through typed props.
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/jsii-runtime-go"
)

// Names shared with the migrator and k8s-synth. The Pod Identity association must name the same
// namespace and ServiceAccount as the manifests, and the role's RDS permissions the same
// snapshot prefix as the migrator.
const (
	Namespace            = "shopping-cart"
	MigrationSA          = "database-migration"
	SnapshotPrefix       = "carthub-premigrate"
	RepositoryName       = "carthub-database"
	DatabaseName         = "carthub"
	MasterUsername       = "carthub_admin"
	PostgresPort         = 5432
	MigratorIAMDBUser    = "carthub_migrator"
	secretRotationPeriod = 30
)

// EnvConfig holds what differs between environments.
type EnvConfig struct {
	Name                string
	MaxAZs              int
	NatGateways         int
	InstanceType        awsec2.InstanceType
	AllocatedStorageGiB int
	BackupRetentionDays int
	DeletionProtection  bool
	RemovalPolicy       awscdk.RemovalPolicy
	ReadReplica         bool
	NodeInstanceType    string
	NodeMin, NodeMax    int
	// ClusterAPICIDRs may reach the Kubernetes API from outside the VPC; none keeps it private.
	ClusterAPICIDRs  []string
	LogRetentionDays int
	// ManualApproval stops the pipeline before the migration runs.
	ManualApproval bool
}

// ForEnv returns the configuration of dev or prod. Prod keeps its data on delete, protects the
// database from deletion, keeps backups longer and runs larger instances; dev is cheaper and
// can be destroyed.
func ForEnv(name string) (EnvConfig, error) {
	switch name {
	case "dev":
		return EnvConfig{Name: "dev", MaxAZs: 2, NatGateways: 1,
			InstanceType:        awsec2.InstanceType_Of(awsec2.InstanceClass_BURSTABLE4_GRAVITON, awsec2.InstanceSize_MEDIUM),
			AllocatedStorageGiB: 20, BackupRetentionDays: 7, DeletionProtection: false, RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
			NodeInstanceType: "t4g.medium", NodeMin: 1, NodeMax: 3, LogRetentionDays: 30}, nil
	case "prod":
		return EnvConfig{Name: "prod", MaxAZs: 3, NatGateways: 3,
			InstanceType:        awsec2.InstanceType_Of(awsec2.InstanceClass_MEMORY6_GRAVITON, awsec2.InstanceSize_LARGE),
			AllocatedStorageGiB: 100, BackupRetentionDays: 14, DeletionProtection: true, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
			NodeInstanceType: "m7g.large", NodeMin: 2, NodeMax: 6, LogRetentionDays: 365, ManualApproval: true}, nil
	}
	return EnvConfig{}, fmt.Errorf("unknown environment %q: use -c env=dev or -c env=prod", name)
}

// Prefix names this environment's resources, e.g. "carthub-dev".
func (c EnvConfig) Prefix() string { return "carthub-" + c.Name }

// DBInstanceID is the RDS instance identifier the migrator's DB_INSTANCE_IDENTIFIER names.
func (c EnvConfig) DBInstanceID() string { return c.Prefix() + "-db" }

// SecretName is the name of the generated database secret.
func (c EnvConfig) SecretName() string { return "carthub/" + c.Name + "/db-credentials" }

// PostgresVersion is the newest PostgreSQL major this CDK version offers. The migrations are
// tested on PostgreSQL 15 and use nothing newer.
func PostgresVersion() awsrds.PostgresEngineVersion { return awsrds.PostgresEngineVersion_VER_17_9() }

func str(s string) *string { return jsii.String(s) }
