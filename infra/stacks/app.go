package stacks

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// App is every stack of one environment.
type App struct {
	Config   EnvConfig
	Network  *NetworkStack
	Registry *RegistryStack
	Database *DatabaseStack
	Cluster  *ClusterStack
	Pipeline *PipelineStack
}

var (
	accountRe = regexp.MustCompile(`^\d{12}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	cidrRe    = regexp.MustCompile(`^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$`)
)

// NewApp adds the stacks of the environment chosen by context to app, and the cdk-nag
// AwsSolutions checks over all of them.
func NewApp(app awscdk.App) (*App, error) {
	node := app.Node()
	name := contextString(node, "env", "dev")
	cfg, err := ForEnv(name)
	if err != nil {
		return nil, err
	}
	envs, _ := node.TryGetContext(str("carthub:environments")).(map[string]any)
	defaults, _ := envs[name].(map[string]any)
	account := firstNonEmpty(contextString(node, "account", ""), os.Getenv("CDK_DEFAULT_ACCOUNT"), asString(defaults["account"]))
	region := firstNonEmpty(contextString(node, "region", ""), os.Getenv("CDK_DEFAULT_REGION"), asString(defaults["region"]))
	if !accountRe.MatchString(account) {
		return nil, fmt.Errorf("account %q: give a 12-digit account with -c account=, CDK_DEFAULT_ACCOUNT or carthub:environments in cdk.json", account)
	}
	if !regionRe.MatchString(region) {
		return nil, fmt.Errorf("region %q: give a region such as eu-west-1 with -c region=, CDK_DEFAULT_REGION or cdk.json", region)
	}
	cfg.ReadReplica = contextString(node, "readReplica", "false") == "true"
	if cidrs := contextString(node, "clusterApiCidrs", ""); cidrs != "" {
		for _, c := range strings.Split(cidrs, ",") {
			if c = strings.TrimSpace(c); !cidrRe.MatchString(c) || strings.HasSuffix(c, "/0") {
				return nil, fmt.Errorf("clusterApiCidrs: %q is not a CIDR narrower than /0", c)
			}
			cfg.ClusterAPICIDRs = append(cfg.ClusterAPICIDRs, c)
		}
	}
	env := &awscdk.Environment{Account: str(account), Region: str(region)}
	props := func(purpose string) awscdk.StackProps {
		return awscdk.StackProps{Env: env, Description: str("Carthub database tier (" + cfg.Name + "): " + purpose),
			Tags: &map[string]*string{"project": str("carthub"), "environment": str(cfg.Name)}}
	}
	prefix := "Carthub-" + strings.ToUpper(cfg.Name[:1]) + cfg.Name[1:] + "-"
	a := &App{Config: cfg}
	a.Network = NewNetworkStack(app, prefix+"Network", &NetworkStackProps{StackProps: props("VPC, subnets, flow logs, endpoints"), Config: cfg})
	a.Registry = NewRegistryStack(app, prefix+"Registry", &RegistryStackProps{StackProps: props("ECR repository of the migrator image"), Config: cfg})
	a.Database = NewDatabaseStack(app, prefix+"Database", &DatabaseStackProps{StackProps: props("RDS PostgreSQL and its secret"),
		Config: cfg, Vpc: a.Network.Vpc})
	a.Cluster = NewClusterStack(app, prefix+"Cluster", &ClusterStackProps{StackProps: props("EKS cluster and the migrator's access"),
		Config: cfg, Vpc: a.Network.Vpc, Database: a.Database.Instance, DatabaseSecret: a.Database.Secret,
		DatabaseSG: a.Database.SecurityGroup, DatabaseKey: a.Database.Key})
	var dbCIDRs []*string
	for _, s := range *a.Network.Vpc.IsolatedSubnets() {
		dbCIDRs = append(dbCIDRs, s.Ipv4CidrBlock())
	}
	a.Pipeline = NewPipelineStack(app, prefix+"Pipeline", &PipelineStackProps{
		StackProps: props("CodeCommit -> CodePipeline -> CodeBuild -> ECR -> the migration Job on EKS"),
		Config:     cfg, Vpc: a.Network.Vpc, Repository: a.Registry.Repository, Cluster: a.Cluster.Cluster,
		DBSecretArn: a.Database.Secret.SecretArn(), DBInstanceID: a.Database.Instance.InstanceIdentifier(), DBSubnetCIDRs: dbCIDRs})
	suppress(a)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return a, nil
}

func contextString(node interface{ TryGetContext(*string) any }, key, def string) string {
	if v, ok := node.TryGetContext(str(key)).(string); ok && v != "" {
		return v
	}
	return def
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
