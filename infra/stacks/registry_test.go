package stacks

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestRegistry(t *testing.T) {
	tpl := template(appFor(t, "dev").Registry.Stack)
	tpl.ResourceCountIs(jsii.String("AWS::ECR::Repository"), jsii.Number(1))
	tpl.HasResourceProperties(jsii.String("AWS::ECR::Repository"), &map[string]any{
		"RepositoryName":             "carthub-database-dev",
		"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
		"ImageTagMutability":         "IMMUTABLE",
		"EncryptionConfiguration":    map[string]any{"EncryptionType": "KMS"},
		"LifecyclePolicy":            map[string]any{"LifecyclePolicyText": assertions.Match_StringLikeRegexp(jsii.String(`"tagStatus":"untagged"`))},
	})
}
