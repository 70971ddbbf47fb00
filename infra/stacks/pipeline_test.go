package stacks

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/carthub/carthub-db/infra/pipeline"
)

func TestPipeline(t *testing.T) {
	for _, tt := range []struct {
		env    string
		stages []string
	}{{"dev", []string{"Source", "Build", "Deploy"}}, {"prod", []string{"Source", "Build", "Approve", "Deploy"}}} {
		t.Run(tt.env, func(t *testing.T) {
			tpl := template(appFor(t, tt.env).Pipeline.Stack)
			tpl.HasResourceProperties(jsii.String("AWS::CodeCommit::Repository"), &map[string]any{"RepositoryName": "carthub-database"})
			// A V2 pipeline, triggered by pushes to main, with the stages in order.
			p := resources(t, tpl, "AWS::CodePipeline::Pipeline")
			if len(p) != 1 {
				t.Fatalf("%d pipelines", len(p))
			}
			for _, r := range p {
				pp := props(r)
				if pp["PipelineType"] != "V2" {
					t.Errorf("PipelineType = %v", pp["PipelineType"])
				}
				var names []string
				for _, s := range pp["Stages"].([]any) {
					names = append(names, s.(map[string]any)["Name"].(string))
				}
				if strings.Join(names, ",") != strings.Join(tt.stages, ",") {
					t.Errorf("stages = %v, want %v", names, tt.stages)
				}
				if !contains(pp["Stages"], `"BranchName":"main"`) || !contains(pp["Stages"], `"PollForSourceChanges":false`) {
					t.Error("the source is not main, or it polls instead of reacting to pushes")
				}
				if !contains(pp["ArtifactStore"], `"EncryptionKey"`) {
					t.Error("artifacts are not encrypted with the pipeline's key")
				}
			}
			tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), &map[string]any{
				"EventPattern": assertions.Match_ObjectLike(&map[string]any{"detail": assertions.Match_ObjectLike(&map[string]any{
					"referenceName": []any{"main"}})})})
			// The buildspecs are the repository's files.
			tpl.HasResourceProperties(jsii.String("AWS::CodeBuild::Project"), &map[string]any{
				"Environment":   assertions.Match_ObjectLike(&map[string]any{"Image": "aws/codebuild/standard:8.0", "PrivilegedMode": true}),
				"Source":        assertions.Match_ObjectLike(&map[string]any{"BuildSpec": assertions.Match_StringLikeRegexp(jsii.String("make test"))}),
				"EncryptionKey": assertions.Match_AnyValue(),
			})
			tpl.HasResourceProperties(jsii.String("AWS::CodeBuild::Project"), &map[string]any{
				"VpcConfig": assertions.Match_AnyValue(),
				"Source":    assertions.Match_ObjectLike(&map[string]any{"BuildSpec": assertions.Match_StringLikeRegexp(jsii.String("infra/pipeline/deploy.sh"))}),
			})
			// The deploy role may edit only the one namespace.
			entries := resources(t, tpl, "AWS::EKS::AccessEntry")
			if len(entries) != 1 {
				t.Fatalf("%d access entries, want the deploy role's", len(entries))
			}
			for _, e := range entries {
				policies := props(e)["AccessPolicies"].([]any)
				if len(policies) != 1 || !contains(policies[0], "AmazonEKSEditPolicy") ||
					!contains(policies[0], `"AccessScope":{"Namespaces":["shopping-cart"],"Type":"namespace"}`) {
					t.Errorf("deploy access is not edit-in-shopping-cart only: %v", policies)
				}
			}
			tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{
				"BucketEncryption": assertions.Match_ObjectLike(&map[string]any{"ServerSideEncryptionConfiguration": []any{
					assertions.Match_ObjectLike(&map[string]any{"ServerSideEncryptionByDefault": assertions.Match_ObjectLike(&map[string]any{"SSEAlgorithm": "aws:kms"})})}}),
				"LoggingConfiguration": assertions.Match_AnyValue(),
			})
			for _, lg := range resources(t, tpl, "AWS::Logs::LogGroup") {
				if props(lg)["KmsKeyId"] == nil {
					t.Error("a build log group is not KMS-encrypted")
				}
			}
			// Only ECR login and the VPC ENI actions use Resource "*".
			for id, pol := range resources(t, tpl, "AWS::IAM::Policy") {
				for _, s := range props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					st := s.(map[string]any)
					if st["Resource"] == "*" && !contains(st["Action"], "ecr:GetAuthorizationToken") && !contains(st["Action"], "ec2:") {
						t.Errorf("%s: %v on *", id, st["Action"])
					}
				}
			}
		})
	}
}

func TestBuildSpecsParse(t *testing.T) {
	for name, b := range map[string][]byte{"build": pipeline.BuildSpec, "deploy": pipeline.DeploySpec} {
		if spec := buildSpec(b); spec == nil {
			t.Errorf("%s buildspec did not load", name)
		}
	}
}
