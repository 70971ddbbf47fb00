package stacks

import (
	"fmt"

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
	Config        EnvConfig
	Vpc           awsec2.IVpc
	Repository    awsecr.IRepository
	Cluster       awseksv2.ICluster
	DBSecretArn   *string
	DBInstanceID  *string
	DBSubnetCIDRs []*string
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
		RepositoryName: str(RepositoryName), Description: str("carthub-db: migrations, migrator, manifests and infrastructure"),
	})
	logGroup := func(name string) awslogs.LogGroup {
		return awslogs.NewLogGroup(stack, str(name+"Logs"), &awslogs.LogGroupProps{
			EncryptionKey: key, Retention: retention(cfg.LogRetentionDays), RemovalPolicy: cfg.RemovalPolicy})
	}

	build := awscodebuild.NewPipelineProject(stack, str("Build"), &awscodebuild.PipelineProjectProps{
		Description: str("make test, the image to ECR, manifests for its digest"),
		BuildSpec:   buildSpec(pipeline.BuildSpec),
		Environment: &awscodebuild.BuildEnvironment{
			BuildImage:  awscodebuild.LinuxBuildImage_STANDARD_8_0(),
			ComputeType: awscodebuild.ComputeType_MEDIUM,
			Privileged:  jsii.Bool(true), // docker build
		},
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
			"REPOSITORY_URI":         {Value: props.Repository.RepositoryUri()},
			"DEPLOY_ENV":             {Value: str(cfg.Name)},
			"CARTHUB_DB_SECRET_ARN":  {Value: props.DBSecretArn},
			"CARTHUB_DB_INSTANCE_ID": {Value: props.DBInstanceID},
			"CARTHUB_VPC_CIDR":       {Value: props.Vpc.VpcCidrBlock()},
			"CARTHUB_DB_CIDRS":       {Value: awscdk.Fn_Join(str(","), &props.DBSubnetCIDRs)},
		},
		EncryptionKey: key,
		Logging:       &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logGroup("Build")}},
		Timeout:       awscdk.Duration_Minutes(jsii.Number(60)),
	})
	props.Repository.GrantPullPush(build)
	build.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("ReadImageDigests"), Actions: jsii.Strings("ecr:DescribeImages"), Resources: jsii.Strings(*props.Repository.RepositoryArn())}))

	deployRole := awsiam.NewRole(stack, str("DeployRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(str("codebuild.amazonaws.com"), nil),
		Description: str("carthub deploy stage: kubectl in namespace " + Namespace + " only"),
	})
	deployRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("Kubeconfig"), Actions: jsii.Strings("eks:DescribeCluster"), Resources: jsii.Strings(*props.Cluster.ClusterArn())}))
	deploySG := awsec2.NewSecurityGroup(stack, str("DeploySecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc: props.Vpc, Description: str("deploy stage: reaches the private EKS endpoint"), AllowAllOutbound: jsii.Bool(true)})
	deploy := awscodebuild.NewPipelineProject(stack, str("Deploy"), &awscodebuild.PipelineProjectProps{
		Description: str("apply the manifests, replace the migration Job, wait for it"),
		BuildSpec:   buildSpec(pipeline.DeploySpec),
		Environment: &awscodebuild.BuildEnvironment{BuildImage: awscodebuild.LinuxBuildImage_STANDARD_8_0(), ComputeType: awscodebuild.ComputeType_SMALL},
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
			"CLUSTER_NAME": {Value: props.Cluster.ClusterName()},
			"NAMESPACE":    {Value: str(Namespace)},
		},
		Role:            deployRole,
		Vpc:             props.Vpc,
		SubnetSelection: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		SecurityGroups:  &[]awsec2.ISecurityGroup{deploySG},
		EncryptionKey:   key,
		Logging:         &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logGroup("Deploy")}},
		Timeout:         awscdk.Duration_Minutes(jsii.Number(75)),
	})
	// Kubernetes rights through an access entry: edit, in the one namespace.
	awseksv2.NewAccessEntry(stack, str("DeployAccess"), &awseksv2.AccessEntryProps{
		Cluster:   props.Cluster,
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
	p := awscodepipeline.NewPipeline(stack, str("Pipeline"), &awscodepipeline.PipelineProps{
		PipelineName:             str(cfg.Prefix() + "-database"),
		PipelineType:             awscodepipeline.PipelineType_V2,
		ArtifactBucket:           artifacts,
		Stages:                   &stages,
		RestartExecutionOnUpdate: jsii.Bool(false),
	})
	awscdk.NewCfnOutput(stack, str("CodeCommitCloneUrl"), &awscdk.CfnOutputProps{Value: source.RepositoryCloneUrlGrc()})
	return &PipelineStack{Stack: stack, Pipeline: p, Source: source, Build: build, Deploy: deploy, DeployRole: deployRole,
		Artifacts: artifacts, AccessLogs: accessLogs}
}

// buildSpec turns a buildspec file of the repository into the project's inline buildspec.
func buildSpec(file []byte) awscodebuild.BuildSpec {
	var spec map[string]any
	if err := yaml.Unmarshal(file, &spec); err != nil {
		panic(fmt.Sprintf("pipeline buildspec: %v", err)) // embedded files: a test catches this
	}
	return awscodebuild.BuildSpec_FromObjectToYaml(&spec)
}
