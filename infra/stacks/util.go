package stacks

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// grantLogsEncryption lets CloudWatch Logs use key for this account's log groups only: the
// encryption context names the log group, so another account's group cannot borrow the key
// (the CloudWatch Logs guide's confused-deputy condition).
func grantLogsEncryption(stack awscdk.Stack, key awskms.Key) {
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        str("CloudWatchLogsOfThisAccount"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(str("logs."+*stack.Region()+".amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": *stack.FormatArn(&awscdk.ArnComponents{
			Service: str("logs"), Resource: str("log-group"), ResourceName: str("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})}},
	}), nil)
}

// retention maps days to the nearest CloudWatch Logs retention at or above it.
func retention(days int) awslogs.RetentionDays {
	switch {
	case days <= 30:
		return awslogs.RetentionDays_ONE_MONTH
	case days <= 90:
		return awslogs.RetentionDays_THREE_MONTHS
	default:
		return awslogs.RetentionDays_ONE_YEAR
	}
}

// confineServiceGrants adds conditions to each statement of res's policy document (doc, the
// value of its property docProperty) that grants a service principal and has no condition:
// the grants the CDK writes for a service (EventBridge, CodeStar Notifications, AWS Backup
// publishing to a topic) carry no confused-deputy condition. Nothing else of the statements
// changes; call it once the stack is complete (the tests read the result).
func confineServiceGrants(res awscdk.CfnResource, docProperty string, doc any, conditions map[string]any) {
	patchStatements(res, docProperty, doc, func(st map[string]any) (string, any) {
		principal, _ := st["Principal"].(map[string]any)
		if _, service := principal["Service"]; service && st["Condition"] == nil {
			return "Condition", conditions
		}
		return "", nil
	})
}

// patchStatements overrides, in res's policy document (doc, the value of its property
// docProperty), the field patch names of each statement it returns a value for. The document is
// resolved only to read it: the statements' other fields stay as the CDK writes them (cross-stack
// references included). Call it once the stack is complete; the tests read the result.
func patchStatements(res awscdk.CfnResource, docProperty string, doc any, patch func(statement map[string]any) (field string, value any)) {
	resolved, _ := awscdk.Stack_Of(res).Resolve(doc).(map[string]any)
	for i, s := range resolved["Statement"].([]any) {
		if field, value := patch(s.(map[string]any)); field != "" {
			res.AddPropertyOverride(str(fmt.Sprintf("%s.Statement.%d.%s", docProperty, i, field)), value)
		}
	}
}
