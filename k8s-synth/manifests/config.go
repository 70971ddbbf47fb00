// Package manifests builds the Kubernetes objects of the Carthub database tier: the namespace,
// the migration Job with its ServiceAccount, and the NetworkPolicies around them.
package manifests

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/carthub/carthub-db/names"
)

// Credential modes of the migration Job.
const (
	// CredentialsPodIdentity: the migrator reads the RDS secret from Secrets Manager with the
	// ServiceAccount's EKS Pod Identity role; no password exists anywhere in Kubernetes.
	CredentialsPodIdentity = "pod-identity"
	// CredentialsSecret: the seed's model, DB_USERNAME/DB_PASSWORD from Secret db-migration-secret.
	CredentialsSecret = "secret"
)

// Config is every input of the synthesizer. Field names are also the keys of the config file.
type Config struct {
	Image            string            `json:"image"`
	Namespace        string            `json:"namespace"`
	DBCIDRs          []string          `json:"dbCidrs"`
	VPCCIDR          string            `json:"vpcCidr"`
	AWSAPICIDRs      []string          `json:"awsApiCidrs"`
	ALBCIDRs         []string          `json:"albCidrs"`
	Region           string            `json:"region"`
	SecretARN        string            `json:"secretArn"`
	DBInstanceID     string            `json:"dbInstanceId"`
	Credentials      string            `json:"credentials"`
	DBHost           string            `json:"dbHost"`
	DBName           string            `json:"dbName"`
	BackendLabels    map[string]string `json:"backendLabels"`
	FrontendLabels   map[string]string `json:"frontendLabels"`
	SnapshotRetain   int               `json:"snapshotRetention"`
	ActiveDeadlineS  int64             `json:"activeDeadlineSeconds"`
	TTLAfterFinished int32             `json:"ttlSecondsAfterFinished"`
	// PodSecurityEnforce is the Pod Security level the namespace enforces: baseline (default:
	// the namespace is shared with the cart services, whose pods another repository deploys) or
	// restricted. Audit and warn are always restricted; the migration Job meets restricted.
	PodSecurityEnforce string `json:"podSecurityEnforce"`
	// KubernetesVersion pins the Pod Security labels' *-version, e.g. "1.35" (the cluster's minor).
	KubernetesVersion string `json:"kubernetesVersion"`
	// Environment names the deployment (dev, prod) in the migrator's run metrics.
	Environment string `json:"environment"`
	// DBPort is the database's port (default 5432), in the Job's DB_PORT and the egress rules.
	DBPort int `json:"dbPort"`
	// DBCAConfigMap names a ConfigMap in the namespace whose key ca.crt is the certificate
	// authority the Job trusts for verify-full, instead of the image's RDS bundle: a database
	// whose server certificate is not RDS's (the cluster tests' own server).
	DBCAConfigMap string `json:"dbCaConfigMap"`
	// BackoffLimit is how many failed attempts the Job retries (default 3).
	BackoffLimit *int32 `json:"backoffLimit"`
	// NodeSelector and Tolerations place the Job's pod on chosen nodes (the cluster tests'
	// real node, which its taint keeps the other pods off).
	NodeSelector map[string]string   `json:"nodeSelector"`
	Tolerations  []corev1.Toleration `json:"tolerations"`
}

// Pod Security levels.
const (
	PodSecurityBaseline   = "baseline"
	PodSecurityRestricted = "restricted"
)

// Defaults fills what the user left out.
func (c *Config) Defaults() {
	if c.Namespace == "" {
		c.Namespace = names.Namespace
	}
	if c.Credentials == "" {
		c.Credentials = CredentialsPodIdentity
	}
	if c.DBName == "" {
		c.DBName = names.DatabaseName
	}
	if len(c.BackendLabels) == 0 {
		c.BackendLabels = map[string]string{"app": "backend"}
	}
	if len(c.FrontendLabels) == 0 {
		c.FrontendLabels = map[string]string{"app": "frontend"}
	}
	if len(c.DBCIDRs) == 0 && c.VPCCIDR != "" {
		c.DBCIDRs = []string{c.VPCCIDR}
	}
	// AWS APIs are reached through the VPC's interface endpoints, so the VPC CIDR is as narrow
	// as HTTPS egress can be made without knowing each endpoint's addresses.
	if len(c.AWSAPICIDRs) == 0 && c.VPCCIDR != "" {
		c.AWSAPICIDRs = []string{c.VPCCIDR}
	}
	if len(c.ALBCIDRs) == 0 && c.VPCCIDR != "" {
		c.ALBCIDRs = []string{c.VPCCIDR}
	}
	if c.SnapshotRetain == 0 {
		c.SnapshotRetain = 5
	}
	if c.ActiveDeadlineS == 0 {
		c.ActiveDeadlineS = 3600
	}
	if c.TTLAfterFinished == 0 {
		c.TTLAfterFinished = 86400
	}
	if c.PodSecurityEnforce == "" {
		c.PodSecurityEnforce = PodSecurityBaseline
	}
	if c.KubernetesVersion == "" {
		c.KubernetesVersion = DefaultKubernetesVersion
	}
	if c.DBPort == 0 {
		c.DBPort = names.DatabasePort
	}
	if c.BackoffLimit == nil {
		c.BackoffLimit = ptr(int32(3))
	}
}

var (
	imageRef  = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`)
	secretARN = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@-]+$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	dbIDRe    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*$`)
	minorRe   = regexp.MustCompile(`^1\.\d{1,2}$`)
)

// DefaultKubernetesVersion is the cluster's minor version (infra's KubernetesVersion).
const DefaultKubernetesVersion = "1.35"

// Validate checks every input and reports all problems at once, each with what to do.
func (c *Config) Validate() error {
	return joinErrors(append(c.clusterErrors(), c.jobErrors()...))
}

// ValidateBootstrap checks what the namespace and the NetworkPolicies are made from (the
// Cluster stack creates them before any image exists).
func (c *Config) ValidateBootstrap() error { return joinErrors(c.clusterErrors()) }

func joinErrors(errs []string) error {
	if len(errs) == 0 {
		return nil
	}
	sort.Strings(errs)
	return errors.New("invalid configuration:\n  - " + strings.Join(errs, "\n  - "))
}

// clusterErrors checks the namespace, the CIDRs and the pod labels.
func (c *Config) clusterErrors() []string {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if errs := validation.IsDNS1123Label(c.Namespace); len(errs) > 0 {
		add("namespace %q: %s", c.Namespace, strings.Join(errs, "; "))
	}
	if len(c.DBCIDRs) == 0 {
		add("database CIDRs are required: --db-cidrs (the database subnets) or --vpc-cidr")
	}
	for _, group := range []struct {
		name  string
		cidrs []string
	}{{"db-cidrs", c.DBCIDRs}, {"aws-api-cidrs", c.AWSAPICIDRs}, {"alb-cidrs", c.ALBCIDRs}, {"vpc-cidr", nonEmpty(c.VPCCIDR)}} {
		for _, cidr := range group.cidrs {
			p, err := netip.ParsePrefix(cidr)
			switch {
			case err != nil:
				add("%s: %q is not a CIDR such as 10.0.0.0/16", group.name, cidr)
			case p.Bits() == 0:
				add("%s: %q would allow every address; name the subnets instead", group.name, cidr)
			case p.Masked() != p:
				add("%s: %q has host bits set; did you mean %s?", group.name, cidr, p.Masked())
			}
		}
	}
	if len(c.ALBCIDRs) == 0 {
		add("ALB source CIDRs are required for frontend-ingress: --alb-cidrs (the ALB's subnets) or --vpc-cidr")
	}
	if c.Credentials == CredentialsPodIdentity && len(c.AWSAPICIDRs) == 0 {
		add("credentials pod-identity reaches Secrets Manager over HTTPS: set --aws-api-cidrs (the VPC endpoints' subnets) or --vpc-cidr")
	}
	for name, labels := range map[string]map[string]string{"backend-labels": c.BackendLabels, "frontend-labels": c.FrontendLabels} {
		for k, v := range labels {
			if e := validation.IsQualifiedName(k); len(e) > 0 {
				add("%s: label key %q: %s", name, k, strings.Join(e, "; "))
			}
			if e := validation.IsValidLabelValue(v); len(e) > 0 {
				add("%s: label value %q: %s", name, v, strings.Join(e, "; "))
			}
		}
	}
	if maps.Equal(c.BackendLabels, c.FrontendLabels) {
		add("backend-labels and frontend-labels are the same; the policies could not tell the pods apart")
	}
	if c.PodSecurityEnforce != PodSecurityBaseline && c.PodSecurityEnforce != PodSecurityRestricted {
		add("podSecurityEnforce %q: use baseline (default; the namespace is shared with the cart services) or restricted", c.PodSecurityEnforce)
	}
	if c.DBPort < 1 || c.DBPort > 65535 {
		add("dbPort %d is not a port number (1-65535)", c.DBPort)
	}
	if !minorRe.MatchString(c.KubernetesVersion) {
		add("kubernetesVersion %q: the cluster's minor version, such as 1.35", c.KubernetesVersion)
	}
	return errs
}

// jobErrors checks the image, the credentials and the Job's settings.
func (c *Config) jobErrors() []string {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	switch m := imageRef.FindStringSubmatch(c.Image); {
	case c.Image == "":
		add("image is required: the migrator image as REPOSITORY:TAG or REPOSITORY@sha256:DIGEST (--image or CARTHUB_IMAGE)")
	case m == nil:
		add("image %q is not a valid image reference: use REPOSITORY:TAG or REPOSITORY@sha256:DIGEST", c.Image)
	case m[1] == "" && m[2] == "":
		add("image %q has no tag or digest: pin the image the pipeline built (a commit tag or a digest)", c.Image)
	case m[1] == "latest" && m[2] == "":
		add("image %q uses the tag latest: pin the image the pipeline built (a commit tag or a digest), so a rerun runs the same migrations", c.Image)
	}
	switch c.Credentials {
	case CredentialsPodIdentity:
		if c.SecretARN == "" {
			add("credentials pod-identity needs the RDS secret's ARN: --secret-arn or CARTHUB_DB_SECRET_ARN")
		}
	case CredentialsSecret:
		if c.DBHost == "" {
			add("credentials secret needs the database host: --db-host or CARTHUB_DB_HOST")
		}
	default:
		add("credentials %q: use pod-identity (default; no password in Kubernetes) or secret", c.Credentials)
	}
	if c.SecretARN != "" {
		m := secretARN.FindStringSubmatch(c.SecretARN)
		if m == nil {
			add("secret ARN %q: expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME", c.SecretARN)
		} else if c.Region != "" && m[1] != c.Region {
			add("secret ARN is in region %s but --region is %s", m[1], c.Region)
		}
	}
	if c.Region == "" && (c.Credentials == CredentialsPodIdentity || c.DBInstanceID != "") {
		add("AWS region is required: --region or AWS_REGION")
	} else if c.Region != "" && !regionRe.MatchString(c.Region) {
		add("region %q is not an AWS region such as eu-west-1", c.Region)
	}
	if c.DBInstanceID != "" && (!dbIDRe.MatchString(c.DBInstanceID) || len(c.DBInstanceID) > 63) {
		add("DB instance identifier %q: letters, digits and hyphens, starting with a letter, at most 63", c.DBInstanceID)
	}
	if c.SnapshotRetain < 1 {
		add("snapshot retention must be at least 1")
	}
	if c.ActiveDeadlineS < 60 {
		add("activeDeadlineSeconds must be at least 60")
	}
	if c.Environment != "" {
		if e := validation.IsDNS1123Label(c.Environment); len(e) > 0 {
			add("environment %q: %s", c.Environment, strings.Join(e, "; "))
		}
	}
	if c.DBCAConfigMap != "" {
		if e := validation.IsDNS1123Subdomain(c.DBCAConfigMap); len(e) > 0 {
			add("dbCaConfigMap %q: %s", c.DBCAConfigMap, strings.Join(e, "; "))
		}
	}
	if *c.BackoffLimit < 0 {
		add("backoffLimit must be 0 or more")
	}
	for k, v := range c.NodeSelector {
		if e := validation.IsQualifiedName(k); len(e) > 0 {
			add("nodeSelector: label key %q: %s", k, strings.Join(e, "; "))
		}
		if e := validation.IsValidLabelValue(v); len(e) > 0 {
			add("nodeSelector: label value %q: %s", v, strings.Join(e, "; "))
		}
	}
	return errs
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
