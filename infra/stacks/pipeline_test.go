package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	}{{"dev", []string{"Source", "Build", "Deploy", "PostDeploy"}}, {"prod", []string{"Source", "Build", "Approve", "Deploy", "ApprovePostDeploy", "PostDeploy"}}} {
		t.Run(tt.env, func(t *testing.T) {
			tpl := template(appFor(t, tt.env).Pipeline.Stack)
			// Names unique per account carry the environment, so dev and prod can share one.
			tpl.HasResourceProperties(jsii.String("AWS::CodeCommit::Repository"), &map[string]any{"RepositoryName": "carthub-database-" + tt.env})
			// A V2 pipeline, triggered by pushes to main, with the stages in order.
			p := resources(t, tpl, "AWS::CodePipeline::Pipeline")
			if len(p) != 1 {
				t.Fatalf("%d pipelines", len(p))
			}
			for _, r := range p {
				pp := props(r)
				build := pp["Stages"].([]any)[1].(map[string]any)
				var actions []string
				for _, a := range build["Actions"].([]any) {
					act := a.(map[string]any)
					actions = append(actions, fmt.Sprintf("%s@%v", act["Name"], act["RunOrder"]))
				}
				// dev builds its image after the tests pass; prod copies a tested one beside its own.
				want := map[string]string{"dev": "Test@1,ImageManifests@2", "prod": "Test@1,ImageManifests@1"}[tt.env]
				if strings.Join(actions, ",") != want {
					t.Errorf("Build stage actions = %v, want %s", actions, want)
				}
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
				// The contract steps run through the same deploy project, told so by POST_DEPLOY.
				if !contains(pp["Stages"], `"EnvironmentVariables":"[{\"name\":\"POST_DEPLOY\",\"type\":\"PLAINTEXT\",\"value\":\"true\"}]"`) {
					t.Errorf("the PostDeploy stage does not set POST_DEPLOY=true: %v", pp["Stages"])
				}
				if !contains(pp["ArtifactStore"], `"EncryptionKey"`) {
					t.Error("artifacts are not encrypted with the pipeline's key")
				}
			}
			tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), &map[string]any{
				"EventPattern": assertions.Match_ObjectLike(&map[string]any{"detail": assertions.Match_ObjectLike(&map[string]any{
					"referenceName": []any{"main"}})})})
			// The buildspecs are the repository's files: make test, unprivileged; the image,
			// privileged where it is built (dev), not where it is copied (prod); the deploy script.
			tpl.HasResourceProperties(jsii.String("AWS::CodeBuild::Project"), &map[string]any{
				"Name":          "carthub-" + tt.env + "-database-test",
				"Environment":   assertions.Match_ObjectLike(&map[string]any{"Image": "aws/codebuild/standard:8.0", "PrivilegedMode": false}),
				"EncryptionKey": assertions.Match_AnyValue(),
			})
			// Its buildspec names the lint report group by ARN (a token): CloudFormation joins it.
			if spec := projectSpec(t, tpl, "carthub-"+tt.env+"-database-test"); !strings.Contains(spec, "- make test") {
				t.Errorf("Test does not run make test:\n%s", spec)
			}
			tpl.HasResourceProperties(jsii.String("AWS::CodeBuild::Project"), &map[string]any{
				"Name":        "carthub-" + tt.env + "-database-image",
				"Environment": assertions.Match_ObjectLike(&map[string]any{"PrivilegedMode": tt.env == "dev"}),
				"Source":      assertions.Match_ObjectLike(&map[string]any{"BuildSpec": assertions.Match_StringLikeRegexp(jsii.String("make image-push"))}),
				// Docker layers and the Go and npm caches survive between builds.
				"Cache": map[string]any{"Type": "LOCAL", "Modes": []any{"LOCAL_DOCKER_LAYER_CACHE", "LOCAL_CUSTOM_CACHE"}},
			})
			tpl.HasResourceProperties(jsii.String("AWS::CodeBuild::Project"), &map[string]any{
				"VpcConfig": assertions.Match_AnyValue(),
				"Source":    assertions.Match_ObjectLike(&map[string]any{"BuildSpec": assertions.Match_StringLikeRegexp(jsii.String("infra/pipeline/deploy.sh"))}),
			})
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
			// Only ECR login, the VPC ENI actions and the approval rule template's (templates have
			// no ARN) use Resource "*".
			for id, pol := range resources(t, tpl, "AWS::IAM::Policy") {
				for _, s := range props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					st := s.(map[string]any)
					template := strings.HasPrefix(id, "ReviewApprovalTemplateCustomResourcePolicy") && sameSet(actions(st),
						"codecommit:CreateApprovalRuleTemplate", "codecommit:UpdateApprovalRuleTemplateContent", "codecommit:DeleteApprovalRuleTemplate")
					if st["Resource"] == "*" && !contains(st["Action"], "ecr:GetAuthorizationToken") && !contains(st["Action"], "ec2:") && !template {
						t.Errorf("%s: %v on *", id, st["Action"])
					}
				}
			}
		})
	}
}

func TestBuildSpecsParse(t *testing.T) {
	for name, b := range map[string][]byte{"test": pipeline.TestSpec, "image": pipeline.ImageSpec, "deploy": pipeline.DeploySpec} {
		if spec := buildSpec(b); spec == nil {
			t.Errorf("%s buildspec did not load", name)
		}
	}
}

// Prod builds no image: it copies the digest dev pushed for the same commit into its own
// repository (promote.sh) and runs that copy; dev's registry lets prod's account read digests
// and images.
func TestProdPromotesDevImagesByDigest(t *testing.T) {
	prod, dev := appFor(t, "prod"), appFor(t, "dev")
	image := projectEnv(t, template(prod.Pipeline.Stack), "promote.sh")
	want := testAccount + ".dkr.ecr." + testRegion + "."
	if !strings.Contains(image["PROMOTE_FROM_URI"], want) || !strings.Contains(image["PROMOTE_FROM_URI"], "/carthub-database-dev") {
		t.Errorf("PROMOTE_FROM_URI = %q, want dev's repository %s.../carthub-database-dev", image["PROMOTE_FROM_URI"], want)
	}
	if !strings.Contains(image["REPOSITORY_URI"], "Carthub-Prod-Registry") {
		t.Errorf("prod's Image action copies into %q, want prod's own repository", image["REPOSITORY_URI"])
	}
	spec := string(pipeline.ImageSpec)
	for _, w := range []string{`infra/pipeline/promote.sh "$PROMOTE_FROM_URI" "$IMAGE_TAG" "$REPOSITORY_URI"`, `IMAGE="$REPOSITORY_URI@$IMAGE_DIGEST"`} {
		if !strings.Contains(spec, w) {
			t.Errorf("the image buildspec lacks %s", w)
		}
	}
	template(prod.Registry.Stack).HasResourceProperties(jsii.String("AWS::ECR::Repository"), &map[string]any{"RepositoryName": "carthub-database-prod"})
	devBuild := projectEnv(t, template(dev.Pipeline.Stack), "make image-push")
	if devBuild["REPOSITORY_URI"] == "" || devBuild["PROMOTE_FROM_URI"] != "" {
		t.Errorf("dev's build must push to its own repository: %v", devBuild)
	}
	template(dev.Registry.Stack).HasResourceProperties(jsii.String("AWS::ECR::Repository"), &map[string]any{
		"RepositoryName": "carthub-database-dev",
		"RepositoryPolicyText": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{
				"Action":    assertions.Match_ArrayWith(&[]any{"ecr:BatchGetImage", "ecr:DescribeImages"}),
				"Principal": map[string]any{"AWS": map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::" + testProdAccount + ":root"}}}},
			})})})})
}

// Images expire by age, so a list and its platform images (pushed together) go together; prod
// keeps what it runs longer than dev, whose copies it no longer needs once it promoted them.
func TestImagesExpireTogether(t *testing.T) {
	for env, days := range map[string]float64{"dev": 90, "prod": 365} {
		tpl := template(appFor(t, env).Registry.Stack)
		for id, r := range resources(t, tpl, "AWS::ECR::Repository") {
			var policy struct {
				Rules []struct {
					Selection struct {
						TagStatus   string  `json:"tagStatus"`
						CountType   string  `json:"countType"`
						CountNumber float64 `json:"countNumber"`
					} `json:"selection"`
				} `json:"rules"`
			}
			text, _ := props(r)["LifecyclePolicy"].(map[string]any)["LifecyclePolicyText"].(string)
			if err := json.Unmarshal([]byte(text), &policy); err != nil {
				t.Fatalf("%s %s: %v", env, id, err)
			}
			var got []string
			for _, rule := range policy.Rules {
				got = append(got, fmt.Sprintf("%s:%s:%v", rule.Selection.TagStatus, rule.Selection.CountType, rule.Selection.CountNumber))
			}
			want := fmt.Sprintf("untagged:sinceImagePushed:7,any:sinceImagePushed:%v", days)
			if strings.Join(got, ",") != want {
				t.Errorf("%s lifecycle rules = %v, want %s (no count: it would split a list from its platform images)", env, got, want)
			}
		}
	}
}

// projectEnv is the environment of the CodeBuild project whose buildspec contains marker, with
// values rendered as JSON where they are not plain strings.
func projectEnv(t *testing.T, tpl assertions.Template, marker string) map[string]string {
	t.Helper()
	for _, r := range resources(t, tpl, "AWS::CodeBuild::Project") {
		p := props(r)
		if !contains(p["Source"], marker) {
			continue
		}
		out := map[string]string{}
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["EnvironmentVariables"].([]any)
		for _, v := range vars {
			kv := v.(map[string]any)
			if s, ok := kv["Value"].(string); ok {
				out[kv["Name"].(string)] = s
			} else {
				b, _ := json.Marshal(kv["Value"])
				out[kv["Name"].(string)] = string(b)
			}
		}
		return out
	}
	t.Fatalf("no CodeBuild project runs %q", marker)
	return nil
}

// The Build stage proves every migration online-safe (migrator lint, inside make test) in its
// Test action, and the Deploy stage, which runs the Job, waits for it.
func TestBuildStageLintsBeforePushing(t *testing.T) {
	if !strings.Contains(string(pipeline.TestSpec), "- make test") || strings.Contains(string(pipeline.ImageSpec), "- make test") {
		t.Error("make test belongs to the Test action alone")
	}
	if imageRunOrder(appFor(t, "dev").Config) <= 1 {
		t.Error("dev pushes images before its tests pass: prod could promote an untested image")
	}
	makefile, err := os.ReadFile(filepath.Join(RepoRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var target string
	for _, line := range strings.Split(string(makefile), "\n") {
		if strings.HasPrefix(line, "test:") {
			target = line
		}
	}
	if !strings.Contains(target, " lint-migrations ") {
		t.Errorf("make test does not run lint-migrations: %q", target)
	}
}
