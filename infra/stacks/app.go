package stacks

import (
	"fmt"
	"os"
	"regexp"
	"slices"
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
	// Operations: alerts topic, notifications, alarms, dashboard, backups.
	Operations *OperationsStack
	// BackupCopy is the copy region's backup vault (environments with Config.Backup).
	BackupCopy *BackupCopyStack
}

var (
	accountRe = regexp.MustCompile(`^\d{12}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	cidrRe    = regexp.MustCompile(`^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$`)
	roleArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
	emailRe   = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[a-z]{2,}$`)
)

// placeEnvironment sets the account and region of cfg from cdk.json's carthub:environments,
// which is authoritative: a deploy with another account's credentials (CDK_DEFAULT_ACCOUNT, set
// by the CDK CLI from them) is refused before anything is synthesized, so `-c env=prod` with dev
// credentials cannot put prod into the dev account. Context offlineSynth=true skips only the
// credentials comparison (the tests' synth, which deploys nothing). An environment that
// promotes another's images learns that one's account and region the same way.
func placeEnvironment(node interface{ TryGetContext(*string) any }, cfg *EnvConfig) error {
	envs, _ := node.TryGetContext(str("carthub:environments")).(map[string]any)
	where := func(name string) (account, region string, err error) {
		e, _ := envs[name].(map[string]any)
		account, region = asString(e["account"]), asString(e["region"])
		if !accountRe.MatchString(account) {
			return "", "", fmt.Errorf("environment %s: account %q in cdk.json (context carthub:environments.%s.account) must be 12 digits", name, account, name)
		}
		if !regionRe.MatchString(region) {
			return "", "", fmt.Errorf("environment %s: region %q in cdk.json (context carthub:environments.%s.region) must be a region such as eu-west-1", name, region, name)
		}
		return account, region, nil
	}
	var err error
	if cfg.Account, cfg.Region, err = where(cfg.Name); err != nil {
		return err
	}
	if c := contextString(node, "account", ""); c != "" && c != cfg.Account {
		return fmt.Errorf("-c account=%s, but environment %s lives in account %s (cdk.json): change cdk.json, not the command line", c, cfg.Name, cfg.Account)
	}
	if creds := os.Getenv("CDK_DEFAULT_ACCOUNT"); creds != "" && creds != cfg.Account && contextString(node, "offlineSynth", "") != "true" {
		return fmt.Errorf("your AWS credentials are for account %s, but environment %s lives in account %s (cdk.json carthub:environments.%s): "+
			"use that account's credentials (e.g. AWS_PROFILE) or choose the environment with -c env=", creds, cfg.Name, cfg.Account, cfg.Name)
	}
	if cfg.PromoteFrom != "" {
		account, region, err := where(cfg.PromoteFrom)
		if err != nil {
			return fmt.Errorf("environment %s takes its images from %s: %w", cfg.Name, cfg.PromoteFrom, err)
		}
		source, _ := ForEnv(cfg.PromoteFrom)
		cfg.Promotion = &Promotion{Account: account, Region: region, RepositoryName: source.RepositoryName()}
	}
	return nil
}

// NewApp adds the stacks of the environment chosen by context to app, and the cdk-nag
// AwsSolutions checks over all of them.
func NewApp(app awscdk.App) (*App, error) {
	node := app.Node()
	name := contextString(node, "env", "dev")
	cfg, err := ForEnv(name)
	if err != nil {
		return nil, err
	}
	if err := placeEnvironment(node, &cfg); err != nil {
		return nil, err
	}
	cfg.AdminRoleArn = contextString(node, "adminRoleArn", "")
	if cfg.AdminRoleArn != "" && !roleArnRe.MatchString(cfg.AdminRoleArn) {
		return nil, fmt.Errorf("adminRoleArn %q: give an IAM role ARN such as arn:aws:iam::111111111111:role/Admin", cfg.AdminRoleArn)
	}
	cfg.ReadReplica = contextString(node, "readReplica", "false") == "true"
	cfg.AlarmEmail = contextString(node, "alarmEmail", "")
	if cfg.AlarmEmail != "" && !emailRe.MatchString(cfg.AlarmEmail) {
		return nil, fmt.Errorf("alarmEmail %q: give one e-mail address, e.g. -c alarmEmail=oncall@example.com", cfg.AlarmEmail)
	}
	if cfg.Backup {
		envs, _ := node.TryGetContext(str("carthub:environments")).(map[string]any)
		e, _ := envs[cfg.Name].(map[string]any)
		cfg.BackupCopyRegion = asString(e["backupCopyRegion"])
		if !regionRe.MatchString(cfg.BackupCopyRegion) || cfg.BackupCopyRegion == cfg.Region {
			return nil, fmt.Errorf("environment %s copies its backups to another region: set carthub:environments.%s.backupCopyRegion in cdk.json "+
				"to a region other than %s (now %q)", cfg.Name, cfg.Name, cfg.Region, cfg.BackupCopyRegion)
		}
	}
	if cidrs := contextString(node, "clusterApiCidrs", ""); cidrs != "" {
		for _, c := range strings.Split(cidrs, ",") {
			if c = strings.TrimSpace(c); !cidrRe.MatchString(c) || strings.HasSuffix(c, "/0") {
				return nil, fmt.Errorf("clusterApiCidrs: %q is not a CIDR narrower than /0", c)
			}
			cfg.ClusterAPICIDRs = append(cfg.ClusterAPICIDRs, c)
		}
	}
	env := &awscdk.Environment{Account: str(cfg.Account), Region: str(cfg.Region)}
	props := func(purpose string) awscdk.StackProps {
		return awscdk.StackProps{Env: env, Description: str("Carthub database tier (" + cfg.Name + "): " + purpose),
			Tags:                  &map[string]*string{"project": str("carthub"), "environment": str(cfg.Name)},
			TerminationProtection: jsii.Bool(cfg.DeletionProtection)}
	}
	prefix := "Carthub-" + strings.ToUpper(cfg.Name[:1]) + cfg.Name[1:] + "-"
	a := &App{Config: cfg}
	a.Network = NewNetworkStack(app, prefix+"Network", &NetworkStackProps{StackProps: props("VPC, subnets, flow logs, endpoints"), Config: cfg})
	// Every environment owns the images it runs: prod's repository holds the copies of dev's
	// images it promoted, so dev's expiry cannot take what prod runs or may roll back to.
	a.Registry = NewRegistryStack(app, prefix+"Registry", &RegistryStackProps{StackProps: props("ECR repository of the migrator image"),
		Config: cfg, PullAccounts: promotingAccounts(node, cfg.Name)})
	repository := a.Registry.Repository
	a.Database = NewDatabaseStack(app, prefix+"Database", &DatabaseStackProps{StackProps: props("RDS PostgreSQL and its secret"),
		Config: cfg, Vpc: a.Network.Vpc})
	a.Cluster = NewClusterStack(app, prefix+"Cluster", &ClusterStackProps{StackProps: props("EKS cluster, its namespace and policies, the migrator's access"),
		Config: cfg, Vpc: a.Network.Vpc, Network: a.Network, Database: a.Database.Instance, DatabaseSecret: a.Database.Secret,
		DatabaseSG: a.Database.SecurityGroup, DatabaseKey: a.Database.Key})
	a.Pipeline = NewPipelineStack(app, prefix+"Pipeline", &PipelineStackProps{
		StackProps: props("CodeCommit -> CodePipeline -> CodeBuild -> ECR -> the migration Job on EKS"),
		Config:     cfg, Network: a.Network, Repository: repository, Cluster: a.Cluster,
		DBSecretArn: a.Database.Secret.SecretArn(), DBInstanceID: a.Database.Instance.InstanceIdentifier()})
	var copyVaultArn string
	if cfg.Backup {
		copyProps := props("the copy region's AWS Backup vault")
		copyProps.Env = &awscdk.Environment{Account: str(cfg.Account), Region: str(cfg.BackupCopyRegion)}
		a.BackupCopy = NewBackupCopyStack(app, prefix+"BackupCopy", &copyProps, cfg)
		copyVaultArn = fmt.Sprintf("arn:%s:backup:%s:%s:backup-vault:%s", *awscdk.Aws_PARTITION(), cfg.BackupCopyRegion, cfg.Account, CopyVaultName(cfg))
	}
	a.Operations = NewOperationsStack(app, prefix+"Operations", &OperationsStackProps{
		StackProps: props("alerts topic, pipeline notifications, alarms, dashboard, backups"),
		Config:     cfg, Database: a.Database, Cluster: a.Cluster, Pipeline: a.Pipeline, CopyVaultArn: copyVaultArn})
	if a.BackupCopy != nil {
		a.Operations.AddStackDependency(a.BackupCopy.Stack, str("the backup plan copies into the copy region's vault"))
	}
	suppress(a)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return a, nil
}

// promotingAccounts are the accounts of the environments that run this one's images.
func promotingAccounts(node interface{ TryGetContext(*string) any }, name string) []string {
	envs, _ := node.TryGetContext(str("carthub:environments")).(map[string]any)
	var out []string
	for _, other := range sortedKeys(envs) {
		cfg, err := ForEnv(other)
		if err != nil || cfg.PromoteFrom != name {
			continue
		}
		e, _ := envs[other].(map[string]any)
		if account := asString(e["account"]); accountRe.MatchString(account) && !slices.Contains(out, account) {
			out = append(out, account)
		}
	}
	return out
}

// Stacks is every stack of the environment, in deploy order.
func (a *App) Stacks() []awscdk.Stack {
	out := []awscdk.Stack{a.Network.Stack, a.Registry.Stack}
	out = append(out, a.Database.Stack, a.Cluster.Stack, a.Pipeline.Stack)
	if a.BackupCopy != nil {
		out = append(out, a.BackupCopy.Stack)
	}
	return append(out, a.Operations.Stack)
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
