package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// synth runs the program as cdk8s would and returns its charts' files, joined in apply order.
func synth(t *testing.T, env map[string]string, args ...string) ([]byte, error) {
	t.Helper()
	out := t.TempDir()
	err := run(append([]string{"--outdir", out}, args...), func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	var all [][]byte
	for _, chart := range []string{"namespace", "migration-job", "network-policies"} {
		b, err := os.ReadFile(filepath.Join(out, chart+".k8s.yaml"))
		if err != nil {
			return nil, err
		}
		all = append(all, bytes.TrimSuffix(b, []byte("\n")))
	}
	return append(bytes.Join(all, []byte("\n---\n")), '\n'), nil
}

// objects decodes every document strictly into its k8s.io/api type: an unknown field fails.
type objects struct {
	namespaces []corev1.Namespace
	accounts   []corev1.ServiceAccount
	jobs       []batchv1.Job
	policies   []networkingv1.NetworkPolicy
}

func decode(t *testing.T, stream []byte) objects {
	t.Helper()
	var o objects
	for i, doc := range bytes.Split(stream, []byte("\n---\n")) {
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if head.Kind == "" {
			if i == 0 && strings.HasPrefix(strings.TrimSpace(string(doc)), "#") {
				continue // the header comment
			}
			t.Fatalf("document %d has no kind:\n%s", i, doc)
		}
		var err error
		switch head.APIVersion + "/" + head.Kind {
		case "v1/Namespace":
			err = decodeInto(doc, &o.namespaces)
		case "v1/ServiceAccount":
			err = decodeInto(doc, &o.accounts)
		case "batch/v1/Job":
			err = decodeInto(doc, &o.jobs)
		case "networking.k8s.io/v1/NetworkPolicy":
			err = decodeInto(doc, &o.policies)
		default:
			t.Fatalf("document %d: unexpected %s %s", i, head.APIVersion, head.Kind)
		}
		if err != nil {
			t.Fatalf("document %d (%s) does not decode strictly: %v", i, head.Kind, err)
		}
	}
	return o
}

// decodeInto decodes one document strictly and appends it to list.
func decodeInto[T any](doc []byte, list *[]T) error {
	var v T
	err := yaml.UnmarshalStrict(doc, &v)
	*list = append(*list, v)
	return err
}

func TestGolden(t *testing.T) {
	// node: the cluster tests' real node (config/node.yaml, with what its test sets from the
	// running node).
	nodeEnv := map[string]string{"CARTHUB_IMAGE": "registry.carthub.test/carthub-database:0123abc-amd64",
		"CARTHUB_DB_HOST": "10.201.7.1", "CARTHUB_DB_PORT": "15432", "CARTHUB_DB_CIDRS": "10.201.7.1/32"}
	for _, tc := range []struct {
		name, config string
		env          map[string]string
	}{
		{"default", "testdata/default.config.yaml", nil},
		{"secret", "testdata/secret.config.yaml", nil},
		{"node", "config/node.yaml", nodeEnv},
	} {
		name := tc.name
		t.Run(name, func(t *testing.T) {
			got, err := synth(t, tc.env, "--config", tc.config)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := synth(t, tc.env, "--config", tc.config)
			if !bytes.Equal(got, again) {
				t.Fatal("two runs with the same input wrote different bytes")
			}
			golden := filepath.Join("testdata", name+".k8s.yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run `go test ./k8s-synth/... -update` and review the diff):\n%s", golden, got)
			}
			for _, noise := range []string{"status: {}", "creationTimestamp", "spec: {}", ": null"} {
				if bytes.Contains(got, []byte(noise)) {
					t.Errorf("output contains noise %q", noise)
				}
			}
			decode(t, got)
		})
	}
}

// make k8s writes one file per chart for kubectl: k8s/namespace.yaml, migration-job.yaml,
// network-policies.yaml.
func TestChartFilesForKubectl(t *testing.T) {
	split := t.TempDir()
	if err := run([]string{"--config", "testdata/default.config.yaml", "--outdir", split, "--extension", ".yaml"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	for file, kinds := range map[string]string{"namespace.yaml": "Namespace", "migration-job.yaml": "ServiceAccount,Job",
		"network-policies.yaml": strings.Repeat("NetworkPolicy,", 7)[:13*7+6]} {
		b, err := os.ReadFile(filepath.Join(split, file))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, doc := range bytes.Split(b, []byte("\n---\n")) {
			var head struct{ Kind string }
			_ = yaml.Unmarshal(doc, &head)
			if head.Kind != "" {
				got = append(got, head.Kind)
			}
		}
		if strings.Join(got, ",") != kinds {
			t.Errorf("%s holds %v, want %s", file, got, kinds)
		}
	}
}

func TestJobIsRestrictedAndUsesExitCodes(t *testing.T) {
	for _, name := range []string{"default", "secret"} {
		t.Run(name, func(t *testing.T) {
			out, err := synth(t, nil, "--config", filepath.Join("testdata", name+".config.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			o := decode(t, out)
			ns := o.namespaces[0]
			// The namespace is shared with the cart services: enforce baseline, audit and warn
			// restricted, each pinned to the cluster's minor version.
			for mode, level := range map[string]string{"enforce": "baseline", "audit": "restricted", "warn": "restricted"} {
				if ns.Labels["pod-security.kubernetes.io/"+mode] != level || ns.Labels["pod-security.kubernetes.io/"+mode+"-version"] != "v1.35" {
					t.Errorf("namespace pod-security %s = %q (version %q), want %s at v1.35", mode,
						ns.Labels["pod-security.kubernetes.io/"+mode], ns.Labels["pod-security.kubernetes.io/"+mode+"-version"], level)
				}
			}
			if len(o.jobs) != 1 || o.jobs[0].Name != "database-migration" || o.jobs[0].Namespace != "shopping-cart" {
				t.Fatalf("jobs = %+v", o.jobs)
			}
			job := o.jobs[0]
			pod := job.Spec.Template.Spec
			c := pod.Containers[0]
			checks := map[string]bool{
				"restartPolicy Never":           pod.RestartPolicy == corev1.RestartPolicyNever,
				"backoffLimit set":              job.Spec.BackoffLimit != nil && *job.Spec.BackoffLimit > 0,
				"activeDeadlineSeconds set":     job.Spec.ActiveDeadlineSeconds != nil,
				"ttlSecondsAfterFinished set":   job.Spec.TTLSecondsAfterFinished != nil,
				"pod runAsNonRoot":              *pod.SecurityContext.RunAsNonRoot,
				"pod uid non-zero":              *pod.SecurityContext.RunAsUser > 0 && *pod.SecurityContext.RunAsGroup > 0,
				"pod seccomp RuntimeDefault":    pod.SecurityContext.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault,
				"container readOnlyRootFs":      *c.SecurityContext.ReadOnlyRootFilesystem,
				"no privilege escalation":       !*c.SecurityContext.AllowPrivilegeEscalation,
				"drop ALL capabilities":         len(c.SecurityContext.Capabilities.Drop) == 1 && c.SecurityContext.Capabilities.Drop[0] == "ALL" && len(c.SecurityContext.Capabilities.Add) == 0,
				"container seccomp":             c.SecurityContext.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault,
				"cpu, memory, ephemeral limits": len(c.Resources.Limits) == 3 && len(c.Resources.Requests) == 3,
				"memory request = limit":        c.Resources.Requests.Memory().Equal(*c.Resources.Limits.Memory()),
				"/tmp is an emptyDir":           len(c.VolumeMounts) == 1 && c.VolumeMounts[0].MountPath == "/tmp" && pod.Volumes[0].EmptyDir != nil,
				"FallbackToLogsOnError":         c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError,
				"no token automount":            !*pod.AutomountServiceAccountToken && !*o.accounts[0].AutomountServiceAccountToken,
				"runs as the ServiceAccount":    pod.ServiceAccountName == o.accounts[0].Name,
				"pinned image":                  c.Image != "" && !strings.HasSuffix(c.Image, ":latest"),
				"standard labels on pod":        job.Spec.Template.Labels["app.kubernetes.io/name"] != "" && job.Spec.Template.Labels["app.kubernetes.io/part-of"] == "carthub",
				"json logs":                     envValue(c, "MIGRATOR_LOG_FORMAT") == "json",
				"TLS verified":                  envValue(c, "DB_SSLMODE") == "verify-full",
			}
			for what, ok := range checks {
				if !ok {
					t.Errorf("%s: not satisfied", what)
				}
			}
			rules := job.Spec.PodFailurePolicy.Rules
			// Exit codes a retry cannot fix fail the Job at once: a failed migration, bad
			// configuration, drift, a failed snapshot (a retry would only take another snapshot),
			// the pre-flight's refusals (rows that break a new rule, sessions idle in the way).
			if rules[0].Action != batchv1.PodFailurePolicyActionFailJob || fmt.Sprint(rules[0].OnExitCodes.Values) != "[1 2 5 6 9 10]" {
				t.Errorf("first rule should fail the Job on exit 1, 2, 5, 6, 9 and 10: %+v", rules[0])
			}
			if rules[1].Action != batchv1.PodFailurePolicyActionIgnore || rules[1].OnPodConditions[0].Type != corev1.DisruptionTarget {
				t.Errorf("second rule should ignore disruptions: %+v", rules[1])
			}
			for _, e := range c.Env {
				if strings.Contains(strings.ToUpper(e.Name), "PASSWORD") && e.Value != "" {
					t.Errorf("a password is written into the manifest: %s", e.Name)
				}
			}
			switch name {
			case "default":
				if envValue(c, "DB_SECRET_ARN") == "" || envValue(c, "DB_INSTANCE_IDENTIFIER") != "carthub-prod-db" || envValue(c, "MIGRATOR_SNAPSHOT") != "true" {
					t.Errorf("pod-identity env: %+v", c.Env)
				}
				if hasEnv(c, "DB_PASSWORD") {
					t.Error("pod-identity mode must not reference any password")
				}
			case "secret":
				for _, k := range []string{"DB_USERNAME", "DB_PASSWORD"} {
					if ref := envFrom(c, k); ref == nil || ref.Name != "db-migration-secret" {
						t.Errorf("%s does not come from Secret db-migration-secret", k)
					}
				}
			}
		})
	}
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func hasEnv(c corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

func envFrom(c corev1.Container, name string) *corev1.SecretKeySelector {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}

func TestNetworkPolicies(t *testing.T) {
	out, err := synth(t, nil, "--config", "testdata/default.config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, out)
	byName := map[string]networkingv1.NetworkPolicy{}
	for _, p := range o.policies {
		byName[p.Name] = p
		for _, r := range p.Spec.Ingress {
			if len(r.From) == 0 {
				t.Errorf("%s has an ingress rule with no peers: it would admit everything", p.Name)
			}
		}
		for _, r := range p.Spec.Egress {
			if len(r.To) == 0 {
				t.Errorf("%s has an egress rule with no peers: it would allow everything", p.Name)
			}
			for _, peer := range r.To {
				if peer.IPBlock != nil && strings.HasSuffix(peer.IPBlock.CIDR, "/0") {
					t.Errorf("%s allows egress to %s", p.Name, peer.IPBlock.CIDR)
				}
			}
		}
	}
	deny := byName["default-deny-all"]
	if len(deny.Spec.PodSelector.MatchLabels) != 0 || len(deny.Spec.PolicyTypes) != 2 || deny.Spec.Ingress != nil || deny.Spec.Egress != nil {
		t.Errorf("default-deny-all does not deny everything: %+v", deny.Spec)
	}
	type want struct {
		policy, peer string
		port         int32
		ingress      bool
	}
	for _, w := range []want{
		{"backend-to-database", "10.20.96.0/24", 5432, false},
		{"database-migration-egress", "10.20.97.0/24", 5432, false},
		{"database-migration-egress", "10.20.64.0/24", 443, false},
		{"database-migration-egress", "169.254.170.23/32", 80, false},
		{"frontend-to-backend", "app=backend", 8000, false},
		{"backend-ingress", "app=frontend", 8000, true},
		{"frontend-ingress", "10.20.0.0/24", 80, true},
		{"allow-dns", "k8s-app=kube-dns", 53, false},
	} {
		p, ok := byName[w.policy]
		if !ok {
			t.Errorf("policy %s missing", w.policy)
			continue
		}
		if !allows(p, w.peer, w.port, w.ingress) {
			t.Errorf("%s does not allow %s port %d", w.policy, w.peer, w.port)
		}
	}
	if allows(byName["backend-to-database"], "10.20.96.0/24", 443, false) || allows(byName["backend-ingress"], "app=frontend", 80, true) {
		t.Error("a policy allows more ports than it should")
	}

	// Every pod the namespace runs is selected by an allow policy besides the default deny.
	pods := map[string]labels.Set{
		"migration job": o.jobs[0].Spec.Template.Labels,
		"backend":       {"app": "backend"},
		"frontend":      {"app": "frontend"},
	}
	for name, podLabels := range pods {
		selected := false
		for _, p := range o.policies {
			if p.Name == "default-deny-all" || p.Name == "allow-dns" {
				continue
			}
			if labels.SelectorFromSet(p.Spec.PodSelector.MatchLabels).Matches(podLabels) {
				selected = true
			}
		}
		if !selected {
			t.Errorf("no policy selects the %s pods", name)
		}
	}
}

// allows reports whether a policy has a rule admitting peer (a CIDR or key=value pod label) on port.
func allows(p networkingv1.NetworkPolicy, peer string, port int32, ingress bool) bool {
	type rule struct {
		peers []networkingv1.NetworkPolicyPeer
		ports []networkingv1.NetworkPolicyPort
	}
	var rules []rule
	if ingress {
		for _, r := range p.Spec.Ingress {
			rules = append(rules, rule{r.From, r.Ports})
		}
	} else {
		for _, r := range p.Spec.Egress {
			rules = append(rules, rule{r.To, r.Ports})
		}
	}
	for _, r := range rules {
		portOK := false
		for _, pp := range r.ports {
			if pp.Port != nil && pp.Port.IntVal == port {
				portOK = true
			}
		}
		if !portOK {
			continue
		}
		for _, pe := range r.peers {
			if pe.IPBlock != nil && pe.IPBlock.CIDR == peer {
				return true
			}
			if pe.PodSelector != nil {
				k, v, _ := strings.Cut(peer, "=")
				if pe.PodSelector.MatchLabels[k] == v {
					return true
				}
			}
		}
	}
	return false
}

func TestBadInputs(t *testing.T) {
	base := map[string]string{
		"CARTHUB_IMAGE": "repo/carthub-database:abc123", "CARTHUB_VPC_CIDR": "10.0.0.0/16", "AWS_REGION": "eu-west-1",
		"CARTHUB_DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"ok", nil, nil, ""},
		{"no_image", map[string]string{"CARTHUB_IMAGE": ""}, nil, "image is required"},
		{"latest", nil, []string{"--image", "repo/carthub-database:latest"}, "uses the tag latest"},
		{"untagged", nil, []string{"--image", "repo/carthub-database"}, "has no tag or digest"},
		{"bad_image", nil, []string{"--image", "Repo With Spaces:1"}, "not a valid image reference"},
		{"bad_namespace", nil, []string{"--namespace", "Shopping_Cart"}, `namespace "Shopping_Cart"`},
		{"bad_cidr", nil, []string{"--db-cidrs", "10.0.0.0/33"}, `"10.0.0.0/33" is not a CIDR`},
		{"open_cidr", nil, []string{"--alb-cidrs", "0.0.0.0/0"}, "would allow every address"},
		{"host_bits", nil, []string{"--db-cidrs", "10.0.1.5/24"}, "did you mean 10.0.1.0/24"},
		{"no_cidrs", map[string]string{"CARTHUB_VPC_CIDR": ""}, nil, "database CIDRs are required"},
		{"no_secret_arn", map[string]string{"CARTHUB_DB_SECRET_ARN": ""}, nil, "needs the RDS secret's ARN"},
		{"bad_arn", nil, []string{"--secret-arn", "arn:aws:s3:::bucket"}, "expected arn:aws:secretsmanager"},
		{"arn_other_region", nil, []string{"--region", "us-east-1"}, "secret ARN is in region eu-west-1 but --region is us-east-1"},
		{"no_region", map[string]string{"AWS_REGION": ""}, nil, "AWS region is required"},
		{"bad_credentials", nil, []string{"--credentials", "password"}, `credentials "password"`},
		{"secret_without_host", nil, []string{"--credentials", "secret"}, "needs the database host"},
		{"same_labels", nil, []string{"--backend-labels", "app=web", "--frontend-labels", "app=web"}, "are the same"},
		{"bad_label", nil, []string{"--backend-labels", "app"}, `"app" is not key=value`},
		{"bad_instance", nil, []string{"--db-instance-id", "1-bad"}, "DB instance identifier"},
		{"bad_db_port", nil, []string{"--db-port", "70000"}, "dbPort 70000 is not a port number"},
		{"negative_backoff_limit", nil, []string{"--backoff-limit", "-1"}, "backoffLimit must be 0 or more"},
		{"bad_ca_configmap", nil, []string{"--db-ca-configmap", "Database_CA"}, `dbCaConfigMap "Database_CA"`},
		{"unknown_config_key", nil, []string{"--config", "testdata/unknown-key.yaml"}, `unknown field "dbCidr"`},
		{"missing_config", nil, []string{"--config", "testdata/nope.yaml"}, "read config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := synth(t, env, tt.args...)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close() // the Node.js process behind cdk8s
	os.Exit(code)
}
