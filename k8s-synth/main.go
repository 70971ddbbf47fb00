// Command k8s-synth writes the Kubernetes manifests of the Carthub database tier: the namespace,
// the migration Job and the NetworkPolicies. It follows the cdk8s workflow (`cdk8s synth` runs
// it; output goes to $CDK8S_OUTDIR) but is built on the official k8s.io/api types.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
	"sigs.k8s.io/yaml"

	"github.com/carthub/carthub-db/k8s-synth/charts"
	"github.com/carthub/carthub-db/k8s-synth/manifests"
)

func main() {
	err := run(os.Args[1:], os.Getenv)
	jsii.Close() // the cdk8s library runs in a Node.js process that jsii starts
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-synth:", err)
		os.Exit(2)
	}
}

// run resolves the configuration (flags over environment over config file over defaults),
// validates it, and writes the manifests.
func run(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("k8s-synth", flag.ContinueOnError)
	var (
		configFile = fs.String("config", getenv("CARTHUB_K8S_CONFIG"), "YAML config file with the keys below in camelCase (e.g. dbCidrs) [CARTHUB_K8S_CONFIG]")
		outdir     = fs.String("outdir", firstOf(getenv("CDK8S_OUTDIR"), "dist"), "where the charts' files go [CDK8S_OUTDIR]")
		extension  = fs.String("extension", ".k8s.yaml", "file name extension of each chart's file (make k8s: .yaml, giving k8s/namespace.yaml, ...)")
	)
	var c manifests.Config
	// Sources apply in order: config file, then environment, then flags, so later ones win.
	// Flags are parsed first (to find --config) and applied last.
	type setter struct {
		env   string
		apply func(string) error
	}
	var setters []setter
	var fromFlags []func() error
	input := func(name, env, usage string, apply func(string) error) {
		setters = append(setters, setter{env, apply})
		fs.Func(name, usage+" ["+env+"]", func(v string) error {
			fromFlags = append(fromFlags, func() error {
				if err := apply(v); err != nil {
					return fmt.Errorf("--%s: %w", name, err)
				}
				return nil
			})
			return nil
		})
	}
	str := func(p *string) func(string) error { return func(v string) error { *p = v; return nil } }
	list := func(p *[]string) func(string) error { return func(v string) error { *p = splitList(v); return nil } }
	labels := func(p *map[string]string) func(string) error {
		return func(v string) error {
			m, err := parseLabels(v)
			*p = m
			return err
		}
	}
	input("image", "CARTHUB_IMAGE", "migrator image, REPOSITORY:TAG or REPOSITORY@sha256:DIGEST (required; latest is refused)", str(&c.Image))
	input("namespace", "CARTHUB_NAMESPACE", "namespace (default shopping-cart)", str(&c.Namespace))
	input("db-cidrs", "CARTHUB_DB_CIDRS", "CIDRs of the database subnets, comma-separated (default: the VPC CIDR)", list(&c.DBCIDRs))
	input("vpc-cidr", "CARTHUB_VPC_CIDR", "the VPC CIDR, the fallback for the other CIDRs", str(&c.VPCCIDR))
	input("aws-api-cidrs", "CARTHUB_AWS_API_CIDRS", "CIDRs of the VPC endpoints for AWS APIs, comma-separated (default: the VPC CIDR)", list(&c.AWSAPICIDRs))
	input("alb-cidrs", "CARTHUB_ALB_CIDRS", "CIDRs the load balancer sends from, comma-separated (default: the VPC CIDR)", list(&c.ALBCIDRs))
	input("region", "AWS_REGION", "AWS region", str(&c.Region))
	input("secret-arn", "CARTHUB_DB_SECRET_ARN", "ARN of the database secret in Secrets Manager", str(&c.SecretARN))
	input("db-instance-id", "CARTHUB_DB_INSTANCE_ID", "RDS instance identifier: enables pre-migration snapshots", str(&c.DBInstanceID))
	input("credentials", "CARTHUB_CREDENTIALS", "pod-identity (default) or secret", str(&c.Credentials))
	input("db-host", "CARTHUB_DB_HOST", "database host (credentials secret)", str(&c.DBHost))
	input("db-name", "CARTHUB_DB_NAME", "database name (credentials secret; default carthub)", str(&c.DBName))
	input("backend-labels", "CARTHUB_BACKEND_LABELS", "labels of the backend pods, as key=value,key=value (default app=backend)", labels(&c.BackendLabels))
	input("frontend-labels", "CARTHUB_FRONTEND_LABELS", "labels of the frontend pods, as key=value,key=value (default app=frontend)", labels(&c.FrontendLabels))
	input("snapshot-retention", "CARTHUB_SNAPSHOT_RETENTION", "pre-migration snapshots to keep (default 5)", intSetter(&c.SnapshotRetain))
	input("pod-security-enforce", "CARTHUB_POD_SECURITY_ENFORCE", "Pod Security level the namespace enforces: baseline (default; shared with the cart services) or restricted", str(&c.PodSecurityEnforce))
	input("environment", "CARTHUB_ENVIRONMENT", "the deployment's name (dev, prod) in the migrator's run metrics", str(&c.Environment))
	input("db-port", "CARTHUB_DB_PORT", "the database's port (default 5432)", intSetter(&c.DBPort))
	input("db-ca-configmap", "CARTHUB_DB_CA_CONFIGMAP", "a ConfigMap whose ca.crt the Job trusts for the database's certificate instead of the RDS bundle (default: none)", str(&c.DBCAConfigMap))
	input("backoff-limit", "CARTHUB_BACKOFF_LIMIT", "failed attempts the Job retries (default 3)", func(v string) error {
		var n int
		if err := intSetter(&n)(v); err != nil {
			return err
		}
		c.BackoffLimit = ptr(int32(n))
		return nil
	})
	input("kubernetes-version", "CARTHUB_KUBERNETES_VERSION", "the cluster's minor version for the Pod Security labels (default 1.35)", str(&c.KubernetesVersion))

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		if err := yaml.UnmarshalStrict(b, &c); err != nil {
			return fmt.Errorf("config %s: %v (keys: image, namespace, dbCidrs, vpcCidr, awsApiCidrs, albCidrs, region, secretArn, "+
				"dbInstanceId, credentials, dbHost, dbName, backendLabels, frontendLabels, snapshotRetention, activeDeadlineSeconds, ttlSecondsAfterFinished, "+
				"podSecurityEnforce, kubernetesVersion, environment, dbPort, dbCaConfigMap, backoffLimit, nodeSelector, tolerations)", *configFile, err)
		}
	}
	for _, s := range setters {
		if v := getenv(s.env); v != "" {
			if err := s.apply(v); err != nil {
				return fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	for _, apply := range fromFlags {
		if err := apply(); err != nil {
			return err
		}
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		return err
	}
	// A cdk8s App: one Chart per file (namespace, migration-job, network-policies), each object
	// an ApiObject built from the typed k8s.io/api object.
	app := cdk8s.NewApp(&cdk8s.AppProps{Outdir: jsii.String(*outdir), OutputFileExtension: jsii.String(*extension)})
	if _, err := charts.New(app, c.Namespace, manifests.Build(c)); err != nil {
		return err
	}
	app.Synth()
	for _, id := range []string{charts.NamespaceChart, charts.JobChart, charts.PoliciesChart} {
		fmt.Fprintln(os.Stderr, "wrote", filepath.Join(*outdir, id+*extension))
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseLabels(v string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range splitList(v) {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not key=value", kv)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	return m, nil
}

func intSetter(p *int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p = n
		return nil
	}
}
