// Package stacks defines the AWS CDK stacks of the Carthub database tier: network, registry,
// database and cluster, wired through typed props.
package stacks

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/jsii-runtime-go"

	"github.com/carthub/carthub-db/names"
)

// Names shared with the migrator and k8s-synth. The Pod Identity association must name the same
// namespace and ServiceAccount as the manifests, and the role's RDS permissions the same
// snapshot prefix as the migrator.
const (
	Namespace            = names.Namespace
	MigrationSA          = names.MigrationServiceAccount
	SnapshotPrefix       = names.SnapshotPrefix
	RepositoryName       = names.RepositoryName
	DatabaseName         = names.DatabaseName
	MasterUsername       = "carthub_admin"
	PostgresPort         = names.DatabasePort
	secretRotationPeriod = 30
)

// NodeArchitecture is a CPU architecture the nodes run and the image must contain.
type NodeArchitecture string

// The architectures EKS managed node groups offer.
const (
	ARM64 NodeArchitecture = "arm64" // Graviton: t4g, m7g, ...
	AMD64 NodeArchitecture = "amd64"
)

// AmiType is the node group AMI for the architecture.
func (a NodeArchitecture) AmiType() awseksv2.NodegroupAmiType {
	if a == AMD64 {
		return awseksv2.NodegroupAmiType_AL2023_X86_64_STANDARD
	}
	return awseksv2.NodegroupAmiType_AL2023_ARM_64_STANDARD
}

// Platform is the image platform (docker --platform) for the architecture.
func (a NodeArchitecture) Platform() string { return "linux/" + string(a) }

// AddonVersions pins each EKS add-on to a build for the cluster's Kubernetes version, so a
// deploy never picks up a new default by surprise. List the choices with
// `aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name NAME`.
var AddonVersions = map[string]string{
	"vpc-cni":                "v1.21.1-eksbuild.3",
	"coredns":                "v1.13.2-eksbuild.1",
	"kube-proxy":             "v1.35.0-eksbuild.2",
	"eks-pod-identity-agent": "v1.3.10-eksbuild.3",
	// Container Insights and Fluent Bit: ships the migration Job's logs (and so its run metrics)
	// to CloudWatch Logs. 6.2+ keeps the OpenTelemetry mode off by default.
	"amazon-cloudwatch-observability": "v6.4.0-eksbuild.1",
}

// Interface endpoints the VPC can have; EnvConfig.Endpoints picks from them. SecretsManager and
// Rds are needed by every environment: the migrator's NetworkPolicy and the rotation Lambda's
// security group allow HTTPS only inside the VPC.
var InterfaceEndpoints = map[string]awsec2.InterfaceVpcEndpointAwsService{
	"SecretsManager": awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER(),
	"Rds":            awsec2.InterfaceVpcEndpointAwsService_RDS(),
	"EcrApi":         awsec2.InterfaceVpcEndpointAwsService_ECR(),
	"EcrDocker":      awsec2.InterfaceVpcEndpointAwsService_ECR_DOCKER(),
	"Logs":           awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS(),
	"Sts":            awsec2.InterfaceVpcEndpointAwsService_STS(),
	"EksAuth":        awsec2.InterfaceVpcEndpointAwsService_EKS_AUTH(), // EKS Pod Identity credentials
	"Eks":            awsec2.InterfaceVpcEndpointAwsService_EKS(),      // the Deploy stage's update-kubeconfig
}

// DeployAPIsInVPC says whether every AWS API the pipeline's Deploy stage calls has an interface
// endpoint in the VPC (S3 has its gateway in every environment), so its security group can keep
// HTTPS inside the VPC.
func (c EnvConfig) DeployAPIsInVPC() bool {
	return slices.Contains(c.Endpoints, "Eks") && slices.Contains(c.Endpoints, "Logs")
}

// AlarmThresholds are where each database alarm fires; every alarm's description says what to do.
type AlarmThresholds struct {
	CPUPercent        float64 // average CPU over 3 x 5 minutes
	FreeableMemoryMiB float64 // below this
	FreeStorageGiB    float64 // below this (autoscaling grows the disk; this is the backstop)
	Connections       float64 // at or above this (about 80% of max_connections for the class)
	LatencySeconds    float64 // average read or write latency over 3 x 5 minutes
	ReplicaLagSeconds float64 // the read replica's lag, when there is one
}

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
	// NodeArch picks the node group's AMI and the image platform the pipeline builds: one
	// setting, so the two cannot disagree.
	NodeArch         NodeArchitecture
	NodeMin, NodeMax int
	// ClusterAPICIDRs may reach the Kubernetes API from outside the VPC; none keeps it private.
	ClusterAPICIDRs  []string
	LogRetentionDays int
	// ControlPlaneLogRetentionDays keeps the EKS control plane's logs (all five types share one
	// group; the audit log is nearly all of it): an investigation reads days, not a year, and
	// CloudTrail keeps the AWS API calls.
	ControlPlaneLogRetentionDays int
	// MultiAZ keeps a synchronous standby in another AZ (prod); dev saves the cost.
	MultiAZ bool
	// Endpoints are the interface endpoints of the VPC (names in InterfaceEndpoints); the rest of
	// the AWS traffic of nodes and pods takes the NAT gateway.
	Endpoints []string
	// Alarms are the database alarms' thresholds.
	Alarms AlarmThresholds
	// AlarmEmail, from -c alarmEmail=..., subscribes to the environment's alerts topic (optional).
	AlarmEmail string
	// Backup: an AWS Backup plan for the database with a copy to BackupCopyRegion (cdk.json's
	// carthub:environments.NAME.backupCopyRegion), on top of RDS automated backups.
	Backup           bool
	BackupCopyRegion string
	// ImageRetentionDays is how long the registry keeps a commit's images (its pipeline pushes or
	// promotes one a commit): dev only needs them until prod has copied them; prod keeps what it
	// may roll back to.
	ImageRetentionDays int
	// ManualApproval stops the pipeline before the migration runs.
	ManualApproval bool
	// PostDeployApproval stops the pipeline before the post-deploy migrations (the contract
	// steps, -- migrator:post-deploy) until a person says the application's new version is
	// rolled out. Without it the PostDeploy stage follows the Deploy stage at once.
	PostDeployApproval bool
	// AdminRoleArn, from -c adminRoleArn=..., gets cluster-admin access for people (optional).
	AdminRoleArn string
	// PromoteFrom names the environment whose tested image this one runs (prod: dev). Such an
	// environment builds no image: its pipeline takes the digest dev pushed for the commit.
	PromoteFrom string
	// Account and Region are where the environment lives (cdk.json's carthub:environments).
	Account, Region string
	// Promotion, set for an environment with PromoteFrom, is the source registry.
	Promotion *Promotion
}

// Promotion is the registry an environment takes its images from.
type Promotion struct {
	Account, Region, RepositoryName string
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
			NodeInstanceType: "t4g.medium", NodeArch: ARM64, NodeMin: 1, NodeMax: 3, LogRetentionDays: 30, ControlPlaneLogRetentionDays: 30, ImageRetentionDays: 90,
			// Cost: one AZ for the database, and only the endpoints whose traffic cannot take the NAT.
			MultiAZ: false, Endpoints: []string{"Rds", "SecretsManager"},
			// db.t4g.medium: 4 GiB, max_connections about 410.
			Alarms: AlarmThresholds{CPUPercent: 90, FreeableMemoryMiB: 256, FreeStorageGiB: 2, Connections: 320, LatencySeconds: 0.05, ReplicaLagSeconds: 300}}, nil
	case "prod":
		return EnvConfig{Name: "prod", MaxAZs: 3, NatGateways: 3,
			InstanceType:        awsec2.InstanceType_Of(awsec2.InstanceClass_MEMORY6_GRAVITON, awsec2.InstanceSize_LARGE),
			AllocatedStorageGiB: 100, BackupRetentionDays: 14, DeletionProtection: true, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
			NodeInstanceType: "m7g.large", NodeArch: ARM64, NodeMin: 2, NodeMax: 6, LogRetentionDays: 365, ControlPlaneLogRetentionDays: 90, ImageRetentionDays: 365, ManualApproval: true, PostDeployApproval: true,
			PromoteFrom: "dev", MultiAZ: true, Endpoints: sortedKeys(InterfaceEndpoints), Backup: true,
			// db.r6g.large: 16 GiB, max_connections about 1,700.
			Alarms: AlarmThresholds{CPUPercent: 80, FreeableMemoryMiB: 1600, FreeStorageGiB: 10, Connections: 1400, LatencySeconds: 0.02, ReplicaLagSeconds: 60}}, nil
	}
	return EnvConfig{}, fmt.Errorf("unknown environment %q: use -c env=dev or -c env=prod", name)
}

// Prefix names this environment's resources, e.g. "carthub-dev".
func (c EnvConfig) Prefix() string { return "carthub-" + c.Name }

// RepositoryName is the environment's ECR and CodeCommit repository, e.g. carthub-database-dev:
// names that are unique per account and region carry the environment, so dev and prod can share
// an account.
func (c EnvConfig) RepositoryName() string { return RepositoryName + "-" + c.Name }

// DBInstanceID is the RDS instance identifier the migrator's DB_INSTANCE_IDENTIFIER names.
func (c EnvConfig) DBInstanceID() string { return c.Prefix() + "-db" }

// SecretName is the name of the generated database secret.
func (c EnvConfig) SecretName() string { return "carthub/" + c.Name + "/db-credentials" }

// PostgresVersion is the newest PostgreSQL major this CDK version offers. The migrations are
// tested on PostgreSQL 15 and use nothing newer.
func PostgresVersion() awsrds.PostgresEngineVersion { return awsrds.PostgresEngineVersion_VER_17_9() }

func str(s string) *string { return jsii.String(s) }
