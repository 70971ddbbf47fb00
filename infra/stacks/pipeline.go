package stacks

import (
	"fmt"
	"slices"
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
	// Repository holds the images this environment runs: the ones it builds, or (Config.Promotion)
	// the copies of its source environment's images it promoted.
	Repository   awsecr.IRepository
	Cluster      *ClusterStack
	DBSecretArn  *string
	DBInstanceID *string
}

// PipelineStack is CodeCommit -> CodePipeline (V2) -> CodeBuild (test | image and manifests) ->
// ECR -> CodeBuild (the migration Job on EKS).
type PipelineStack struct {
	awscdk.Stack
	Pipeline   awscodepipeline.Pipeline
	Source     awscodecommit.Repository
	Test       awscodebuild.PipelineProject
	Image      awscodebuild.PipelineProject
	ImageRole  awsiam.Role
	Deploy     awscodebuild.PipelineProject
	DeployRole awsiam.Role
	DeploySG   awsec2.SecurityGroup
	Artifacts  awss3.Bucket
	AccessLogs awss3.Bucket
	// Review lints each pull request into main (review.go); Reports holds lint's JUnit files.
	Review  *Review
	Reports awscodebuild.ReportGroup
}

// NewPipelineStack makes the delivery pipeline. A push to main runs the Build stage (make test,
// then the image pushed to ECR under the commit's tag, or beside it the copy a promoting
// environment makes, and the manifests for its digest) and then the Deploy stage (apply the manifests, replace and await the migration Job); prod waits for a
// manual approval in between. Artifacts and logs are encrypted with the pipeline's KMS key.
func NewPipelineStack(scope constructs.Construct, id string, props *PipelineStackProps) *PipelineStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	cfg := props.Config
	cluster := props.Cluster.Cluster
	key := awskms.NewKey(stack, str("Key"), &awskms.KeyProps{
		Description: str(cfg.Prefix() + " pipeline artifacts and build logs"), EnableKeyRotation: jsii.Bool(true), RemovalPolicy: cfg.RemovalPolicy,
	})
	grantLogsEncryption(stack, key)
	accessLogs := awss3.NewBucket(stack, str("AccessLogs"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(), EnforceSSL: jsii.Bool(true),
		RemovalPolicy: cfg.RemovalPolicy, AutoDeleteObjects: jsii.Bool(cfg.RemovalPolicy == awscdk.RemovalPolicy_DESTROY),
		// Versioned: an overwritten or deleted log object stays for a week (Trivy AWS-0090).
		Versioned: jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(365)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(7))}},
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
	env["REPOSITORY_URI"] = &awscodebuild.BuildEnvironmentVariable{Value: props.Repository.RepositoryUri()}
	var sourceRepo awsecr.IRepository
	if p := cfg.Promotion; p != nil {
		// This environment runs the image its source environment built and tested, by digest.
		sourceRepo = awsecr.Repository_FromRepositoryAttributes(stack, str("PromotedFrom"), &awsecr.RepositoryAttributes{
			RepositoryName: str(p.RepositoryName),
			RepositoryArn:  str(fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", *awscdk.Aws_PARTITION(), p.Region, p.Account, p.RepositoryName)),
		})
		env["PROMOTE_FROM_URI"] = &awscodebuild.BuildEnvironmentVariable{Value: str(fmt.Sprintf(
			"%s.dkr.ecr.%s.%s/%s", p.Account, p.Region, *awscdk.Aws_URL_SUFFIX(), p.RepositoryName))}
	}
	// The table shape (statistics, no rows) and the statements production runs (normalized
	// texts, no literal, no comment) the migration Job logs: stored by the Deploy stage, read by
	// the Test action's and Review's lint. Their objects in the artifact bucket, the only ones
	// Deploy may write beyond the pipeline's artifacts.
	shapeKey := "shapes/" + cfg.Name + ".json"
	shapeURI := "s3://" + *artifacts.BucketName() + "/" + shapeKey
	statementsKey := "shapes/" + cfg.Name + "-statements.sql"
	statementsURI := "s3://" + *artifacts.BucketName() + "/" + statementsKey

	// Build stage: Test runs make test (unprivileged, no registry rights); Image builds and
	// pushes the image, or, promoting, copies the source environment's image for this commit
	// into this environment's repository, by digest; both write the manifests. Where images are
	// built, Image runs after Test (imageRunOrder), so that no image of a commit whose tests
	// failed is ever pushed for another environment to promote; a promoting environment copies
	// beside its Test. The Deploy stage waits for both.
	// project makes a CodeBuild project of the pipeline: named for its part, on the standard
	// image, encrypted with the pipeline's key, logging to its own group.
	project := func(id, part string, spec []byte, env awscodebuild.BuildEnvironment, logs awslogs.LogGroup, minutes float64, p awscodebuild.PipelineProjectProps) awscodebuild.PipelineProject {
		env.BuildImage = awscodebuild.LinuxBuildImage_STANDARD_8_0()
		p.ProjectName, p.Environment, p.EncryptionKey = str(projectName(cfg, part)), &env, key
		if p.BuildSpec == nil {
			p.BuildSpec = buildSpec(spec)
		}
		p.Logging = &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logs}}
		p.Timeout = awscdk.Duration_Minutes(jsii.Number(minutes))
		return awscodebuild.NewPipelineProject(stack, str(id), &p)
	}
	// Lint's JUnit file, from Test (make lint-migrations) and Review: the console's Reports tab.
	reports := awscodebuild.NewReportGroup(stack, str("LintReports"), &awscodebuild.ReportGroupProps{
		ReportGroupName: str(cfg.Prefix() + "-database-lint"), Type: awscodebuild.ReportGroupType_TEST, RemovalPolicy: cfg.RemovalPolicy})
	test := project("Test", "test", pipeline.TestSpec, awscodebuild.BuildEnvironment{ComputeType: awscodebuild.ComputeType_MEDIUM},
		logGroup("Test"), TestTimeoutMinutes, awscodebuild.PipelineProjectProps{
			Description: str("make test: every test, migrator lint, CDK synth with cdk-nag, cfn-lint and Trivy"),
			BuildSpec:   reportsSpec(pipeline.TestSpec, reports, "lint.xml"),
			// migrator lint generates its dataset in the shape the last migration Job logged, and
			// runs the statements it logged beside queries.sql.
			EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
				"DEPLOY_ENV": {Value: str(cfg.Name)}, "SHAPE_URI": {Value: str(shapeURI)}, "STATEMENTS_URI": {Value: str(statementsURI)}},
			Role: codeBuildRole(stack, cfg, "TestRole", "test"),
			// The buildspec's cache paths (Go modules and build cache, npm, the Kubernetes and
			// Trivy builds) stay on the build host between builds.
			Cache: awscodebuild.Cache_Local(awscodebuild.LocalCacheMode_CUSTOM),
		})
	reports.GrantWrite(test.Role())
	review := newReview(stack, reviewProps{cfg: cfg, source: source, key: key, artifacts: artifacts, shapeKey: shapeKey, statementsKey: statementsKey,
		reports: reports, logs: logGroup("Review"), templateLogs: logGroup("ReviewApprovalTemplate")})
	imageRole := codeBuildRole(stack, cfg, "ImageRole", "image")
	imageLogs := logGroup("Image")
	image := project("Image", "image", pipeline.ImageSpec, awscodebuild.BuildEnvironment{
		ComputeType: awscodebuild.ComputeType_MEDIUM,
		Privileged:  jsii.Bool(cfg.Promotion == nil), // docker build; a promotion copies with crane and needs no daemon
	}, imageLogs, ImageTimeoutMinutes, awscodebuild.PipelineProjectProps{
		Description:          str("the image to ECR (built, or copied by digest from the source environment), manifests for its digest"),
		EnvironmentVariables: &env,
		// Its grants are the statements below, not the CDK's defaults (which add s3:DeleteObject*
		// and kms:ReEncrypt* for the output artifact).
		Role:  imageRole.WithoutPolicyUpdates(nil),
		Cache: awscodebuild.Cache_Local(awscodebuild.LocalCacheMode_DOCKER_LAYER, awscodebuild.LocalCacheMode_CUSTOM),
	})
	// The table shape is the Deploy stage's to write, not the build's (the statements below
	// allow objects of the whole bucket: CodePipeline names the output artifact's key).
	imageRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("NotTheTableShape"), Effect: awsiam.Effect_DENY, Actions: jsii.Strings("s3:PutObject", "s3:DeleteObject"),
		Resources: jsii.Strings(*artifacts.ArnForObjects(str("shapes/*")))}))
	for _, st := range []*awsiam.PolicyStatementProps{
		{Sid: str("BuildLogs"), Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"), Resources: jsii.Strings(*imageLogs.LogGroupArn())},
		{Sid: str("ReadSourceWriteManifests"), Actions: jsii.Strings("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"),
			Resources: jsii.Strings(*artifacts.ArnForObjects(str("*")))},
		{Sid: str("ArtifactBucket"), Actions: jsii.Strings("s3:GetBucketLocation", "s3:GetBucketVersioning"), Resources: jsii.Strings(*artifacts.BucketArn())},
		{Sid: str("ArtifactKey"), Actions: jsii.Strings("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"), Resources: jsii.Strings(*key.KeyArn())},
		{Sid: str("EcrLogin"), Actions: jsii.Strings("ecr:GetAuthorizationToken"), Resources: jsii.Strings("*")},
	} {
		imageRole.AddToPolicy(awsiam.NewPolicyStatement(st))
	}
	props.Repository.GrantPullPush(imageRole)
	imageRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("ReadImageDigests"), Actions: jsii.Strings("ecr:DescribeImages"), Resources: jsii.Strings(*props.Repository.RepositoryArn())}))
	if sourceRepo != nil {
		imageRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: str("CopyPromotedImages"), Actions: jsii.Strings("ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"),
			Resources: jsii.Strings(*sourceRepo.RepositoryArn())}))
	}

	deployRole := codeBuildRole(stack, cfg, "DeployRole", "deploy")
	deployRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("Kubeconfig"), Actions: jsii.Strings("eks:DescribeCluster"), Resources: jsii.Strings(*cluster.ClusterArn())}))
	// The table shape and production's statements: these two objects, encrypted with the
	// pipeline's key for this bucket only.
	deployRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("StoreTableShape"), Actions: jsii.Strings("s3:PutObject"),
		Resources: jsii.Strings(*artifacts.ArnForObjects(str(shapeKey)), *artifacts.ArnForObjects(str(statementsKey)))}))
	deployRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("EncryptTableShape"), Actions: jsii.Strings("kms:GenerateDataKey"), Resources: jsii.Strings(*key.KeyArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:aws:s3:arn": *artifacts.BucketArn()}}}))
	// The Deploy stage reaches the private Kubernetes API (the cluster security group admits it
	// on 443) and, over HTTPS, the AWS APIs it calls: EKS (update-kubeconfig), CloudWatch Logs
	// (its build log) and S3 (its input artifact); nothing else.
	deploySG := awsec2.NewSecurityGroup(stack, str("DeploySecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc: net.Vpc, Description: str("deploy stage: HTTPS to the private EKS endpoint and AWS APIs"), AllowAllOutbound: jsii.Bool(false)})
	https := awsec2.Port_Tcp(jsii.Number(443))
	if cfg.DeployAPIsInVPC() {
		// Each of those APIs has an endpoint in the VPC: HTTPS never leaves it.
		deploySG.AddEgressRule(awsec2.Peer_Ipv4(str(VpcCIDR)), https, str("HTTPS: the private Kubernetes API, the EKS and CloudWatch Logs endpoints"), nil)
		s3 := awsec2.PrefixList_FromLookup(stack, str("S3PrefixList"), &awsec2.PrefixListLookupOptions{
			PrefixListName: str("com.amazonaws." + cfg.Region + ".s3")})
		deploySG.AddEgressRule(awsec2.Peer_PrefixList(s3.PrefixListId()), https, str("HTTPS: S3 through the gateway endpoint (the input artifact)"), nil)
	} else {
		// Without EKS and CloudWatch Logs endpoints (dev saves their cost) those calls take the
		// NAT gateway to the APIs' public addresses, which no narrower rule can name.
		deploySG.AddEgressRule(awsec2.Peer_AnyIpv4(), https, str("HTTPS: Kubernetes API; EKS, CloudWatch Logs and S3 through the NAT gateway"), nil)
	}
	awsec2.NewCfnSecurityGroupIngress(stack, str("ClusterApiFromDeploy"), &awsec2.CfnSecurityGroupIngressProps{
		GroupId:               cluster.ClusterSecurityGroupId(),
		SourceSecurityGroupId: deploySG.SecurityGroupId(),
		IpProtocol:            str("tcp"), FromPort: jsii.Number(443), ToPort: jsii.Number(443),
		Description: str("Kubernetes API from the pipeline's Deploy stage"),
	})
	deploy := project("Deploy", "deploy", pipeline.DeploySpec, awscodebuild.BuildEnvironment{ComputeType: awscodebuild.ComputeType_SMALL},
		logGroup("Deploy"), 75, awscodebuild.PipelineProjectProps{
			Description: str("apply the manifests, replace the migration Job, wait for it"),
			EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
				"CLUSTER_NAME":   {Value: cluster.ClusterName()},
				"NAMESPACE":      {Value: str(Namespace)},
				"SHAPE_URI":      {Value: str(shapeURI)},
				"STATEMENTS_URI": {Value: str(statementsURI)},
			},
			Role:            deployRole,
			Vpc:             net.Vpc,
			SubnetSelection: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
			SecurityGroups:  &[]awsec2.ISecurityGroup{deploySG},
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
		{StageName: str("Build"), Actions: &[]awscodepipeline.IAction{
			awscodepipelineactions.NewCodeBuildAction(&awscodepipelineactions.CodeBuildActionProps{ActionName: str("Test"), Project: test, Input: sourceOut}),
			awscodepipelineactions.NewCodeBuildAction(&awscodepipelineactions.CodeBuildActionProps{ActionName: str("ImageManifests"), Project: image, Input: sourceOut,
				Outputs: &[]awscodepipeline.Artifact{buildOut}, RunOrder: jsii.Number(imageRunOrder(cfg))}),
		}},
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
	// A project's EncryptionKey and the pipeline's CodeBuild actions grant the whole
	// encrypt/decrypt set on the key; Test and Deploy write no artifacts: they keep decrypt.
	for _, role := range []awsiam.Role{test.Role().(awsiam.Role), deployRole} {
		dropGrants(role, "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
	}
	awscdk.NewCfnOutput(stack, str("CodeCommitCloneUrl"), &awscdk.CfnOutputProps{Value: source.RepositoryCloneUrlGrc()})
	return &PipelineStack{Stack: stack, Pipeline: p, Source: source, Test: test, Image: image, ImageRole: imageRole, Deploy: deploy, DeployRole: deployRole,
		DeploySG: deploySG, Artifacts: artifacts, AccessLogs: accessLogs, Review: review, Reports: reports}
}

// The Build stage's timeouts: about three times what a cold run took (docs/first-deployment.md,
// "How long the pipeline takes": Test 19 min, Image 1.5 min), so a slow day passes and a hung
// build does not hold the pipeline.
const (
	TestTimeoutMinutes  = 60
	ImageTimeoutMinutes = 30
)

// dropGrants removes actions the CDK's grants wrote into role's default policy, from each
// statement that has them (patchStatements).
func dropGrants(role awsiam.Role, actions ...string) {
	cfn := role.Node().FindChild(str("DefaultPolicy")).Node().DefaultChild().(awsiam.CfnPolicy)
	patchStatements(cfn, "PolicyDocument", cfn.PolicyDocument(), func(st map[string]any) (string, any) {
		var all []string
		switch a := st["Action"].(type) {
		case string:
			all = []string{a}
		case []any:
			for _, x := range a {
				all = append(all, x.(string))
			}
		}
		kept := slices.DeleteFunc(slices.Clone(all), func(a string) bool { return slices.Contains(actions, a) })
		switch {
		case len(kept) == len(all):
			return "", nil
		case len(kept) == 0:
			panic(fmt.Sprintf("dropGrants: a statement of %s would have no actions left", *role.Node().Path())) // a test catches this
		}
		return "Action", kept
	})
}

// imageRunOrder is the Image action's place in the Build stage: after Test where the image is
// built (2), beside it where it is copied from an environment that tested it (1).
func imageRunOrder(cfg EnvConfig) float64 {
	if cfg.Promotion == nil {
		return 2
	}
	return 1
}

func projectName(cfg EnvConfig, part string) string { return cfg.Prefix() + "-database-" + part }

// codeBuildRole is a CodeBuild project's service role, assumable by CodeBuild for that one
// project of this account only (confused-deputy conditions).
func codeBuildRole(stack awscdk.Stack, cfg EnvConfig, id, part string) awsiam.Role {
	project := stack.FormatArn(&awscdk.ArnComponents{Service: str("codebuild"), Resource: str("project"), ResourceName: str(projectName(cfg, part)),
		ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME})
	conditions := map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": *stack.Account()},
		"ArnLike":      map[string]any{"aws:SourceArn": *project},
	}
	return awsiam.NewRole(stack, str(id), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewPrincipalWithConditions(awsiam.NewServicePrincipal(str("codebuild.amazonaws.com"), nil), &conditions),
		Description: str(fmt.Sprintf("carthub %s pipeline: the %s project (%s)", cfg.Name, part, projectName(cfg, part))),
	})
}

// buildSpec turns a buildspec file of the repository into the project's inline buildspec.
func buildSpec(file []byte) awscodebuild.BuildSpec {
	spec := specMap(file)
	return awscodebuild.BuildSpec_FromObjectToYaml(&spec)
}

// specMap is a buildspec file of the repository as the object CodeBuild's inline buildspec is.
func specMap(file []byte) map[string]any {
	var spec map[string]any
	if err := yaml.Unmarshal(file, &spec); err != nil {
		panic(fmt.Sprintf("pipeline buildspec: %v", err)) // embedded files: a test catches this
	}
	return spec
}
