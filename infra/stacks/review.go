package stacks

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/jsii-runtime-go"

	"github.com/carthub/carthub-db/infra/pipeline"
)

// Review is what lints every pull request into main before anyone merges it (docs/review.md):
// an EventBridge rule on the repository's pull request events starts the Review project on the
// source commit; review.sh comments lint's verdict and approves or revokes as the Review role;
// an approval rule template associated with the repository requires that approval.
type Review struct {
	Project  awscodebuild.Project
	Role     awsiam.Role
	Rule     awsevents.Rule
	Template customresources.AwsCustomResource // the approval rule template
	Attached customresources.AwsCustomResource // its association with the repository
}

// ReviewEvents are the pull request events that start a review: a new pull request, and a push
// to its source branch.
var ReviewEvents = []string{"pullRequestCreated", "pullRequestSourceBranchUpdated"}

// reviewInputs are the event's fields the Review build gets, as environment variables.
var reviewInputs = map[string]string{
	"PULL_REQUEST_ID":    "$.detail.pullRequestId",
	"SOURCE_COMMIT":      "$.detail.sourceCommit",
	"DESTINATION_COMMIT": "$.detail.destinationCommit",
	"SOURCE_REF":         "$.detail.sourceReference",
	"DESTINATION_REF":    "$.detail.destinationReference",
}

type reviewProps struct {
	cfg       EnvConfig
	source    awscodecommit.Repository
	key       awskms.Key
	artifacts awss3.Bucket
	shapeKey  string
	// statementsKey is the object of production's statements the Deploy stage stores.
	statementsKey string
	reports       awscodebuild.ReportGroup
	logs          awslogs.LogGroup
	// templateLogs is the log group of the CDK's function behind the template's custom
	// resources, encrypted with the pipeline's key like the build logs.
	templateLogs awslogs.LogGroup
}

func newReview(stack awscdk.Stack, p reviewProps) *Review {
	cfg := p.cfg
	role := codeBuildRole(stack, cfg, "ReviewRole", "review")
	// The pull requests of this repository only: read them, comment, approve or revoke.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("ReviewPullRequests"), Resources: jsii.Strings(*p.source.RepositoryArn()),
		Actions: jsii.Strings("codecommit:GetPullRequest", "codecommit:GetCommentsForPullRequest", "codecommit:PostCommentForPullRequest",
			"codecommit:UpdateComment", "codecommit:UpdatePullRequestApprovalState")}))
	// The table shape and production's statements the Deploy stage stored, read like Test reads
	// them: these two objects, decrypted with the pipeline's key for this bucket only.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("ReadTableShape"), Actions: jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*p.artifacts.ArnForObjects(str(p.shapeKey)), *p.artifacts.ArnForObjects(str(p.statementsKey)))}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: str("DecryptTableShape"), Actions: jsii.Strings("kms:Decrypt"), Resources: jsii.Strings(*p.key.KeyArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:EncryptionContext:aws:s3:arn": *p.artifacts.BucketArn()}}}))

	spec := reportsSpec(pipeline.ReviewSpec, p.reports, "lint-review.xml")
	project := awscodebuild.NewProject(stack, str("Review"), &awscodebuild.ProjectProps{
		ProjectName: str(projectName(cfg, "review")),
		Description: str("migrator lint on each pull request into main, merged into main as it is now: one comment, the approval the template requires"),
		// The full history (no clone depth): review.sh merges the source into the destination.
		Source:    awscodebuild.Source_CodeCommit(&awscodebuild.CodeCommitSourceProps{Repository: p.source}),
		BuildSpec: spec,
		// Test's image, size and cache; unprivileged, outside the VPC: no cluster, no database.
		Environment: &awscodebuild.BuildEnvironment{BuildImage: awscodebuild.LinuxBuildImage_STANDARD_8_0(), ComputeType: awscodebuild.ComputeType_MEDIUM,
			Privileged: jsii.Bool(false)},
		Cache:         awscodebuild.Cache_Local(awscodebuild.LocalCacheMode_CUSTOM),
		EncryptionKey: p.key,
		Logging:       &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: p.logs}},
		Timeout:       awscdk.Duration_Minutes(jsii.Number(ReviewTimeoutMinutes)),
		Role:          role,
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
			"DEPLOY_ENV": {Value: str(cfg.Name)}, "REPOSITORY_NAME": {Value: p.source.RepositoryName()},
			"SHAPE_URI":      {Value: str("s3://" + *p.artifacts.BucketName() + "/" + p.shapeKey)},
			"STATEMENTS_URI": {Value: str("s3://" + *p.artifacts.BucketName() + "/" + p.statementsKey)},
		},
	})
	p.reports.GrantWrite(role)
	// It encrypts nothing with the pipeline's key (no artifacts): decrypt only, as Test.
	dropGrants(role, "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")

	// The event's fields become the build's source version and environment variables.
	overrides := []map[string]any{}
	for _, name := range sortedNames(reviewInputs) {
		overrides = append(overrides, map[string]any{"name": name, "type": "PLAINTEXT", "value": awsevents.EventField_FromPath(str(reviewInputs[name]))})
	}
	rule := p.source.OnPullRequestStateChange(str("ReviewPullRequests"), &awsevents.OnEventOptions{
		Description: str("lint each pull request into main on its source commit (the Review project)"),
		EventPattern: &awsevents.EventPattern{Detail: &map[string]any{
			"event": ReviewEvents, "destinationReference": []string{"refs/heads/main"}, "pullRequestStatus": []string{"Open"},
		}},
		Target: awseventstargets.NewCodeBuildProject(project, &awseventstargets.CodeBuildProjectProps{
			Event: awsevents.RuleTargetInput_FromObject(map[string]any{
				"sourceVersion": awsevents.EventField_FromPath(str("$.detail.sourceCommit")), "environmentVariablesOverride": overrides}),
			RetryAttempts: jsii.Number(2), MaxEventAge: awscdk.Duration_Hours(jsii.Number(1)),
		}),
	})

	// The approval rule template: pull requests into main need one approval from the Review role
	// (any of its sessions). CloudFormation has no resource for templates, so the CDK's
	// AwsCustomResource creates, updates and deletes it with the SDK.
	name := cfg.Prefix() + "-database-review"
	content := stack.ToJsonString(map[string]any{
		"Version": "2018-11-08", "DestinationReferences": []string{"refs/heads/main"},
		"Statements": []any{map[string]any{"Type": "Approvers", "NumberOfApprovalsNeeded": 1,
			"ApprovalPoolMembers": []any{awscdk.Fn_Join(str(""), &[]*string{str("arn:"), awscdk.Aws_PARTITION(), str(":sts::"), awscdk.Aws_ACCOUNT_ID(),
				str(":assumed-role/"), role.RoleName(), str("/*")})}}},
	}, nil)
	id := customresources.PhysicalResourceId_Of(str(name))
	template := customresources.NewAwsCustomResource(stack, str("ReviewApprovalTemplate"), &customresources.AwsCustomResourceProps{
		ResourceType: str("Custom::ApprovalRuleTemplate"),
		OnCreate: &customresources.AwsSdkCall{Service: str("CodeCommit"), Action: str("createApprovalRuleTemplate"), PhysicalResourceId: id,
			Parameters: map[string]any{"approvalRuleTemplateName": name, "approvalRuleTemplateContent": content,
				"approvalRuleTemplateDescription": "migrator lint passed: the Review project's approval (docs/review.md)"}},
		OnUpdate: &customresources.AwsSdkCall{Service: str("CodeCommit"), Action: str("updateApprovalRuleTemplateContent"), PhysicalResourceId: id,
			Parameters: map[string]any{"approvalRuleTemplateName": name, "newRuleContent": content}},
		OnDelete: &customresources.AwsSdkCall{Service: str("CodeCommit"), Action: str("deleteApprovalRuleTemplate"),
			Parameters: map[string]any{"approvalRuleTemplateName": name}},
		// Templates have no ARN to name: CodeCommit authorizes these three on "*" only.
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("codecommit:CreateApprovalRuleTemplate", "codecommit:UpdateApprovalRuleTemplateContent", "codecommit:DeleteApprovalRuleTemplate"),
			Resources: jsii.Strings("*")})}),
		InstallLatestAwsSdk: jsii.Bool(false), LogGroup: p.templateLogs,
	})
	attachID := customresources.PhysicalResourceId_Of(str(name + "@" + cfg.RepositoryName()))
	attach := func(action string) *customresources.AwsSdkCall {
		return &customresources.AwsSdkCall{Service: str("CodeCommit"), Action: str(action), PhysicalResourceId: attachID,
			Parameters: map[string]any{"approvalRuleTemplateName": name, "repositoryName": p.source.RepositoryName()}}
	}
	attached := customresources.NewAwsCustomResource(stack, str("ReviewApprovalTemplateAssociation"), &customresources.AwsCustomResourceProps{
		ResourceType: str("Custom::ApprovalRuleTemplateAssociation"),
		OnCreate:     attach("associateApprovalRuleTemplateWithRepository"),
		OnUpdate:     attach("associateApprovalRuleTemplateWithRepository"),
		OnDelete:     attach("disassociateApprovalRuleTemplateFromRepository"),
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("codecommit:AssociateApprovalRuleTemplateWithRepository", "codecommit:DisassociateApprovalRuleTemplateFromRepository"),
			Resources: jsii.Strings(*p.source.RepositoryArn())})}),
		InstallLatestAwsSdk: jsii.Bool(false), LogGroup: p.templateLogs,
	})
	attached.Node().AddDependency(template)
	return &Review{Project: project, Role: role, Rule: rule, Template: template, Attached: attached}
}

// ReviewTimeoutMinutes bounds a Review build: it lints only what the pull request adds.
const ReviewTimeoutMinutes = 30

// reportsSpec is file's buildspec with a reports section sending the JUnit file named junit
// (under reports/) to the report group.
func reportsSpec(file []byte, reports awscodebuild.ReportGroup, junit string) awscodebuild.BuildSpec {
	spec := specMap(file)
	spec["reports"] = map[string]any{*reports.ReportGroupArn(): map[string]any{
		"files": []string{junit}, "base-directory": "reports", "file-format": "JUNITXML"}}
	return awscodebuild.BuildSpec_FromObjectToYaml(&spec)
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
