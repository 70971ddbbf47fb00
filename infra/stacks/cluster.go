package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseks"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ClusterStackProps configure the cluster; the database comes in through typed references.
type ClusterStackProps struct {
	awscdk.StackProps
	Config         EnvConfig
	Vpc            awsec2.IVpc
	Database       awsrds.IDatabaseInstance
	DatabaseSecret awssecretsmanager.ISecret
	DatabaseSG     awsec2.ISecurityGroup
	DatabaseKey    awskms.IKey
}

// ClusterStack is the EKS cluster that runs the cart services and the migration Job.
type ClusterStack struct {
	awscdk.Stack
	Cluster      awseksv2.Cluster
	Nodes        awseksv2.Nodegroup
	MigratorRole awsiam.Role
}

// KubernetesVersion is the cluster's version.
func KubernetesVersion() awseksv2.KubernetesVersion { return awseksv2.KubernetesVersion_V1_35() }

// NewClusterStack makes an EKS cluster (awseksv2: access entries, no aws-auth ConfigMap) with a
// private API endpoint (or public restricted to Config.ClusterAPICIDRs), managed nodes in the
// private subnets, every control-plane log type, secrets encrypted with KMS, the add-ons the
// workloads need (vpc-cni with network policy enforcement, coredns, kube-proxy,
// eks-pod-identity-agent), the Pod Identity association of the migration ServiceAccount, and
// the database's ingress from the cluster.
func NewClusterStack(scope constructs.Construct, id string, props *ClusterStackProps) *ClusterStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config
	secretsKey := awskms.NewKey(stack, str("SecretsKey"), &awskms.KeyProps{
		Description: str(cfg.Prefix() + " EKS secrets encryption"), EnableKeyRotation: jsii.Bool(true), RemovalPolicy: cfg.RemovalPolicy,
	})
	endpoint := awseksv2.EndpointAccess_PRIVATE()
	if len(cfg.ClusterAPICIDRs) > 0 {
		endpoint = awseksv2.EndpointAccess_PUBLIC_AND_PRIVATE().OnlyFrom(*jsii.Strings(cfg.ClusterAPICIDRs...)...)
	}
	cluster := awseksv2.NewCluster(stack, str("Cluster"), &awseksv2.ClusterProps{
		ClusterName:          str(cfg.Prefix()),
		Version:              KubernetesVersion(),
		Vpc:                  props.Vpc,
		VpcSubnets:           &[]*awsec2.SubnetSelection{{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}},
		EndpointAccess:       endpoint,
		SecretsEncryptionKey: secretsKey,
		DefaultCapacityType:  awseksv2.DefaultCapacityType_NODEGROUP, // managed nodes, not Auto Mode
		DefaultCapacity:      jsii.Number(0),
		ClusterLogging: &[]awseksv2.ClusterLoggingTypes{
			awseksv2.ClusterLoggingTypes_API, awseksv2.ClusterLoggingTypes_AUDIT, awseksv2.ClusterLoggingTypes_AUTHENTICATOR,
			awseksv2.ClusterLoggingTypes_CONTROLLER_MANAGER, awseksv2.ClusterLoggingTypes_SCHEDULER,
		},
		RemovalPolicy: cfg.RemovalPolicy,
	})
	nodes := cluster.AddNodegroupCapacity(str("Nodes"), &awseksv2.NodegroupOptions{
		InstanceTypes: &[]awsec2.InstanceType{awsec2.NewInstanceType(str(cfg.NodeInstanceType))},
		AmiType:       awseksv2.NodegroupAmiType_AL2023_ARM_64_STANDARD,
		MinSize:       jsii.Number(cfg.NodeMin),
		DesiredSize:   jsii.Number(cfg.NodeMin),
		MaxSize:       jsii.Number(cfg.NodeMax),
		Subnets:       &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
	})

	// Without enableNetworkPolicy the VPC CNI ignores NetworkPolicies: the manifests' default
	// deny and allow rules would do nothing.
	addons := []struct {
		name   string
		config map[string]any
	}{
		{"vpc-cni", map[string]any{"enableNetworkPolicy": "true"}},
		{"coredns", nil},
		{"kube-proxy", nil},
		{"eks-pod-identity-agent", nil},
	}
	for _, a := range addons {
		p := &awseksv2.AddonProps{Cluster: cluster, AddonName: str(a.name)}
		if a.config != nil {
			cv := map[string]any(a.config)
			p.ConfigurationValues = &cv
		}
		awseksv2.NewAddon(stack, str("Addon-"+a.name), p)
	}

	// The database admits 5432 from the cluster security group (the nodes' and so the pods'
	// group under the VPC CNI) and from nothing else. The rule lives here so that the database
	// stack does not depend on the cluster.
	awsec2.NewCfnSecurityGroupIngress(stack, str("DatabaseFromCluster"), &awsec2.CfnSecurityGroupIngressProps{
		GroupId:               props.DatabaseSG.SecurityGroupId(),
		SourceSecurityGroupId: cluster.ClusterSecurityGroupId(),
		IpProtocol:            str("tcp"),
		FromPort:              jsii.Number(PostgresPort),
		ToPort:                jsii.Number(PostgresPort),
		Description:           str("PostgreSQL from the EKS cluster's pods and nodes"),
	})

	role := migratorRole(stack, cfg, props)
	awseks.NewCfnPodIdentityAssociation(stack, str("MigratorPodIdentity"), &awseks.CfnPodIdentityAssociationProps{
		ClusterName:    cluster.ClusterName(),
		Namespace:      str(Namespace),
		ServiceAccount: str(MigrationSA),
		RoleArn:        role.RoleArn(),
	})
	awscdk.NewCfnOutput(stack, str("ClusterName"), &awscdk.CfnOutputProps{Value: cluster.ClusterName()})
	awscdk.NewCfnOutput(stack, str("MigratorRoleArn"), &awscdk.CfnOutputProps{Value: role.RoleArn()})
	return &ClusterStack{Stack: stack, Cluster: cluster, Nodes: nodes, MigratorRole: role}
}

// migratorRole is the role EKS Pod Identity gives the migration Job: exactly the actions the
// migrator documents, on the one secret, the one instance and its snapshot prefix.
func migratorRole(stack awscdk.Stack, cfg EnvConfig, props *ClusterStackProps) awsiam.Role {
	role := awsiam.NewRole(stack, str("MigratorRole"), &awsiam.RoleProps{
		Description: str(fmt.Sprintf("carthub migrator (%s/%s via EKS Pod Identity)", Namespace, MigrationSA)),
		AssumedBy:   awsiam.NewServicePrincipal(str("pods.eks.amazonaws.com"), nil),
	})
	// Pod Identity needs sts:TagSession besides sts:AssumeRole.
	role.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("sts:TagSession"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(str("pods.eks.amazonaws.com"), nil)},
	}))
	snapshots := awscdk.Stack_Of(stack).FormatArn(&awscdk.ArnComponents{
		Service: str("rds"), Resource: str("snapshot"), ResourceName: str(SnapshotPrefix + "-*"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	instance := props.Database.InstanceArn()
	statements := []*awsiam.PolicyStatementProps{
		{Sid: str("ReadDatabaseSecret"), Actions: jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: jsii.Strings(*props.DatabaseSecret.SecretArn())},
		{Sid: str("DescribeInstance"), Actions: jsii.Strings("rds:DescribeDBInstances"), Resources: &[]*string{instance}},
		{Sid: str("CreatePreMigrationSnapshot"), Actions: jsii.Strings("rds:CreateDBSnapshot"), Resources: &[]*string{instance, snapshots}},
		{Sid: str("TagPreMigrationSnapshot"), Actions: jsii.Strings("rds:AddTagsToResource"), Resources: &[]*string{snapshots}},
		{Sid: str("ListPreMigrationSnapshots"), Actions: jsii.Strings("rds:DescribeDBSnapshots"), Resources: &[]*string{instance, snapshots}},
		{Sid: str("PruneOldPreMigrationSnapshots"), Actions: jsii.Strings("rds:DeleteDBSnapshot"), Resources: &[]*string{snapshots}},
		{Sid: str("ConnectWithIamAuth"), Actions: jsii.Strings("rds-db:connect"), Resources: &[]*string{
			awscdk.Stack_Of(stack).FormatArn(&awscdk.ArnComponents{Service: str("rds-db"), Resource: str("dbuser"),
				ResourceName: str(*props.Database.InstanceResourceId() + "/" + MigratorIAMDBUser), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME}),
		}},
	}
	for _, s := range statements {
		role.AddToPolicy(awsiam.NewPolicyStatement(s))
	}
	// The secret is encrypted with the database's key.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("DecryptDatabaseSecret"), Actions: jsii.Strings("kms:Decrypt"), Resources: jsii.Strings(*props.DatabaseKey.KeyArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"kms:ViaService": "secretsmanager." + *awscdk.Stack_Of(stack).Region() + ".amazonaws.com"}},
	}))
	return role
}
