package stacks

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestCluster(t *testing.T) {
	a := appFor(t, "dev")
	tpl := template(a.Cluster.Stack)
	tpl.HasResourceProperties(jsii.String("AWS::EKS::Cluster"), &map[string]any{
		"Version": "1.35",
		"Logging": map[string]any{"ClusterLogging": map[string]any{"EnabledTypes": []any{
			map[string]any{"Type": "api"}, map[string]any{"Type": "audit"}, map[string]any{"Type": "authenticator"},
			map[string]any{"Type": "controllerManager"}, map[string]any{"Type": "scheduler"}}}},
		"ResourcesVpcConfig": assertions.Match_ObjectLike(&map[string]any{"EndpointPublicAccess": false, "EndpointPrivateAccess": true}),
		"EncryptionConfig":   assertions.Match_AnyValue(),
		"AccessConfig":       assertions.Match_ObjectLike(&map[string]any{"AuthenticationMode": "API"}),
	})
	tpl.HasResourceProperties(jsii.String("AWS::EKS::Nodegroup"), &map[string]any{
		"Subnets": assertions.Match_ArrayWith(&[]any{map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String("privateSubnet"))}}),
	})
	// Add-ons: vpc-cni must enforce NetworkPolicies; Container Insights ships the logs.
	tpl.ResourceCountIs(jsii.String("AWS::EKS::Addon"), jsii.Number(5))
	for _, name := range []string{"coredns", "kube-proxy", "eks-pod-identity-agent", "amazon-cloudwatch-observability"} {
		tpl.HasResourceProperties(jsii.String("AWS::EKS::Addon"), &map[string]any{"AddonName": name})
	}
	tpl.HasResourceProperties(jsii.String("AWS::EKS::Addon"), &map[string]any{
		"AddonName": "vpc-cni", "ConfigurationValues": `{"enableNetworkPolicy":"true"}`})
	// The migration ServiceAccount gets its role through Pod Identity.
	tpl.HasResourceProperties(jsii.String("AWS::EKS::PodIdentityAssociation"), &map[string]any{
		"Namespace": "shopping-cart", "ServiceAccount": "database-migration", "RoleArn": assertions.Match_AnyValue()})
	// The database admits PostgreSQL from the cluster's security group.
	tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), &map[string]any{
		"FromPort": 5432, "ToPort": 5432, "IpProtocol": "tcp",
		"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": assertions.Match_ArrayWith(&[]any{"ClusterSecurityGroupId"})}})
}

// The migrator's role has exactly the documented actions, each on the narrowest resource.
func TestMigratorRoleIsLeastPrivilege(t *testing.T) {
	tpl := template(appFor(t, "dev").Cluster.Stack)
	var policy map[string]any
	for _, p := range resources(t, tpl, "AWS::IAM::Policy") {
		if contains(props(p)["Roles"], "MigratorRole") {
			policy = p
		}
	}
	if policy == nil {
		t.Fatal("no policy on the migrator role")
	}
	doc := props(policy)["PolicyDocument"].(map[string]any)
	got := map[string]string{}
	for _, s := range doc["Statement"].([]any) {
		st := s.(map[string]any)
		res, _ := json.Marshal(st["Resource"])
		if strings.Contains(string(res), `"*"`) {
			t.Errorf("statement %v has Resource *", st["Action"])
		}
		var actions []string
		switch v := st["Action"].(type) {
		case string:
			actions = []string{v}
		case []any:
			for _, x := range v {
				actions = append(actions, x.(string))
			}
		}
		for _, act := range actions {
			got[act] = string(res)
		}
	}
	var names []string
	for a := range got {
		names = append(names, a)
	}
	sort.Strings(names)
	// No rds-db:connect: the migrator signs in with the master secret (see the README's "IAM").
	want := "kms:Decrypt,rds:AddTagsToResource,rds:CreateDBSnapshot,rds:DeleteDBSnapshot,rds:DescribeDBInstances,rds:DescribeDBSnapshots,secretsmanager:GetSecretValue"
	if strings.Join(names, ",") != want {
		t.Errorf("actions = %v\nwant      %s", names, want)
	}
	for _, act := range []string{"rds:AddTagsToResource", "rds:DeleteDBSnapshot"} {
		if !strings.Contains(got[act], "snapshot:carthub-premigrate-*") || strings.Contains(got[act], ":db:") {
			t.Errorf("%s is not limited to the migrator's snapshots: %s", act, got[act])
		}
	}
}

// Every role EKS Pod Identity hands out trusts one ServiceAccount of this environment's cluster:
// without the conditions any Pod Identity association in the account (another environment's
// cluster, another namespace) could bind it.
func TestPodIdentityRolesTrustOneServiceAccount(t *testing.T) {
	want := map[string]string{ // role's logical id prefix: namespace/ServiceAccount
		"MigratorRole": "shopping-cart/database-migration", "CloudWatchAgentRole": "amazon-cloudwatch/cloudwatch-agent", "CNIRole": "kube-system/aws-node",
	}
	for _, env := range []string{"dev", "prod"} {
		cluster := "carthub-" + env
		seen := 0
		for id, r := range resources(t, template(appFor(t, env).Cluster.Stack), "AWS::IAM::Role") {
			doc := props(r)["AssumeRolePolicyDocument"]
			if !contains(doc, "pods.eks.amazonaws.com") {
				continue
			}
			seen++
			var sa string
			for prefix, v := range want {
				if strings.HasPrefix(id, prefix) {
					sa = v
				}
			}
			if sa == "" {
				t.Errorf("%s %s: a Pod Identity role this test does not know", env, id)
				continue
			}
			ns, name, _ := strings.Cut(sa, "/")
			for _, s := range doc.(map[string]any)["Statement"].([]any) {
				st, _ := json.Marshal(s)
				for _, c := range []string{`"sts:AssumeRole"`, `"sts:TagSession"`, `"aws:SourceAccount":"`, `":eks:` + testRegion + `:` + map[string]string{"dev": testAccount, "prod": testProdAccount}[env] + `:cluster/` + cluster + `"`,
					`"aws:RequestTag/eks-cluster-name":"` + cluster + `"`, `"aws:RequestTag/kubernetes-namespace":"` + ns + `"`,
					`"aws:RequestTag/kubernetes-service-account":"` + name + `"`} {
					if !strings.Contains(string(st), c) {
						t.Errorf("%s %s: trust statement lacks %s: %s", env, id, c, st)
					}
				}
			}
		}
		if seen != len(want) {
			t.Errorf("%s: %d Pod Identity roles, want %d", env, seen, len(want))
		}
	}
}
