package stacks

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// statements are the statements of every policy document of the template's resources of type
// typ (in property doc), by logical id.
func statements(t *testing.T, stack awscdk.Stack, typ, doc string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for id, r := range resources(t, template(stack), typ) {
		d, _ := props(r)[doc].(map[string]any)
		for _, s := range d["Statement"].([]any) {
			out[id] = append(out[id], s.(map[string]any))
		}
	}
	return out
}

func actions(st map[string]any) []string {
	switch a := st["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

// A service granted a key, a topic or a role acts for this account's resources only: each such
// statement carries a confused-deputy condition (aws:SourceAccount, aws:SourceArn, or the
// encryption context naming this account's log groups). Roles trusted by EC2, Lambda, EKS and
// the CDK's own constructs are assumed by the service for the resource it runs, without a
// source to name; the roles we make for a service that does have one are listed.
func TestServiceGrantsAreConfined(t *testing.T) {
	confinedRoles := []string{"codebuild.amazonaws.com", "pods.eks.amazonaws.com"}
	for _, env := range []string{"dev", "prod"} {
		for _, s := range appFor(t, env).Stacks() {
			for _, kind := range [][2]string{{"AWS::KMS::Key", "KeyPolicy"}, {"AWS::SNS::TopicPolicy", "PolicyDocument"}, {"AWS::IAM::Role", "AssumeRolePolicyDocument"}} {
				for id, sts := range statements(t, s, kind[0], kind[1]) {
					for _, st := range sts {
						principal, _ := st["Principal"].(map[string]any)
						service, ok := principal["Service"]
						if !ok {
							continue
						}
						b, _ := json.Marshal(service)
						if kind[0] == "AWS::IAM::Role" && !slices.ContainsFunc(confinedRoles, func(p string) bool { return strings.Contains(string(b), p) }) {
							continue
						}
						c, _ := json.Marshal(st["Condition"])
						if !strings.Contains(string(c), "aws:SourceAccount") && !strings.Contains(string(c), "kms:EncryptionContext:aws:logs:arn") {
							t.Errorf("%s %s %s: %s is granted %v with no condition naming this account: %s", env, *s.StackName(), id, b, actions(st), c)
						}
					}
				}
			}
		}
	}
}

// Each CodeBuild project holds what its work needs: Test and Deploy write no artifacts, so no
// encrypting with the pipeline's key (Deploy writes the table shape alone); Image writes the
// manifests but deletes nothing, and not the table shape.
func TestPipelineGrantsFitTheWork(t *testing.T) {
	deniedShape := map[string]bool{}
	defer func() {
		for _, env := range []string{"dev", "prod"} {
			if !deniedShape[env] {
				t.Errorf("%s: the Image role may write the table shape the Deploy stage stores", env)
			}
		}
	}()
	for _, env := range []string{"dev", "prod"} {
		policies := statements(t, appFor(t, env).Pipeline.Stack, "AWS::IAM::Policy", "PolicyDocument")
		forbidden := map[string][]string{
			"TestRole":   {"kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "s3:PutObject", "ecr:PutImage"},
			"DeployRole": {"kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"},
			"ImageRole":  {"s3:DeleteObject*", "s3:DeleteObject", "kms:ReEncrypt*"},
		}
		seen := 0
		for id, sts := range policies {
			for role, bad := range forbidden {
				if !strings.HasPrefix(id, role+"DefaultPolicy") {
					continue
				}
				seen++
				for _, st := range sts {
					res, _ := json.Marshal(st["Resource"])
					if st["Effect"] == "Deny" {
						if role == "ImageRole" && strings.Contains(string(res), "/shapes/*") && slices.Contains(actions(st), "s3:PutObject") {
							deniedShape[env] = true
						}
						continue
					}
					for _, a := range actions(st) {
						if slices.Contains(bad, a) {
							t.Errorf("%s %s: %s (%v)", env, role, a, st["Resource"])
						}
						// Deploy writes two objects, the table shape and production's statements,
						// with the key for this bucket only.
						if role == "DeployRole" && a == "s3:PutObject" {
							for _, r := range resourcesOf(st) {
								if !strings.HasSuffix(r, `/shapes/`+env+`.json`) && !strings.HasSuffix(r, `/shapes/`+env+`-statements.sql`) {
									t.Errorf("%s Deploy may write %s", env, r)
								}
							}
						}
						if role == "DeployRole" && a == "kms:GenerateDataKey" && !contains(st["Condition"], "kms:EncryptionContext:aws:s3:arn") {
							t.Errorf("%s Deploy may encrypt with the pipeline key for anything: %v", env, st)
						}
					}
				}
			}
		}
		if seen != len(forbidden) {
			t.Errorf("%s: found %d of the %d project roles' policies", env, seen, len(forbidden))
		}
	}
}

// Prod's Deploy stage keeps HTTPS inside the VPC: its CIDR (the private Kubernetes API, the EKS
// and Logs endpoints) and S3's prefix list (the gateway endpoint); dev, without those
// endpoints, goes through the NAT (and .trivyignore.yaml says so).
func TestDeployEgress(t *testing.T) {
	for env, want := range map[string][]string{
		"prod": {`"CidrIp":"10.0.0.0/16"`, `"DestinationPrefixListId":"pl-6da54004"`},
		"dev":  {`"CidrIp":"0.0.0.0/0"`},
	} {
		a := appFor(t, env)
		tpl := template(a.Pipeline.Stack)
		var rules []string
		for id, r := range resources(t, tpl, "AWS::EC2::SecurityGroup") {
			if strings.HasPrefix(id, "DeploySecurityGroup") {
				for _, e := range props(r)["SecurityGroupEgress"].([]any) {
					b, _ := json.Marshal(e)
					rules = append(rules, string(b))
				}
			}
		}
		for id, r := range resources(t, tpl, "AWS::EC2::SecurityGroupEgress") {
			if strings.HasPrefix(id, "DeploySecurityGroup") {
				b, _ := json.Marshal(props(r))
				rules = append(rules, string(b))
			}
		}
		if len(rules) != len(want) {
			t.Errorf("%s: Deploy egress %v, want %v", env, rules, want)
		}
		for i, w := range want {
			if i < len(rules) && !strings.Contains(strings.Join(rules, " "), w) {
				t.Errorf("%s: Deploy egress %v lacks %s", env, rules, w)
			}
		}
		for _, r := range rules {
			if !strings.Contains(r, `"FromPort":443`) || !strings.Contains(r, `"ToPort":443`) {
				t.Errorf("%s: Deploy egress beyond 443: %s", env, r)
			}
		}
		if env == "prod" && !slices.Contains(a.Config.Endpoints, "Eks") {
			t.Error("prod's Deploy stage reaches EKS through the VPC: it needs the Eks endpoint")
		}
	}
}

// resourcesOf is a statement's resources, each as flat text.
func resourcesOf(st map[string]any) []string {
	if list, ok := st["Resource"].([]any); ok {
		out := make([]string, 0, len(list))
		for _, r := range list {
			out = append(out, flat(r))
		}
		return out
	}
	return []string{flat(st["Resource"])}
}
