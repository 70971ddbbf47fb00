module github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2

go 1.25

require (
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/aws/constructs-go/constructs/v10 v10.8.1
)
