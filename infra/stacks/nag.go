package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppress records the cdk-nag findings we accept. Each names its rule, the resource, and the
// reason a reviewer would need; everything else cdk-nag reports fails the synth test.
func suppress(a *App) {
	on := func(c constructs.IConstruct, children bool, s ...*cdknag.NagPackSuppression) {
		cdknag.NagSuppressions_AddResourceSuppressions(c, &s, jsii.Bool(children))
	}
	managed := func(policies ...string) *[]any {
		out := make([]any, len(policies))
		for i, p := range policies {
			out[i] = "Policy::arn:<AWS::Partition>:iam::aws:policy/" + p
		}
		return &out
	}
	on(a.Cluster.Cluster.Role(), false, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"),
		AppliesTo: managed("AmazonEKSClusterPolicy"),
		Reason:    str("EKS requires AmazonEKSClusterPolicy on the cluster role; AWS maintains it with the service's needs")})
	on(a.Cluster.Nodes.Role(), true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM4"),
		AppliesTo: managed("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"),
		Reason:    str("the policies EKS documents for managed node groups: joining the cluster, pod networking, pulling images from ECR")})
	on(a.Cluster.MigratorRole, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-IAM5"),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: str(`/^Resource::arn:<AWS::Partition>:rds:[^:]+:\d+:snapshot:` + SnapshotPrefix + `-\*$/`)}},
		Reason:    str("each run names its snapshot from the versions and the time, so the role may act only on snapshots with the migrator's prefix")})
	defaultPort := &cdknag.NagPackSuppression{Id: str("AwsSolutions-RDS11"),
		Reason: str("5432 is what the cart services, NetworkPolicies and the migrator expect; the security group admits only the EKS cluster, so a non-default port would hide nothing")}
	on(a.Database.Instance, true, defaultPort)
	if a.Database.Replica != nil {
		on(a.Database.Replica, true, defaultPort, &cdknag.NagPackSuppression{Id: str("AwsSolutions-RDS2"),
			Reason: str("a read replica inherits the source's storage encryption (its customer-managed key); CloudFormation wants StorageEncrypted left out when SourceDBInstanceIdentifier is set")})
	}
	if !a.Config.DeletionProtection {
		on(a.Database.Instance, true, &cdknag.NagPackSuppression{Id: str("AwsSolutions-RDS10"),
			Reason: str("the dev environment is meant to be destroyed and rebuilt; prod has deletion protection on")})
	}
	on(a.Network.Vpc, true, &cdknag.NagPackSuppression{Id: str("CdkNagValidationFailure"),
		AppliesTo: &[]any{"AwsSolutions-EC23"},
		Reason:    str("the VPC endpoints' security groups admit HTTPS from the VPC's own CIDR, a token cdk-nag cannot resolve; nothing outside the VPC is admitted")})
}
