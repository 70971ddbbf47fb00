package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// RegistryStackProps configure the image registry.
type RegistryStackProps struct {
	awscdk.StackProps
	Config EnvConfig
}

// RegistryStack holds the ECR repository of the migrator image.
type RegistryStack struct {
	awscdk.Stack
	Repository awsecr.Repository
}

// NewRegistryStack makes ECR repository carthub-database: images scanned on push, tags
// immutable (a commit's tag always means the same image), KMS-encrypted, old images expired.
func NewRegistryStack(scope constructs.Construct, id string, props *RegistryStackProps) *RegistryStack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	repo := awsecr.NewRepository(stack, str("Repository"), &awsecr.RepositoryProps{
		RepositoryName:     str(RepositoryName),
		ImageScanOnPush:    jsii.Bool(true),
		ImageTagMutability: awsecr.TagMutability_IMMUTABLE,
		Encryption:         awsecr.RepositoryEncryption_KMS(),
		RemovalPolicy:      props.Config.RemovalPolicy,
		EmptyOnDelete:      jsii.Bool(props.Config.RemovalPolicy == awscdk.RemovalPolicy_DESTROY),
		LifecycleRules: &[]*awsecr.LifecycleRule{
			{Description: str("drop untagged layers after a week"), TagStatus: awsecr.TagStatus_UNTAGGED,
				MaxImageAge: awscdk.Duration_Days(jsii.Number(7)), RulePriority: jsii.Number(1)},
			{Description: str("keep the 50 newest images"), TagStatus: awsecr.TagStatus_ANY,
				MaxImageCount: jsii.Number(50), RulePriority: jsii.Number(2)},
		},
	})
	awscdk.NewCfnOutput(stack, str("RepositoryUri"), &awscdk.CfnOutputProps{Value: repo.RepositoryUri()})
	return &RegistryStack{Stack: stack, Repository: repo}
}
