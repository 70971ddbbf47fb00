package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// RegistryStackProps configure the image registry.
type RegistryStackProps struct {
	awscdk.StackProps
	Config EnvConfig
	// PullAccounts promote this registry's images (prod copies what dev built and tested into
	// its own repository): their pipelines may read digests and copy the images.
	PullAccounts []string
}

// RegistryStack holds the ECR repository of the migrator image.
type RegistryStack struct {
	awscdk.Stack
	Repository awsecr.Repository
}

// NewRegistryStack makes ECR repository carthub-database-ENV: images scanned on push, tags
// immutable (a commit's tag always means the same image), KMS-encrypted, images expired by age
// (Config.ImageRetentionDays), readable by the accounts that promote its images.
//
// Expiry is by age, not by count: each commit pushes three images (the list, TAG, and its
// platform images, TAG-amd64 and TAG-arm64, tagged so that no untagged rule takes them), a count
// would split a list from its variants, and they were pushed within minutes of each other, so
// an age takes them together.
func NewRegistryStack(scope constructs.Construct, id string, props *RegistryStackProps) *RegistryStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	// A repository's encryption is fixed when it is made: dev's, made earlier, keeps the AWS
	// managed key; a promoting environment's (new with its copies) has a key of its own.
	var key awskms.IKey
	if props.Config.Promotion != nil {
		key = awskms.NewKey(stack, str("RepositoryKey"), &awskms.KeyProps{
			Description: str(props.Config.Prefix() + " ECR repository"), EnableKeyRotation: jsii.Bool(true), RemovalPolicy: props.Config.RemovalPolicy,
		})
	}
	repo := awsecr.NewRepository(stack, str("Repository"), &awsecr.RepositoryProps{
		RepositoryName:     str(props.Config.RepositoryName()),
		ImageScanOnPush:    jsii.Bool(true),
		ImageTagMutability: awsecr.TagMutability_IMMUTABLE,
		Encryption:         awsecr.RepositoryEncryption_KMS(),
		EncryptionKey:      key,
		RemovalPolicy:      props.Config.RemovalPolicy,
		EmptyOnDelete:      jsii.Bool(props.Config.RemovalPolicy == awscdk.RemovalPolicy_DESTROY),
		LifecycleRules: &[]*awsecr.LifecycleRule{
			{Description: str("drop untagged layers after a week"), TagStatus: awsecr.TagStatus_UNTAGGED,
				MaxImageAge: awscdk.Duration_Days(jsii.Number(7)), RulePriority: jsii.Number(1)},
			{Description: str(fmt.Sprintf("expire a commit's images (the list and its platform images) %d days after their push", props.Config.ImageRetentionDays)),
				TagStatus: awsecr.TagStatus_ANY, MaxImageAge: awscdk.Duration_Days(jsii.Number(props.Config.ImageRetentionDays)), RulePriority: jsii.Number(2)},
		},
	})
	if len(props.PullAccounts) > 0 {
		var principals []awsiam.IPrincipal
		for _, a := range props.PullAccounts {
			principals = append(principals, awsiam.NewAccountPrincipal(str(a)))
		}
		repo.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        str("PromotedEnvironmentsPullByDigest"),
			Principals: &principals,
			Actions: jsii.Strings("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
				"ecr:DescribeImages"),
		}))
	}
	awscdk.NewCfnOutput(stack, str("RepositoryUri"), &awscdk.CfnOutputProps{Value: repo.RepositoryUri()})
	return &RegistryStack{Stack: stack, Repository: repo}
}
