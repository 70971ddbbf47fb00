package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppress records the cdk-nag findings we accept. Each names its rule, the resource, and the
// reason a reviewer would need; everything else cdk-nag reports fails the synth test.
func suppress(a *App) {
	on(a.Cluster.Cluster.Role(), false, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"),
		AppliesTo: managedPolicies("AmazonEKSClusterPolicy"),
		Reason:    str("EKS requires AmazonEKSClusterPolicy on the cluster role; AWS maintains it with the service's needs")})
	on(a.Cluster.NodeRole, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"),
		AppliesTo: managedPolicies("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"),
		Reason:    str("the policies EKS documents for managed node groups: joining the cluster, pulling images from ECR (pod networking is aws-node's, through Pod Identity)")})
	on(a.Cluster.CNIRole, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"),
		AppliesTo: managedPolicies("AmazonEKS_CNI_Policy"),
		Reason:    str("the policy EKS documents for the VPC CNI; bound by Pod Identity to kube-system/aws-node of this cluster only")})
	on(a.Cluster.MigratorRole, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM5"),
		AppliesTo: regex(`/^Resource::arn:<AWS::Partition>:rds:[^:]+:\d+:snapshot:` + SnapshotPrefix + `-\*$/`),
		Reason:    str("each run names its snapshot from the versions and the time, so the role may act only on snapshots with the migrator's prefix")})
	defaultPort := &cdknag.NagPackSuppression{Id: str("AwsSolutions-RDS11"),
		Reason: str("5432 is what the cart services, NetworkPolicies and the migrator expect; the security group admits only the EKS cluster, so a non-default port would hide nothing")}
	on(a.Database.Instance, true, defaultPort)
	if a.Database.Replica != nil {
		on(a.Database.Replica, true, defaultPort, &cdknag.NagPackSuppression{Id: str("AwsSolutions-RDS2"),
			Reason: str("a read replica inherits the source's storage encryption (its customer-managed key); CloudFormation wants StorageEncrypted left out when SourceDBInstanceIdentifier is set")})
	}
	if !a.Config.DeletionProtection {
		noProtection := &cdknag.NagPackSuppression{Id: str("AwsSolutions-RDS10"),
			Reason: str("the dev environment is meant to be destroyed and rebuilt; prod has deletion protection on")}
		on(a.Database.Instance, true, noProtection)
		if a.Database.Replica != nil {
			on(a.Database.Replica, true, noProtection)
		}
	}
	if !a.Config.MultiAZ {
		on(a.Database.Instance, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-RDS3"),
			Reason: str("dev runs one AZ to halve the instance's cost (README's dev/prod table); prod is Multi-AZ")})
	}
	on(a.Cluster.ContainerLogs.AgentRole, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"),
		AppliesTo: managedPolicies("CloudWatchAgentServerPolicy"),
		Reason:    str("the policy AWS documents for the amazon-cloudwatch-observability add-on's agent and Fluent Bit (logs and Container Insights metrics); bound by Pod Identity to its ServiceAccount only")})
	if a.Operations.Plan != nil {
		on(a.Operations.Plan, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"),
			AppliesTo: managedPolicies("service-role/AWSBackupServiceRolePolicyForBackup"),
			Reason:    str("the service role policy AWS Backup documents for its backup jobs (snapshot, copy, tag, delete within the plan's lifecycle); assumed only by backup.amazonaws.com")})
	}
	kubectlProviderSuppressions(a)
	pipelineSuppressions(a)
	on(a.Network.Endpoints, true, &cdknag.NagPackSuppression{Id: str("CdkNagValidationFailure"),
		AppliesTo: &[]any{"AwsSolutions-EC23"},
		Reason:    str("the VPC endpoints' security groups admit HTTPS from the VPC's own CIDR, a token cdk-nag cannot resolve; nothing outside the VPC is admitted")})
}

// kubectlProviderSuppressions covers the CDK's own kubectl provider (awseksv2), the Lambda
// behind the namespace and NetworkPolicies manifests: its runtime, managed policies and the
// invoke grant of its provider framework are the CDK's, not ours to change.
func kubectlProviderSuppressions(a *App) {
	on(a.Cluster.Stack.Node().FindChild(str("KubectlProviderRole")), true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"),
		AppliesTo: managedPolicies("service-role/AWSLambdaBasicExecutionRole", "service-role/AWSLambdaVPCAccessExecutionRole"),
		Reason:    str("the kubectl handler's logs and its ENIs in the private subnets (the endpoint is private): the policies Lambda documents")})
	provider := a.Cluster.Cluster.Node().TryFindChild(str("KubectlProvider"))
	if provider == nil {
		return
	}
	on(provider, true,
		&cdknag.NagPackSuppression{Id: str("AwsSolutions-L1"),
			Reason: str("the kubectl handler's runtime is chosen by the CDK release that ships its code (aws-cdk-lib's aws-eks-v2 kubectl-handler)")},
		&cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"),
			AppliesTo: appendAny(managedPolicies("service-role/AWSLambdaBasicExecutionRole", "service-role/AWSLambdaVPCAccessExecutionRole",
				"AmazonEC2ContainerRegistryReadOnly"), regex(`/AmazonElasticContainerRegistryPublicReadOnly/`)),
			Reason: str("the CDK kubectl provider's roles: logs, ENIs in the private subnets (the endpoint is private), reading images")},
		&cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM5"),
			AppliesTo: regex(`/^Resource::<ClusterKubectlProviderHandler[0-9A-F]+\.Arn>:\*$/`),
			Reason:    str("the provider framework may invoke any version of the one kubectl handler function")})
}

func appendAny(lists ...*[]any) *[]any {
	var out []any
	for _, l := range lists {
		out = append(out, *l...)
	}
	return &out
}

func managedPolicies(policies ...string) *[]any {
	out := make([]any, len(policies))
	for i, p := range policies {
		out[i] = "Policy::arn:<AWS::Partition>:iam::aws:policy/" + p
	}
	return &out
}

// pipelineSuppressions covers the grants the CDK itself writes for CodePipeline and CodeBuild.
// Each wildcard is confined to one of the pipeline's own resources (its key, its artifact
// bucket, a project's own log group and report groups) or is one AWS requires on "*".
func pipelineSuppressions(a *App) {
	list := []*cdknag.NagPackSuppression{
		{Id: str("AwsSolutions-IAM5"), AppliesTo: regex(`/^Action::kms:(GenerateDataKey|ReEncrypt)\*$/`),
			Reason: str("the CDK's encrypt/decrypt grant on the pipeline's own KMS key (the resource is that one key)")},
		{Id: str("AwsSolutions-IAM5"), AppliesTo: regex(`/^Action::s3:(Abort|DeleteObject|GetBucket|GetObject|List)\*$/`, `/^Resource::<Artifacts[0-9A-F]+\.Arn>\/\*$/`),
			Reason: str("the CDK's read/write grant on the pipeline's own artifact bucket and its objects")},
		{Id: str("AwsSolutions-IAM5"), AppliesTo: regex(`/^Resource::arn:<AWS::Partition>:codebuild:[^:]+:\d+:report-group\/<(Test|Deploy|Review)[0-9A-F]+>-\*$/`,
			`/^Resource::arn:<AWS::Partition>:logs:[^:]+:\d+:log-group:\/aws\/codebuild\/<(Test|Deploy|Review)[0-9A-F]+>:\*$/`),
			Reason: str("each CodeBuild project may write only its own report groups and log streams")},
	}
	on(a.Pipeline.Stack, true, list...)
	requiredStar := &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM5"),
		AppliesTo: regex(`/^Resource::\*$/`, `/^Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface\/\*$/`),
		Reason:    str("AWS requires * for ecr:GetAuthorizationToken (Image) and for the EC2 network-interface actions of a CodeBuild project in a VPC (Deploy)")}
	on(a.Pipeline.Image, true, requiredStar)
	on(a.Pipeline.ImageRole, true, requiredStar)
	if a.Config.Promotion == nil {
		on(a.Pipeline.Image, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-CB3"),
			Reason: str("the Image project runs docker build for the migrator image, which needs privileged mode; it runs only the repository's own buildspec (a promoting environment copies with crane, unprivileged)")})
	}
	on(a.Pipeline.Deploy, true, requiredStar)
	on(a.Pipeline.DeployRole, true, requiredStar)
	reviewSuppressions(a)
	on(a.Pipeline.AccessLogs, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-S1"),
		Reason: str("this bucket receives the artifact bucket's server access logs; logging the log bucket itself would loop")})
}

// on suppresses findings on c (and, with children, on everything below it).
func on(c constructs.IConstruct, children bool, s ...*cdknag.NagPackSuppression) {
	cdknag.NagSuppressions_AddResourceSuppressions(c, &s, jsii.Bool(children))
}

// regex lists findings to suppress by pattern (cdk-nag's RegexAppliesTo).
func regex(patterns ...string) *[]any {
	out := make([]any, len(patterns))
	for i, p := range patterns {
		out[i] = &cdknag.RegexAppliesTo{Regex: str(p)}
	}
	return &out
}

// reviewSuppressions covers the approval rule template's custom resource: CodeCommit authorizes
// template actions on "*" only (templates have no ARN), and the SDK-call Lambda is the CDK's.
func reviewSuppressions(a *App) {
	on(a.Pipeline.Review.Template, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM5"), AppliesTo: regex(`/^Resource::\*$/`),
		Reason: str("codecommit:Create/Update/DeleteApprovalRuleTemplate have no resource type (an approval rule template has no ARN): IAM accepts only *; the statement allows those three actions alone")})
	if fn := a.Pipeline.Stack.Node().TryFindChild(str(awsCustomResourceFunction)); fn != nil {
		on(fn, true,
			&cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"), AppliesTo: managedPolicies("service-role/AWSLambdaBasicExecutionRole"),
				Reason: str("the CDK's AwsCustomResource function (the approval rule template's SDK calls at deploy time): its logs only")},
			&cdknag.NagPackSuppression{Id: str("AwsSolutions-L1"),
				Reason: str("the AwsCustomResource function's runtime is chosen by the CDK release that ships its code")})
	}
}

// awsCustomResourceFunction is the id of the CDK's singleton function behind AwsCustomResource.
const awsCustomResourceFunction = "AWS679f53fac002430cb0da5b7982bd2287"
