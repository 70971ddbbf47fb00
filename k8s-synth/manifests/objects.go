package manifests

import (
	"maps"
	"path"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/carthub/carthub-db/names"
)

// Names users already know from the seed README and its troubleshooting commands.
const (
	JobName        = names.MigrationJob
	ServiceAccount = names.MigrationServiceAccount
	SecretName     = "db-migration-secret"
	// RunAsID is the distroless "nonroot" user the image runs as.
	RunAsID int64 = 65532
	// RDSCABundle is where the image keeps the RDS certificate authorities.
	RDSCABundle = "/etc/ssl/certs/rds-global-bundle.pem"
	// dbCAFile is where the CA of Config.DBCAConfigMap is mounted.
	dbCAFile = "/etc/carthub/db-ca/ca.crt"
	// podIdentityAgent is the EKS Pod Identity agent's link-local address on every node.
	podIdentityAgent = "169.254.170.23/32"
)

// Exit codes of the migrator that a retry cannot fix (see the README's table): a failed
// migration, bad configuration, drift, a failed snapshot, live rows that break a new rule (9),
// sessions idle in a transaction in the way (10: a person decides whether to end them). A retry
// would only wait for the instance and take another snapshot first.
var permanentExitCodes = []int32{1, 2, 5, 6, 9, 10}

// Timeouts is what the Job tells the migrator to wait at most for each thing, so that their sum
// stays within the Job's activeDeadlineSeconds (a test holds them to it).
var Timeouts = []struct{ Env, Value string }{
	{"MIGRATOR_CONNECT_TIMEOUT", "2m"},
	{"MIGRATOR_INSTANCE_WAIT", "10m"},
	{"MIGRATOR_SNAPSHOT_TIMEOUT", "15m"},
	{"MIGRATOR_LOCK_WAIT", "5m"},
	// The pre-flight waits this long for sessions in the way; each of its counting queries is
	// bounded by MIGRATOR_PREFLIGHT_TIMEOUT (the migrator's default, 30s).
	{"MIGRATOR_BLOCKING_WAIT", "1m"},
	{"MIGRATOR_STATEMENT_TIMEOUT", "20m"},
}

// Manifests is everything the synthesizer writes, by the file it goes to.
type Manifests struct {
	Namespace []any // namespace.yaml
	Job       []any // migration-job.yaml
	Policies  []any // network-policies.yaml
}

// Bootstrap is what exists before the first Job: the namespace and its NetworkPolicies. The
// Cluster stack deploys these objects (cdk deploy), so the pipeline's deploy role needs no right
// outside the namespace; `make k8s` writes the same objects to namespace.yaml and
// network-policies.yaml.
func Bootstrap(c Config) (Manifests, error) {
	c.Defaults()
	if err := c.ValidateBootstrap(); err != nil {
		return Manifests{}, err
	}
	return Manifests{Namespace: []any{namespace(c)}, Policies: policies(c)}, nil
}

// Build makes every object from a validated config.
func Build(c Config) Manifests {
	return Manifests{
		Namespace: []any{namespace(c)},
		Job:       []any{serviceAccount(c), job(c)},
		Policies:  policies(c),
	}
}

// migratorLabels select the migration Job's pods; the standard app.kubernetes.io set.
func migratorLabels(c Config) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      names.Application,
		"app.kubernetes.io/instance":  JobName,
		"app.kubernetes.io/component": "database-migration",
		"app.kubernetes.io/part-of":   "carthub",
	}
}

func withVersion(c Config, labels map[string]string) map[string]string {
	out := map[string]string{"app.kubernetes.io/managed-by": "carthub-k8s-synth", "app.kubernetes.io/version": imageVersion(c.Image)}
	for k, v := range labels {
		out[k] = v
	}
	return out
}

// imageVersion is the image tag, or the digest's first 12 hex digits, as a label value.
func imageVersion(image string) string {
	if _, digest, ok := strings.Cut(image, "@sha256:"); ok {
		return "sha256-" + digest[:12]
	}
	repo := image[strings.LastIndex(image, "/")+1:]
	_, tag, _ := strings.Cut(repo, ":")
	if len(tag) > 63 {
		tag = tag[:63]
	}
	return strings.Trim(tag, "-_.")
}

func meta(c Config, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: labels}
}

func namespace(c Config) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: c.Namespace, Labels: map[string]string{
			"app.kubernetes.io/part-of":                  "carthub",
			"app.kubernetes.io/managed-by":               "carthub-k8s-synth",
			"pod-security.kubernetes.io/enforce":         c.PodSecurityEnforce,
			"pod-security.kubernetes.io/enforce-version": "v" + c.KubernetesVersion,
			"pod-security.kubernetes.io/audit":           PodSecurityRestricted,
			"pod-security.kubernetes.io/audit-version":   "v" + c.KubernetesVersion,
			"pod-security.kubernetes.io/warn":            PodSecurityRestricted,
			"pod-security.kubernetes.io/warn-version":    "v" + c.KubernetesVersion,
		}},
	}
}

func serviceAccount(c Config) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(c, ServiceAccount, withVersion(c, migratorLabels(c))),
		// The migrator never calls the Kubernetes API. EKS Pod Identity mounts its own token.
		AutomountServiceAccountToken: ptr(false),
	}
	return sa
}

func job(c Config) *batchv1.Job {
	labels := withVersion(c, migratorLabels(c))
	container := corev1.Container{
		Name:            names.MigrationContainer,
		Image:           c.Image,
		ImagePullPolicy: corev1.PullAlways,
		Args:            []string{"up", "--verify=always"},
		Env:             env(c),
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:              resource.MustParse("100m"),
				corev1.ResourceMemory:           resource.MustParse("256Mi"), // equal to the limit: never overcommitted
				corev1.ResourceEphemeralStorage: resource.MustParse("16Mi"),
			},
			Limits: corev1.ResourceList{
				corev1.ResourceCPU:              resource.MustParse("500m"),
				corev1.ResourceMemory:           resource.MustParse("256Mi"),
				corev1.ResourceEphemeralStorage: resource.MustParse("64Mi"),
			},
		},
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             ptr(true),
			RunAsUser:                ptr(RunAsID),
			RunAsGroup:               ptr(RunAsID),
			ReadOnlyRootFilesystem:   ptr(true),
			AllowPrivilegeEscalation: ptr(false),
			Privileged:               ptr(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		VolumeMounts:             []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	volumes := []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{
		EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr(resource.MustParse("16Mi"))},
	}}}
	if c.DBCAConfigMap != "" {
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: "db-ca", MountPath: path.Dir(dbCAFile), ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "db-ca", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: c.DBCAConfigMap},
			Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: path.Base(dbCAFile)}},
		}}})
	}
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta(c, JobName, labels),
		Spec: batchv1.JobSpec{
			BackoffLimit:            c.BackoffLimit,
			ActiveDeadlineSeconds:   ptr(c.ActiveDeadlineS),
			TTLSecondsAfterFinished: ptr(c.TTLAfterFinished),
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{
					// A failed migration, bad configuration, drift and a failed snapshot fail the
					// same way on every retry.
					Action: batchv1.PodFailurePolicyActionFailJob,
					OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
						ContainerName: ptr(names.MigrationContainer),
						Operator:      batchv1.PodFailurePolicyOnExitCodesOpIn,
						Values:        permanentExitCodes,
					},
				},
				{
					// A node drain or preemption is not the migration's fault: retry without
					// spending the backoff budget (the migrator released its lock on SIGTERM).
					Action:          batchv1.PodFailurePolicyActionIgnore,
					OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
				},
				// Everything else (cannot connect, the instance unavailable, the lock busy)
				// counts against backoffLimit and is retried.
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:           ServiceAccount,
					AutomountServiceAccountToken: ptr(false),
					RestartPolicy:                corev1.RestartPolicyNever,
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr(true),
						RunAsUser:      ptr(RunAsID),
						RunAsGroup:     ptr(RunAsID),
						FSGroup:        ptr(RunAsID),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers:   []corev1.Container{container},
					Volumes:      volumes,
					NodeSelector: c.NodeSelector,
					Tolerations:  c.Tolerations,
				},
			},
		},
	}
}

func env(c Config) []corev1.EnvVar {
	rootCert := RDSCABundle
	if c.DBCAConfigMap != "" {
		rootCert = dbCAFile
	}
	vars := []corev1.EnvVar{
		{Name: "MIGRATOR_LOG_FORMAT", Value: "json"},
		// After a run that applied something: the tables' shape (statistics, no rows) in the
		// log, which the Deploy stage stores for the next Build stage's lint.
		{Name: "MIGRATOR_LOG_SHAPE", Value: "true"},
		// Beside it, the statements production runs (pg_stat_statements' normalized texts, no
		// literal, no comment), which the Deploy stage stores for lint to run beside queries.sql.
		{Name: "MIGRATOR_LOG_STATEMENTS", Value: "true"},
		// The Go runtime collects harder as it nears the container's 256Mi limit instead of
		// being OOM-killed past it (a large data-fix file; docs/writing-migrations.md).
		{Name: "GOMEMLIMIT", Value: "200MiB"},
		{Name: "DB_SSLMODE", Value: "verify-full"},
		{Name: "DB_SSLROOTCERT", Value: rootCert},
	}
	for _, t := range Timeouts {
		vars = append(vars, corev1.EnvVar{Name: t.Env, Value: t.Value})
	}
	if c.Environment != "" {
		vars = append(vars, corev1.EnvVar{Name: "MIGRATOR_ENVIRONMENT", Value: c.Environment}) // a dimension of the run metrics
	}
	if c.Region != "" {
		vars = append(vars, corev1.EnvVar{Name: "AWS_REGION", Value: c.Region})
	}
	switch c.Credentials {
	case CredentialsPodIdentity:
		vars = append(vars, corev1.EnvVar{Name: "DB_SECRET_ARN", Value: c.SecretARN})
	case CredentialsSecret:
		ref := func(key string) *corev1.EnvVarSource {
			return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: SecretName}, Key: key}}
		}
		vars = append(vars,
			corev1.EnvVar{Name: "DB_HOST", Value: c.DBHost},
			corev1.EnvVar{Name: "DB_PORT", Value: strconv.Itoa(c.DBPort)},
			corev1.EnvVar{Name: "DB_NAME", Value: c.DBName},
			corev1.EnvVar{Name: "DB_USERNAME", ValueFrom: ref("username")},
			corev1.EnvVar{Name: "DB_PASSWORD", ValueFrom: ref("password")})
	}
	if c.DBInstanceID != "" {
		vars = append(vars,
			corev1.EnvVar{Name: "DB_INSTANCE_IDENTIFIER", Value: c.DBInstanceID},
			corev1.EnvVar{Name: "MIGRATOR_SNAPSHOT", Value: "true"},
			corev1.EnvVar{Name: "MIGRATOR_SNAPSHOT_RETENTION", Value: strconv.Itoa(c.SnapshotRetain)})
	}
	return vars
}

func policies(c Config) []any {
	tcp := corev1.ProtocolTCP
	udp := corev1.ProtocolUDP
	port := func(proto *corev1.Protocol, n int) networkingv1.NetworkPolicyPort {
		p := intstr.FromInt32(int32(n))
		return networkingv1.NetworkPolicyPort{Protocol: proto, Port: &p}
	}
	blocks := func(cidrs []string) []networkingv1.NetworkPolicyPeer {
		var peers []networkingv1.NetworkPolicyPeer
		for _, cidr := range cidrs {
			peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
		}
		return peers
	}
	pods := func(labels map[string]string) []networkingv1.NetworkPolicyPeer {
		return []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: labels}}}
	}
	policy := func(name, purpose string, selector map[string]string, types []networkingv1.PolicyType,
		ingress []networkingv1.NetworkPolicyIngressRule, egress []networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
		m := meta(c, name, map[string]string{"app.kubernetes.io/part-of": "carthub", "app.kubernetes.io/managed-by": "carthub-k8s-synth"})
		m.Annotations = map[string]string{"carthub.io/purpose": purpose}
		if maps.Equal(selector, c.BackendLabels) || maps.Equal(selector, c.FrontendLabels) {
			// The backend and frontend Deployments come from the cart services' repository, so a
			// linter fed only these manifests cannot see the pods; the tests check the selectors.
			m.Annotations["kube-score/ignore"] = "networkpolicy-targets-pod"
		}
		return &networkingv1.NetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: m,
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: selector},
				PolicyTypes: types, Ingress: ingress, Egress: egress},
		}
	}
	both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	egressOnly := []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	ingressOnly := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}

	migratorEgress := []networkingv1.NetworkPolicyEgressRule{
		{To: blocks(c.DBCIDRs), Ports: []networkingv1.NetworkPolicyPort{port(&tcp, c.DBPort)}},
	}
	if len(c.AWSAPICIDRs) > 0 {
		migratorEgress = append(migratorEgress, networkingv1.NetworkPolicyEgressRule{
			To: blocks(c.AWSAPICIDRs), Ports: []networkingv1.NetworkPolicyPort{port(&tcp, 443)}})
	}
	if c.Credentials == CredentialsPodIdentity {
		migratorEgress = append(migratorEgress, networkingv1.NetworkPolicyEgressRule{
			To: blocks([]string{podIdentityAgent}), Ports: []networkingv1.NetworkPolicyPort{port(&tcp, 80)}})
	}
	return []any{
		policy("default-deny-all", "deny all ingress and egress of every pod unless another policy allows it",
			nil, both, nil, nil),
		policy("allow-dns", "DNS lookups to kube-dns only",
			nil, egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{port(&udp, 53), port(&tcp, 53)},
			}}),
		policy("database-migration-egress", "the migration Job reaches the database on 5432, AWS APIs on 443 and the Pod Identity agent",
			migratorLabels(c), egressOnly, nil, migratorEgress),
		policy("backend-to-database", "backend pods reach the database on 5432 only",
			c.BackendLabels, egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{{
				To: blocks(c.DBCIDRs), Ports: []networkingv1.NetworkPolicyPort{port(&tcp, c.DBPort)}}}),
		policy("frontend-to-backend", "frontend pods reach backend pods on 8000",
			c.FrontendLabels, egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{{
				To: pods(c.BackendLabels), Ports: []networkingv1.NetworkPolicyPort{port(&tcp, 8000)}}}),
		policy("backend-ingress", "backend pods accept traffic only from frontend pods on 8000",
			c.BackendLabels, ingressOnly, []networkingv1.NetworkPolicyIngressRule{{
				From: pods(c.FrontendLabels), Ports: []networkingv1.NetworkPolicyPort{port(&tcp, 8000)}}}, nil),
		policy("frontend-ingress", "frontend pods accept traffic only from the load balancer on 80",
			c.FrontendLabels, ingressOnly, []networkingv1.NetworkPolicyIngressRule{{
				From: blocks(c.ALBCIDRs), Ports: []networkingv1.NetworkPolicyPort{port(&tcp, 80)}}}, nil),
	}
}

func ptr[T any](v T) *T { return &v }
