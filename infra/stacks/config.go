// Package stacks defines the AWS CDK stacks of the Carthub database tier: network, registry,
// database and cluster, wired through typed props.
package stacks

import (
	"fmt"

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
	// ManualApproval stops the pipeline before the migration runs.
	ManualApproval bool
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
			NodeInstanceType: "t4g.medium", NodeArch: ARM64, NodeMin: 1, NodeMax: 3, LogRetentionDays: 30}, nil
	case "prod":
		return EnvConfig{Name: "prod", MaxAZs: 3, NatGateways: 3,
			InstanceType:        awsec2.InstanceType_Of(awsec2.InstanceClass_MEMORY6_GRAVITON, awsec2.InstanceSize_LARGE),
			AllocatedStorageGiB: 100, BackupRetentionDays: 14, DeletionProtection: true, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
			NodeInstanceType: "m7g.large", NodeArch: ARM64, NodeMin: 2, NodeMax: 6, LogRetentionDays: 365, ManualApproval: true,
			PromoteFrom: "dev"}, nil
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
