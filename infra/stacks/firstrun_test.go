package stacks

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/carthub/carthub-db/infra/pipeline"
)

// What the first real run needs from a fresh account, checked on the synthesized templates.

// The image the Build stage makes contains the architecture of the nodes that run it.
func TestImageArchitectureMatchesTheNodes(t *testing.T) {
	amiArch := map[string]string{"AL2023_ARM_64_STANDARD": "linux/arm64", "AL2023_x86_64_STANDARD": "linux/amd64",
		"BOTTLEROCKET_ARM_64": "linux/arm64", "BOTTLEROCKET_x86_64": "linux/amd64"}
	for _, env := range []string{"dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			a := appFor(t, env)
			platforms := strings.Split(projectEnv(t, template(a.Pipeline.Stack), "make image-push")["IMAGE_PLATFORMS"], ",")
			for _, ng := range resources(t, template(a.Cluster.Stack), "AWS::EKS::Nodegroup") {
				ami := props(ng)["AmiType"].(string)
				want, known := amiArch[ami]
				if !known {
					t.Fatalf("node AMI %s: unknown architecture", ami)
				}
				if !slices.Contains(platforms, want) {
					t.Errorf("nodes run %s (%s) but the Build stage builds %v: the Job's pod would fail with exec format error", want, ami, platforms)
				}
			}
		})
	}
	spec := string(pipeline.ImageSpec)
	if !strings.Contains(spec, `IMAGE_PLATFORMS="$IMAGE_PLATFORMS"`) || !strings.Contains(spec, "make image-push") {
		t.Error("the Build stage does not build the platforms the stack gives it")
	}
}

// The namespace (with Pod Security labels) and its NetworkPolicies come from k8s-synth's code
// through the cluster's kubectl provider, in the Cluster stack, which the pipeline's stack (and
// so its first Job) waits for.
func TestNamespaceBootstrapPrecedesTheFirstJob(t *testing.T) {
	a := appFor(t, "dev")
	tpl := template(a.Cluster.Stack)
	manifests := resources(t, tpl, "Custom::AWSCDK-EKS-KubernetesResource")
	var nsID, policiesID string
	for id, r := range manifests {
		m := props(r)["Manifest"]
		switch {
		case contains(m, `\"kind\":\"Namespace\"`):
			nsID = id
			for _, label := range []string{`pod-security.kubernetes.io/enforce`, `\"name\":\"shopping-cart\"`} {
				if !contains(m, label) {
					t.Errorf("namespace manifest lacks %s: %v", label, m)
				}
			}
		case contains(m, `\"kind\":\"NetworkPolicy\"`):
			policiesID = id
			for _, name := range []string{"default-deny-all", "allow-dns", "database-migration-egress", "backend-to-database"} {
				if !contains(m, `\"name\":\"`+name+`\"`) {
					t.Errorf("policies manifest lacks %s", name)
				}
			}
			// The migrator reaches the database subnets and the endpoints' subnets, not the VPC.
			for _, cidr := range append(a.Network.DatabaseCIDRs(), a.Network.EndpointCIDRs()...) {
				if !contains(m, cidr) {
					t.Errorf("policies lack %s", cidr)
				}
			}
		}
	}
	if nsID == "" || policiesID == "" {
		t.Fatalf("bootstrap manifests missing: %v", manifests)
	}
	if !contains(manifests[policiesID]["DependsOn"], nsID) {
		t.Errorf("the NetworkPolicies do not wait for the namespace")
	}
	if !slices.ContainsFunc(*a.Pipeline.Stack.Dependencies(), func(s awscdk.Stack) bool { return *s.StackName() == *a.Cluster.Stack.StackName() }) {
		t.Error("the pipeline stack does not depend on the cluster stack: its first run could come before the namespace")
	}
	// The Deploy stage applies only the Job: its access is namespace-scoped.
	if strings.Contains(string(pipeline.DeployScript), "namespace.yaml") || strings.Contains(string(pipeline.DeployScript), "network-policies.yaml") {
		t.Error("deploy.sh still applies cluster-scoped manifests")
	}
}

// Every access entry has the scope the README states: the Deploy stage edits one namespace; the
// CDK's kubectl provider is cluster admin (it creates the namespace); a person's role is cluster
// admin only when given with -c adminRoleArn.
func TestAccessEntryScopes(t *testing.T) {
	admin := "arn:aws:iam::123456789012:role/PlatformAdmin"
	for _, tt := range []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"default", nil, []string{"cluster-admin:provider", "namespace-edit:deploy"}},
		{"with admin", map[string]any{"adminRoleArn": admin}, []string{"cluster-admin:admin", "cluster-admin:provider", "namespace-edit:deploy"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t, "dev", tt.extra)
			// The identity that creates the cluster (CloudFormation's) would be an admin no entry shows.
			for _, c := range resources(t, assertions.Template_FromStack(a.Cluster.Stack, nil), "AWS::EKS::Cluster") {
				if !contains(props(c)["AccessConfig"], `"BootstrapClusterCreatorAdminPermissions":false`) {
					t.Errorf("the cluster creator is a cluster admin by default: AccessConfig = %v", props(c)["AccessConfig"])
				}
			}
			var got []string
			for _, s := range []awscdk.Stack{a.Cluster.Stack, a.Pipeline.Stack} {
				for _, e := range resources(t, assertions.Template_FromStack(s, nil), "AWS::EKS::AccessEntry") {
					p := props(e)
					who := "provider"
					switch {
					case contains(p["PrincipalArn"], "DeployRole"):
						who = "deploy"
					case p["PrincipalArn"] == admin:
						who = "admin"
					case !contains(p["PrincipalArn"], "KubectlProvider"):
						t.Errorf("unexpected access entry for %v", p["PrincipalArn"])
					}
					pol := p["AccessPolicies"]
					switch {
					case contains(pol, "AmazonEKSClusterAdminPolicy") && contains(pol, `"Type":"cluster"`):
						got = append(got, "cluster-admin:"+who)
					case contains(pol, "AmazonEKSEditPolicy") && contains(pol, `"AccessScope":{"Namespaces":["shopping-cart"],"Type":"namespace"}`):
						got = append(got, "namespace-edit:"+who)
					default:
						t.Errorf("%s: unexpected policies %v", who, pol)
					}
				}
			}
			slices.Sort(got)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("access entries = %v, want %v", got, tt.want)
			}
		})
	}
}

// The add-ons take over what EKS installed, at pinned versions, and coredns waits for nodes.
func TestAddons(t *testing.T) {
	tpl := template(appFor(t, "dev").Cluster.Stack)
	pinned := regexp.MustCompile(`^v\d+\.\d+\.\d+-eksbuild\.\d+$`)
	for id, r := range resources(t, tpl, "AWS::EKS::Addon") {
		p := props(r)
		if p["ResolveConflicts"] != "OVERWRITE" {
			t.Errorf("%v: ResolveConflicts = %v, want OVERWRITE (EKS installed its own first)", p["AddonName"], p["ResolveConflicts"])
		}
		if v, _ := p["AddonVersion"].(string); !pinned.MatchString(v) {
			t.Errorf("%v: version %q is not pinned", p["AddonName"], v)
		}
		if p["AddonName"] == "coredns" && !contains(r["DependsOn"], "Nodegroup") {
			t.Errorf("%s: coredns does not wait for the node group", id)
		}
	}
}

// The kubectl of the provider and of the Deploy stage serves the cluster's minor version.
func TestKubectlMatchesTheCluster(t *testing.T) {
	minor := strings.Split(*KubernetesVersion().Version(), ".")[1]
	if !strings.HasSuffix(KubectlLayerPackage, "-v"+minor) {
		t.Errorf("kubectl layer %s does not serve Kubernetes 1.%s", KubectlLayerPackage, minor)
	}
	if _, err := os.Stat(KubectlLayerZip()); err != nil {
		t.Error(err)
	}
}

// cdk.json's account for an environment is authoritative.
func TestEnvironmentAccountRule(t *testing.T) {
	envs := map[string]any{"dev": map[string]any{"account": testAccount, "region": testRegion},
		"prod": map[string]any{"account": testProdAccount, "region": testRegion, "backupCopyRegion": testCopyRegion}}
	newApp := func(ctx map[string]any, credentials string) error {
		t.Setenv("CDK_DEFAULT_ACCOUNT", credentials)
		ctx["carthub:environments"] = envs
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
		_, err := NewApp(app)
		return err
	}
	for _, tt := range []struct {
		name        string
		ctx         map[string]any
		credentials string
		want        string // "" accepted
	}{
		{"prod with dev credentials", map[string]any{"env": "prod"}, testAccount,
			"your AWS credentials are for account " + testAccount + ", but environment prod lives in account " + testProdAccount},
		{"account on the command line disagrees", map[string]any{"env": "prod", "account": testAccount}, "",
			"-c account=" + testAccount + ", but environment prod lives in account " + testProdAccount},
		{"unknown environment", map[string]any{"env": "staging"}, "", "unknown environment"},
		{"malformed admin role", map[string]any{"env": "dev", "adminRoleArn": "admin"}, "", "adminRoleArn"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := newApp(tt.ctx, tt.credentials)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Termination protection keeps prod's stacks from a stray cdk destroy.
	for _, s := range appFor(t, "prod").Stacks() {
		if !*s.TerminationProtection() {
			t.Errorf("%s has no termination protection", *s.StackName())
		}
	}
}

// The image's bases come from a registry CodeBuild pulls without Docker Hub's rate limits, pinned
// by digest, so a rebuild of the same commit uses the same toolchain.
func TestBaseImagesArePinned(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(RepoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`^public\.ecr\.aws/[a-z0-9./_-]+:[\w.-]+@sha256:[0-9a-f]{64}$`)
	args := regexp.MustCompile(`(?m)^ARG (\w+_IMAGE)=(\S+)$`).FindAllStringSubmatch(string(b), -1)
	if len(args) == 0 {
		t.Fatal("the Dockerfile declares no base image arguments")
	}
	for _, a := range args {
		if !pinned.MatchString(a[2]) {
			t.Errorf("%s=%s: pin it by digest on public.ecr.aws", a[1], a[2])
		}
	}
	for _, from := range regexp.MustCompile(`(?m)^FROM (?:--platform=\S+ )?(\S+)`).FindAllStringSubmatch(string(b), -1) {
		if from[1] != "scratch" && !strings.HasPrefix(from[1], "${") {
			t.Errorf("FROM %s: use a pinned base argument or scratch", from[1])
		}
	}
	// A syntax directive makes BuildKit pull that frontend image (docker/dockerfile: Docker Hub,
	// anonymously) before it reads a line: the rate limit the pinned bases avoid. The built-in
	// frontend reads everything this Dockerfile uses.
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			break // parser directives come before anything else
		}
		if d := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(line, "#"), " ", "")); strings.HasPrefix(d, "syntax=") {
			t.Errorf("Dockerfile: %q pulls a frontend image from a registry on every build: remove it (the built-in frontend is enough)", line)
		}
	}
}

// Everything the Dockerfile copies from the repository gets past .dockerignore: otherwise the
// Build stage's image build fails ("no items matching glob").
func TestDockerfileCopiesWhatTheContextHolds(t *testing.T) {
	root := RepoRoot()
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var admitted []string // .dockerignore starts with "*": only these come back
	for _, line := range strings.Split(string(ignore), "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "!"); ok {
			admitted = append(admitted, strings.TrimSuffix(p, "/"))
		}
	}
	var sources []string
	for _, c := range regexp.MustCompile(`(?m)^COPY (.+)$`).FindAllStringSubmatch(string(dockerfile), -1) {
		args := strings.Fields(c[1])
		if strings.HasPrefix(args[0], "--from") {
			continue
		}
		sources = append(sources, args[:len(args)-1]...) // the last one is the destination
	}
	for _, c := range sources {
		src := strings.TrimSuffix(c, "/")
		ok := false
		for _, a := range admitted {
			if src == a || strings.HasPrefix(src, a+"/") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("the Dockerfile copies %s, which .dockerignore leaves out of the build context (admitted: %v)", c, admitted)
		}
	}
}
