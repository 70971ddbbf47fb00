package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/carthub/carthub-db/migrator/internal/awsdb"
	"github.com/carthub/carthub-db/migrator/internal/config"
)

// awsSettings are the flags for RDS: the instance, its snapshots, IAM authentication.
type awsSettings struct {
	instance          string
	snapshot          string // auto, true, false
	snapshotRetention int
	snapshotTimeout   time.Duration
	snapshotPrefix    string
	instanceWait      time.Duration
	pollEvery         time.Duration
	iamAuth           bool

	helper *awsdb.Helper // found on first use: a run that needs no AWS never starts it
}

// add registers the flags every command that connects has.
func (s *awsSettings) add(flags *flagSet) {
	flags.stringVar(&s.instance, "db-instance", "DB_INSTANCE_IDENTIFIER", "", "RDS instance identifier: host and port for a managed master secret; availability check and snapshots for up")
	flags.boolVar(&s.iamAuth, "iam-auth", "DB_IAM_AUTH", false, "use an IAM authentication token, made fresh for each connection, as the password")
	flags.stringVar(&s.snapshotPrefix, "snapshot-prefix", "MIGRATOR_SNAPSHOT_PREFIX", awsdb.DefaultSnapshotPrefix, "name prefix of pre-migration snapshots")
	s.pollEvery = 10 * time.Second
	if v := flags.a.getenv("MIGRATOR_AWS_POLL"); v != "" { // tests against the emulator poll faster
		if d, err := time.ParseDuration(v); err == nil {
			s.pollEvery = d
		}
	}
}

// addSnapshots registers the flags of commands that apply migrations.
func (s *awsSettings) addSnapshots(flags *flagSet) {
	flags.stringVar(&s.snapshot, "snapshot", "MIGRATOR_SNAPSHOT", "auto", "take an RDS snapshot before applying: auto (when --db-instance is set), true, false")
	flags.intVar(&s.snapshotRetention, "snapshot-retention", "MIGRATOR_SNAPSHOT_RETENTION", 5, "pre-migration snapshots to keep; older ones with our tag are deleted (0: delete none)")
	flags.durationVar(&s.snapshotTimeout, "snapshot-timeout", "MIGRATOR_SNAPSHOT_TIMEOUT", 30*time.Minute, "wait this long for the snapshot to become available")
	flags.durationVar(&s.instanceWait, "instance-wait", "MIGRATOR_INSTANCE_WAIT", 15*time.Minute, "wait this long for a busy instance (backing-up, modifying, ...)")
}

// validate checks the combination of settings.
func (s *awsSettings) validate() error {
	switch s.snapshot {
	case "", "auto", "false":
	case "true":
		if s.instance == "" {
			return &config.Error{Msg: "MIGRATOR_SNAPSHOT=true needs the instance to snapshot: set DB_INSTANCE_IDENTIFIER (--db-instance)"}
		}
	default:
		return usagef("--snapshot %q: use auto, true or false", s.snapshot)
	}
	if s.snapshotPrefix != "" && !awsdb.ValidSnapshotPrefix(s.snapshotPrefix) {
		return usagef("--snapshot-prefix %q: lower-case letters, digits and single hyphens, starting with a letter", s.snapshotPrefix)
	}
	if s.snapshotRetention < 0 {
		return usagef("--snapshot-retention must not be negative")
	}
	return nil
}

// snapshots reports whether a run that applies something takes a snapshot first.
func (s *awsSettings) snapshots() bool {
	return s.instance != "" && (s.snapshot == "" || s.snapshot == "auto" || s.snapshot == "true")
}

// aws returns the AWS helper, finding it on first use. regionHint is the region of a secret ARN.
func (a *app) aws(ctx context.Context, regionHint string) (*awsdb.Helper, error) {
	if a.awsSettings.helper != nil {
		if a.awsSettings.helper.RegionHint == "" {
			a.awsSettings.helper.RegionHint = regionHint
		}
		return a.awsSettings.helper, nil
	}
	path, err := awsdb.FindHelper()
	if err != nil {
		return nil, err
	}
	region := a.getenv("AWS_REGION")
	if region == "" {
		region = a.getenv("AWS_DEFAULT_REGION")
	}
	a.awsSettings.helper = &awsdb.Helper{Path: path, Region: region, RegionHint: regionHint, Log: a.log}
	return a.awsSettings.helper, nil
}

// fromSecret builds the target from the Secrets Manager secret: the generated RDS secret has
// everything; the RDS-managed master secret has only the user and password, and the host and
// port then come from the instance.
func (a *app) fromSecret(ctx context.Context, arn string) (*config.Target, error) {
	start := time.Now()
	c, err := a.aws(ctx, awsdb.RegionOfARN(arn))
	if err != nil {
		return nil, err
	}
	sec, err := c.ReadSecret(ctx, arn)
	if err != nil {
		return nil, err
	}
	a.redactor.Add(sec.Password)
	p := config.PartsFromEnv(a.getenv)
	p.User, p.Password = sec.Username, sec.Password
	if sec.DBName != "" {
		p.Name = sec.DBName
	}
	if sec.Host != "" {
		p.Host, p.Port = sec.Host, ""
		if sec.Port != 0 {
			p.Port = strconv.Itoa(sec.Port)
		}
	} else {
		if a.awsSettings.instance == "" {
			return nil, &config.Error{Msg: fmt.Sprintf("secret %s has no host (an RDS-managed master secret): set DB_INSTANCE_IDENTIFIER "+
				"so that the host and port come from the instance", arn)}
		}
		inst, err := c.DescribeInstance(ctx, a.awsSettings.instance)
		if err != nil {
			return nil, err
		}
		if inst.Address == "" {
			return nil, &awsdb.Error{Kind: awsdb.KindUnavailable, Msg: fmt.Sprintf("RDS instance %s has no endpoint yet (status %s)", inst.ID, inst.Status)}
		}
		p.Host, p.Port = inst.Address, strconv.Itoa(inst.Port)
	}
	t, err := config.FromParts(p, "DB_SECRET_ARN")
	if err != nil {
		return nil, err
	}
	a.step(ctx, "read secret", start, "secret", arn, "target", t.Display)
	return t, nil
}

// iamPassword returns a function that makes a fresh IAM token for each connection attempt.
func (a *app) iamPassword(t *config.Target) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		c, err := a.aws(ctx, "")
		if err != nil {
			return "", err
		}
		tok, err := c.AuthToken(ctx, t.Config.Host, int(t.Config.Port), t.Config.User)
		if err != nil {
			return "", err
		}
		a.redactor.Add(tok)
		return tok, nil
	}
}

// restorePoint describes the newest pre-migration snapshot for status.
func (a *app) restorePoint(ctx context.Context) string {
	c, err := a.aws(ctx, "")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	snaps, err := c.Snapshots(ctx, a.awsSettings.instance, a.awsSettings.snapshotPrefix)
	switch {
	case err != nil:
		return "unknown (" + err.Error() + ")"
	case len(snaps) == 0:
		return "none yet (one is taken before the next migration is applied)"
	}
	s := snaps[0]
	return fmt.Sprintf("%s (%s, taken %s before applying %04d..%04d; %d kept)", s.ID, s.Status,
		s.Created.UTC().Format(time.RFC3339), s.From+1, s.To, len(snaps))
}
