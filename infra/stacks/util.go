package stacks

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func awsiamServicePrincipal(name string) awsiam.ServicePrincipal {
	return awsiam.NewServicePrincipal(str(name), nil)
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
