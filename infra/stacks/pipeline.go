package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseksv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"sigs.k8s.io/yaml"

	"github.com/carthub/carthub-db/infra/pipeline"
)

// PipelineStackProps wire the pipeline to what it builds and deploys to.
type PipelineStackProps struct {
	awscdk.StackProps
	Config  EnvConfig
	Network *NetworkStack
	// Repository receives the images this environment builds; nil where the environment
	// promotes another's (Config.Promotion).
	Repository   awsecr.IRepository
	Cluster      *ClusterStack
	DBSecretArn  *string
	DBInstanceID *string
}

// PipelineStack is CodeCommit -> CodePipeline (V2) -> CodeBuild (test, image, manifests) ->
// ECR -> CodeBuild (the migration Job on EKS).
type PipelineStack struct {
	awscdk.Stack
	Pipeline   awscodepipeline.Pipeline
	Source     awscodecommit.Repository
	Build      awscodebuild.PipelineProject
	Deploy     awscodebuild.PipelineProject
	DeployRole awsiam.Role
	DeploySG   awsec2.SecurityGroup
	Artifacts  awss3.Bucket
	AccessLogs awss3.Bucket
}

// NewPipelineStack makes the delivery pipeline. A push to main runs the Build stage (make test,
// the image pushed to ECR under the commit's tag, manifests for the image's digest) and then the
// Deploy stage (apply the manifests, replace and await the migration Job); prod waits for a
// manual approval in between. Artifacts and logs are encrypted with the pipeline's KMS key.
func NewPipelineStack(scope constructs.Construct, id string, props *PipelineStackProps) *PipelineStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config
	cluster := props.Cluster.Cluster
	key := awskms.NewKey(stack, str("Key"), &awskms.KeyProps{
		Description: str(cfg.Prefix() + " pipeline artifacts and build logs"), EnableKeyRotation: jsii.Bool(true), RemovalPolicy: cfg.RemovalPolicy,
	})
	key.GrantEncryptDecrypt(awsiamServicePrincipal("logs." + *stack.Region() + ".amazonaws.com"))
	accessLogs := awss3.NewBucket(stack, str("AccessLogs"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(), EnforceSSL: jsii.Bool(true),
		RemovalPolicy: cfg.RemovalPolicy, AutoDeleteObjects: jsii.Bool(cfg.RemovalPolicy == awscdk.RemovalPolicy_DESTROY),
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(365))}},
	})
	artifacts := awss3.NewBucket(stack, str("Artifacts"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_KMS, EncryptionKey: key, BucketKeyEnabled: jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(), EnforceSSL: jsii.Bool(true), Versioned: jsii.Bool(true),
		ServerAccessLogsBucket: accessLogs, ServerAccessLogsPrefix: str("artifacts/"),
		RemovalPolicy: cfg.RemovalPolicy, AutoDeleteObjects: jsii.Bool(cfg.RemovalPolicy == awscdk.RemovalPolicy_DESTROY),
		LifecycleRules: &[]*awss3.LifecycleRule{{NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30))}},
	})
	source := awscodecommit.NewRepository(stack, str("Source"), &awscodecommit.RepositoryProps{
		RepositoryName: str(cfg.RepositoryName()), Description: str("carthub-db: migrations, migrator, manifests and infrastructure"),
	})
	logGroup := func(name string) awslogs.LogGroup {
		return awslogs.NewLogGroup(stack, str(name+"Logs"), &awslogs.LogGroupProps{
			EncryptionKey: key, Retention: retention(cfg.LogRetentionDays), RemovalPolicy: cfg.RemovalPolicy})
	}

	net := props.Network
	env := map[string]*awscodebuild.BuildEnvironmentVariable{
		"DEPLOY_ENV":             {Value: str(cfg.Name)},
		"IMAGE_PLATFORMS":        {Value: str(cfg.NodeArch.Platform())}, // the nodes' architecture, from the same setting as their AMI
		"CARTHUB_DB_SECRET_ARN":  {Value: props.DBSecretArn},
		"CARTHUB_DB_INSTANCE_ID": {Value: props.DBInstanceID},
		"CARTHUB_VPC_CIDR":       {Value: str(VpcCIDR)},
		"CARTHUB_DB_CIDRS":       {Value: str(strings.Join(net.DatabaseCIDRs(), ","))},
		"CARTHUB_AWS_API_CIDRS":  {Value: str(strings.Join(net.EndpointCIDRs(), ","))},
		"CARTHUB_ALB_CIDRS":      {Value: str(strings.Join(net.PublicCIDRs(), ","))},
	}
	var sourceRepo awsecr.IRepository
	if p := cfg.Promotion; p != nil {
		// This environment runs the image its source environment built and tested, by digest.
		sourceRepo = awsecr.Repository_FromRepositoryAttributes(stack, str("PromotedFrom"), &awsecr.RepositoryAttributes{
			RepositoryName: str(p.RepositoryName),
			RepositoryArn:  str(fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", *awscdk.Aws_PARTITION(), p.Region, p.Account, p.RepositoryName)),
		})
		env["PROMOTE_FROM_URI"] = &awscodebuild.BuildEnvironmentVariable{Value: str(fmt.Sprintf(
			"%s.dkr.ecr.%s.%s/%s", p.Account, p.Region, *awscdk.Aws_URL_SUFFIX(), p.RepositoryName))}
	} else {
		env["REPOSITORY_URI"] = &awscodebuild.BuildEnvironmentVariable{Value: props.Repository.RepositoryUri()}
	}
	build := awscodebuild.NewPipelineProject(stack, str("Build"), &awscodebuild.PipelineProjectProps{
		Description: str("make test, migrator lint, the image to ECR (or the promoted digest), manifests for its digest"),
		BuildSpec:   buildSpec(pipeline.BuildSpec),
		Environment: &awscodebuild.BuildEnvironment{
			BuildImage:  awscodebuild.LinuxBuildImage_STANDARD_8_0(),
			ComputeType: awscodebuild.ComputeType_MEDIUM,
			Privileged:  jsii.Bool(true), // docker build
		},
		EnvironmentVariables: &env,
		// Docker layers and the buildspec's cache paths (Go modules and build cache, npm) stay on
		// the build host between builds.
		Cache:         awscodebuild.Cache_Local(awscodebuild.LocalCacheMode_DOCKER_LAYER, awscodebuild.LocalCacheMode_CUSTOM),
		EncryptionKey: key,
		Logging:       &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logGroup("Build")}},
		Timeout:       awscdk.Duration_Minutes(jsii.Number(60)),
	})
	if sourceRepo != nil {
		build.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: str("ReadPromotedDigests"), Actions: jsii.Strings("ecr:DescribeImages"), Resources: jsii.Strings(*sourceRepo.RepositoryArn())}))
	} else {
		props.Repository.GrantPullPush(build)
		build.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: str("ReadImageDigests"), Actions: jsii.Strings("ecr:DescribeImages"), Resources: jsii.Strings(*props.Repository.RepositoryArn())}))
	}

	deployRole := awsiam.NewRole(stack, str("DeployRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(str("codebuild.amazonaws.com"), nil),
		Description: str("carthub deploy stage: kubectl in namespace " + Namespace + " only"),
	})
	deployRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("Kubeconfig"), Actions: jsii.Strings("eks:DescribeCluster"), Resources: jsii.Strings(*cluster.ClusterArn())}))
	// The Deploy stage reaches the private Kubernetes API (the cluster security group admits it
	// on 443) and AWS APIs over HTTPS (the endpoints, or NAT for EKS and KMS); nothing else.
	deploySG := awsec2.NewSecurityGroup(stack, str("DeploySecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc: net.Vpc, Description: str("deploy stage: HTTPS to the private EKS endpoint and AWS APIs"), AllowAllOutbound: jsii.Bool(false)})
	deploySG.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), str("HTTPS: Kubernetes API, AWS APIs"), nil)
	awsec2.NewCfnSecurityGroupIngress(stack, str("ClusterApiFromDeploy"), &awsec2.CfnSecurityGroupIngressProps{
		GroupId:               cluster.ClusterSecurityGroupId(),
		SourceSecurityGroupId: deploySG.SecurityGroupId(),
		IpProtocol:            str("tcp"), FromPort: jsii.Number(443), ToPort: jsii.Number(443),
		Description: str("Kubernetes API from the pipeline's Deploy stage"),
	})
	deploy := awscodebuild.NewPipelineProject(stack, str("Deploy"), &awscodebuild.PipelineProjectProps{
		Description: str("apply the manifests, replace the migration Job, wait for it"),
		BuildSpec:   buildSpec(pipeline.DeploySpec),
		Environment: &awscodebuild.BuildEnvironment{BuildImage: awscodebuild.LinuxBuildImage_STANDARD_8_0(), ComputeType: awscodebuild.ComputeType_SMALL},
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
			"CLUSTER_NAME": {Value: cluster.ClusterName()},
			"NAMESPACE":    {Value: str(Namespace)},
		},
		Role:            deployRole,
		Vpc:             net.Vpc,
		SubnetSelection: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		SecurityGroups:  &[]awsec2.ISecurityGroup{deploySG},
		EncryptionKey:   key,
		Logging:         &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logGroup("Deploy")}},
		Timeout:         awscdk.Duration_Minutes(jsii.Number(75)),
	})
	// Kubernetes rights through an access entry: edit, in the one namespace. The namespace and
	// its NetworkPolicies come from the Cluster stack, so nothing here needs more.
	awseksv2.NewAccessEntry(stack, str("DeployAccess"), &awseksv2.AccessEntryProps{
		Cluster:   cluster,
		Principal: deployRole.RoleArn(),
		AccessPolicies: &[]awseksv2.IAccessPolicy{awseksv2.AccessPolicy_FromAccessPolicyName(str("AmazonEKSEditPolicy"),
			&awseksv2.AccessPolicyNameOptions{AccessScopeType: awseksv2.AccessScopeType_NAMESPACE, Namespaces: jsii.Strings(Namespace)})},
	})

	sourceOut := awscodepipeline.NewArtifact(str("Source"), nil)
	buildOut := awscodepipeline.NewArtifact(str("Manifests"), nil)
	stages := []*awscodepipeline.StageProps{
		{StageName: str("Source"), Actions: &[]awscodepipeline.IAction{awscodepipelineactions.NewCodeCommitSourceAction(
			&awscodepipelineactions.CodeCommitSourceActionProps{ActionName: str("CodeCommit"), Repository: source, Branch: str("main"),
				Output: sourceOut, Trigger: awscodepipelineactions.CodeCommitTrigger_EVENTS})}},
		{StageName: str("Build"), Actions: &[]awscodepipeline.IAction{awscodepipelineactions.NewCodeBuildAction(
			&awscodepipelineactions.CodeBuildActionProps{ActionName: str("TestImageManifests"), Project: build, Input: sourceOut,
				Outputs: &[]awscodepipeline.Artifact{buildOut}})}},
	}
	if cfg.ManualApproval {
		stages = append(stages, &awscodepipeline.StageProps{StageName: str("Approve"), Actions: &[]awscodepipeline.IAction{
			awscodepipelineactions.NewManualApprovalAction(&awscodepipelineactions.ManualApprovalActionProps{
				ActionName: str("ApproveMigration"), AdditionalInformation: str(fmt.Sprintf("Migrate the %s database?", cfg.Name))})}})
	}
	stages = append(stages, &awscodepipeline.StageProps{StageName: str("Deploy"), Actions: &[]awscodepipeline.IAction{
		awscodepipelineactions.NewCodeBuildAction(&awscodepipelineactions.CodeBuildActionProps{
			ActionName: str("MigrationJob"), Project: deploy, Input: buildOut})}})
	// Expand and contract: the contract steps (files marked -- migrator:post-deploy) run after the
	// application's rollout, through the same deploy script and Job, with MIGRATOR_POST_DEPLOY set.
	if cfg.PostDeployApproval {
		stages = append(stages, &awscodepipeline.StageProps{StageName: str("ApprovePostDeploy"), Actions: &[]awscodepipeline.IAction{
			awscodepipelineactions.NewManualApprovalAction(&awscodepipelineactions.ManualApprovalActionProps{
				ActionName: str("ApplicationRolledOut"), AdditionalInformation: str(fmt.Sprintf(
					"Is the cart services' new version rolled out in %s? Then the post-deploy migrations may remove what the old one used.", cfg.Name))})}})
	}
	stages = append(stages, &awscodepipeline.StageProps{StageName: str("PostDeploy"), Actions: &[]awscodepipeline.IAction{
		awscodepipelineactions.NewCodeBuildAction(&awscodepipelineactions.CodeBuildActionProps{
			ActionName: str("PostDeployMigrationJob"), Project: deploy, Input: buildOut,
			EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{"POST_DEPLOY": {Value: str("true")}}})}})
	p := awscodepipeline.NewPipeline(stack, str("Pipeline"), &awscodepipeline.PipelineProps{
		PipelineName:             str(cfg.Prefix() + "-database"),
		PipelineType:             awscodepipeline.PipelineType_V2,
		ArtifactBucket:           artifacts,
		Stages:                   &stages,
		RestartExecutionOnUpdate: jsii.Bool(false),
	})
	awscdk.NewCfnOutput(stack, str("CodeCommitCloneUrl"), &awscdk.CfnOutputProps{Value: source.RepositoryCloneUrlGrc()})
	return &PipelineStack{Stack: stack, Pipeline: p, Source: source, Build: build, Deploy: deploy, DeployRole: deployRole,
		DeploySG: deploySG, Artifacts: artifacts, AccessLogs: accessLogs}
}

// buildSpec turns a buildspec file of the repository into the project's inline buildspec.
func buildSpec(file []byte) awscodebuild.BuildSpec {
	var spec map[string]any
	if err := yaml.Unmarshal(file, &spec); err != nil {
		panic(fmt.Sprintf("pipeline buildspec: %v", err)) // embedded files: a test catches this
	}
	return awscodebuild.BuildSpec_FromObjectToYaml(&spec)
}
