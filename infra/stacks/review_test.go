package stacks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// flat is a CloudFormation value as text: an Fn::Join's parts joined, a Ref or GetAtt as <id>.
func flat(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, flat(p))
			}
			return strings.Join(parts, j[0].(string))
		}
		if r, ok := x["Ref"].(string); ok {
			return "<" + r + ">"
		}
		if g, ok := x["Fn::GetAtt"].([]any); ok {
			return fmt.Sprintf("<%v.%v>", g[0], g[1])
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// project is the CodeBuild project named name, with its logical id.
func project(t *testing.T, tpl assertions.Template, name string) (string, map[string]any) {
	t.Helper()
	for id, r := range resources(t, tpl, "AWS::CodeBuild::Project") {
		if props(r)["Name"] == name {
			return id, props(r)
		}
	}
	t.Fatalf("no CodeBuild project %s", name)
	return "", nil
}

// projectSpec is the project's inline buildspec, its tokens shown as <id>.
func projectSpec(t *testing.T, tpl assertions.Template, name string) string {
	t.Helper()
	_, p := project(t, tpl, name)
	return flat(p["Source"].(map[string]any)["BuildSpec"])
}

// A pull request into main, created or pushed to, starts the Review project on its source
// commit, with the pull request's id, commits and refs as the build's variables.
func TestReviewRuleStartsReviewOnPullRequests(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		tpl := template(appFor(t, env).Pipeline.Stack)
		reviewID, _ := project(t, tpl, "carthub-"+env+"-database-review")
		sourceID := ""
		for id := range resources(t, tpl, "AWS::CodeCommit::Repository") {
			sourceID = id
		}
		found := 0
		for _, r := range resources(t, tpl, "AWS::Events::Rule") {
			p := props(r)
			pattern, _ := p["EventPattern"].(map[string]any)
			if !contains(pattern, "CodeCommit Pull Request State Change") {
				continue
			}
			found++
			detail, _ := pattern["detail"].(map[string]any)
			if !contains(pattern["source"], "aws.codecommit") || !contains(pattern["resources"], sourceID) {
				t.Errorf("%s: the rule listens beyond this repository: %v", env, pattern)
			}
			if got := fmt.Sprint(detail["event"]); got != fmt.Sprint([]any{"pullRequestCreated", "pullRequestSourceBranchUpdated"}) {
				t.Errorf("%s: events %s, want a new pull request and a push to its source", env, got)
			}
			if fmt.Sprint(detail["destinationReference"]) != "[refs/heads/main]" || fmt.Sprint(detail["pullRequestStatus"]) != "[Open]" {
				t.Errorf("%s: the rule reviews more than open pull requests into main: %v", env, detail)
			}
			targets, _ := p["Targets"].([]any)
			if len(targets) != 1 {
				t.Fatalf("%s: %d targets", env, len(targets))
			}
			target := targets[0].(map[string]any)
			if !strings.Contains(flat(target["Arn"]), "<"+reviewID+".Arn>") {
				t.Errorf("%s: the rule starts %v, not Review", env, target["Arn"])
			}
			in, _ := target["InputTransformer"].(map[string]any)
			paths, tmpl := in["InputPathsMap"], flat(in["InputTemplate"])
			for _, want := range []string{"$.detail.pullRequestId", "$.detail.sourceCommit", "$.detail.destinationCommit", "$.detail.sourceReference", "$.detail.destinationReference"} {
				if !contains(paths, want) {
					t.Errorf("%s: the input transformer does not pass %s: %v", env, want, paths)
				}
			}
			for _, want := range []string{`"sourceVersion":<detail-sourceCommit>`, `"name":"PULL_REQUEST_ID"`, `"name":"DESTINATION_REF"`, `"environmentVariablesOverride"`} {
				if !strings.Contains(tmpl, want) {
					t.Errorf("%s: the build's input lacks %s:\n%s", env, want, tmpl)
				}
			}
			if target["RoleArn"] == nil {
				t.Errorf("%s: no role for EventBridge to start the build with", env)
			}
		}
		if found != 1 {
			t.Errorf("%s: %d pull request rules, want 1", env, found)
		}
	}
}

// Review runs on Test's image, size and cache; unprivileged, outside the VPC, on the
// repository's full history; main's review.sh; its JUnit file to the lint report group, which
// Test's also goes to.
func TestReviewProjectIsTestsSibling(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		tpl := template(appFor(t, env).Pipeline.Stack)
		_, review := project(t, tpl, "carthub-"+env+"-database-review")
		_, test := project(t, tpl, "carthub-"+env+"-database-test")
		re, te := review["Environment"].(map[string]any), test["Environment"].(map[string]any)
		for _, k := range []string{"Image", "ComputeType", "Type"} {
			if re[k] != te[k] {
				t.Errorf("%s: Review's %s %v, Test's %v", env, k, re[k], te[k])
			}
		}
		if re["PrivilegedMode"] != false || review["VpcConfig"] != nil {
			t.Errorf("%s: Review is privileged or in the VPC: %v %v", env, re["PrivilegedMode"], review["VpcConfig"])
		}
		if fmt.Sprint(review["Cache"]) != fmt.Sprint(test["Cache"]) {
			t.Errorf("%s: Review's cache %v, Test's %v", env, review["Cache"], test["Cache"])
		}
		src := review["Source"].(map[string]any)
		if src["Type"] != "CODECOMMIT" || src["GitCloneDepth"] != nil {
			t.Errorf("%s: Review's source %v: want the repository with its full history", env, src)
		}
		spec := projectSpec(t, tpl, "carthub-"+env+"-database-review")
		groupID := ""
		for id := range resources(t, tpl, "AWS::CodeBuild::ReportGroup") {
			groupID = id
		}
		for _, want := range []string{`git-credential-helper: "yes"`, "git show FETCH_HEAD:infra/pipeline/review.sh", "<" + groupID + ".Arn>", "file-format: JUNITXML", "lint-review.xml"} {
			if !strings.Contains(spec, want) {
				t.Errorf("%s: Review's buildspec lacks %q:\n%s", env, want, spec)
			}
		}
		if ts := projectSpec(t, tpl, "carthub-"+env+"-database-test"); !strings.Contains(ts, "<"+groupID+".Arn>") || !strings.Contains(ts, "LINT_JUNIT: reports/lint.xml") {
			t.Errorf("%s: Test does not send lint's JUnit file to the report group:\n%s", env, ts)
		}
	}
}

// The approval rule template requires one approval of the Review role's sessions on pull
// requests into main; it is created, updated and deleted with the stack, and associated with
// this repository after it exists. Each custom resource may do its calls and no more.
func TestApprovalRuleTemplateRequiresReview(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		a := appFor(t, env)
		tpl := template(a.Pipeline.Stack)
		roleID := ""
		for id := range resources(t, tpl, "AWS::IAM::Role") {
			if strings.HasPrefix(id, "ReviewRole") {
				roleID = id
			}
		}
		var templateID string
		for id, r := range resources(t, tpl, "Custom::ApprovalRuleTemplate") {
			templateID = id
			p := props(r)
			create, update, del := flat(p["Create"]), flat(p["Update"]), flat(p["Delete"])
			for _, want := range []string{`"action":"createApprovalRuleTemplate"`, `carthub-` + env + `-database-review`, `\"NumberOfApprovalsNeeded\":1`,
				`\"DestinationReferences\":[\"refs/heads/main\"]`, `:assumed-role/<` + roleID + `>/*`} {
				if !strings.Contains(create, want) {
					t.Errorf("%s: the template's create lacks %s:\n%s", env, want, create)
				}
			}
			if !strings.Contains(update, `"action":"updateApprovalRuleTemplateContent"`) || !strings.Contains(update, `assumed-role/<`+roleID+`>`) {
				t.Errorf("%s: an update does not rewrite the template's content: %s", env, update)
			}
			if !strings.Contains(del, `"action":"deleteApprovalRuleTemplate"`) {
				t.Errorf("%s: the template outlives the stack: %s", env, del)
			}
		}
		if templateID == "" {
			t.Fatalf("%s: no approval rule template", env)
		}
		tpl.HasResource(jsii.String("Custom::ApprovalRuleTemplateAssociation"), &map[string]any{
			"DependsOn": assertions.Match_ArrayWith(&[]any{templateID}),
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"Create": assertions.Match_AnyValue(), "Delete": assertions.Match_AnyValue()})})
		for _, r := range resources(t, tpl, "Custom::ApprovalRuleTemplateAssociation") {
			p := props(r)
			if c := flat(p["Create"]); !strings.Contains(c, `"action":"associateApprovalRuleTemplateWithRepository"`) || !strings.Contains(c, `"repositoryName":"<`) {
				t.Errorf("%s: the association's create: %s", env, c)
			}
			if d := flat(p["Delete"]); !strings.Contains(d, `"action":"disassociateApprovalRuleTemplateFromRepository"`) {
				t.Errorf("%s: the association's delete: %s", env, d)
			}
		}
		// The custom resources' policies: the template's three actions (on *: templates have no
		// ARN), the association's two on this repository.
		for id, sts := range statements(t, a.Pipeline.Stack, "AWS::IAM::Policy", "PolicyDocument") {
			if !strings.HasPrefix(id, "ReviewApprovalTemplate") {
				continue
			}
			for _, st := range sts {
				acts, res := actions(st), flat(st["Resource"])
				switch {
				case strings.HasPrefix(id, "ReviewApprovalTemplateAssociation"):
					if !sameSet(acts, "codecommit:AssociateApprovalRuleTemplateWithRepository", "codecommit:DisassociateApprovalRuleTemplateFromRepository") || !strings.HasPrefix(res, "<Source") {
						t.Errorf("%s %s: %v on %s", env, id, acts, res)
					}
				default:
					if !sameSet(acts, "codecommit:CreateApprovalRuleTemplate", "codecommit:UpdateApprovalRuleTemplateContent", "codecommit:DeleteApprovalRuleTemplate") || res != "*" {
						t.Errorf("%s %s: %v on %s", env, id, acts, res)
					}
				}
			}
		}
	}
}

// The Review role reads this repository and its pull requests, comments, approves or revokes
// on them only; reads the table shape and production's statements and nothing else of the artifacts; writes its logs and the
// lint report group. No registry, no cluster, no artifact writes, no merging, no overriding the
// approval rule it is the approver of.
func TestReviewGrantsFitTheWork(t *testing.T) {
	allowed := []string{
		"codecommit:GitPull", "codecommit:GetPullRequest", "codecommit:GetCommentsForPullRequest", "codecommit:PostCommentForPullRequest",
		"codecommit:UpdateComment", "codecommit:UpdatePullRequestApprovalState",
		"s3:GetObject", "kms:Decrypt", "kms:DescribeKey",
		"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
		"codebuild:CreateReportGroup", "codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases", "codebuild:BatchPutCodeCoverages",
	}
	for _, env := range []string{"dev", "prod"} {
		a := appFor(t, env)
		policies := statements(t, a.Pipeline.Stack, "AWS::IAM::Policy", "PolicyDocument")
		seen := 0
		for id, sts := range policies {
			if !strings.HasPrefix(id, "ReviewRoleDefaultPolicy") {
				continue
			}
			seen++
			for _, st := range sts {
				res := flat(st["Resource"])
				for _, act := range actions(st) {
					if !slices.Contains(allowed, act) {
						t.Errorf("%s Review may %s (%s)", env, act, res)
						continue
					}
					switch {
					case strings.HasPrefix(act, "codecommit:") && !strings.HasPrefix(res, "<Source") && !strings.HasPrefix(res, "[<Source"):
						t.Errorf("%s Review may %s beyond this repository: %s", env, act, res)
					case act == "s3:GetObject":
						for _, r := range resourcesOf(st) {
							if !strings.HasSuffix(r, "/shapes/"+env+".json") && !strings.HasSuffix(r, "/shapes/"+env+"-statements.sql") {
								t.Errorf("%s Review may read %s", env, r)
							}
						}
					case act == "kms:Decrypt" && !contains(st["Condition"], "kms:EncryptionContext:aws:s3:arn") && !strings.HasPrefix(res, "<Key"):
						t.Errorf("%s Review may decrypt %s", env, res)
					case strings.HasPrefix(act, "codebuild:") && !strings.Contains(res, "<LintReports") && !strings.Contains(res, "report-group/<Review"):
						t.Errorf("%s Review may %s on %s", env, act, res)
					}
				}
			}
		}
		if seen == 0 {
			t.Errorf("%s: no policy of the Review role", env)
		}
		// Test sends lint's JUnit file to the same group.
		testWrites := false
		for id, sts := range policies {
			if strings.HasPrefix(id, "TestRoleDefaultPolicy") {
				for _, st := range sts {
					if slices.Contains(actions(st), "codebuild:BatchPutTestCases") && strings.Contains(flat(st["Resource"]), "<LintReports") {
						testWrites = true
					}
				}
			}
		}
		if !testWrites {
			t.Errorf("%s: Test may not write the lint report group", env)
		}
	}
}

func sameSet(got []string, want ...string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}
