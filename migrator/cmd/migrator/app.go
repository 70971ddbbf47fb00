package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/internal/config"
	"github.com/carthub/carthub-db/migrator/internal/dbconn"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/redact"
	"github.com/carthub/carthub-db/migrator/internal/schema"

	"github.com/carthub/carthub-db/names"
)

var errHelp = errors.New("help shown")

// errLoad marks a problem with the migration files themselves (exit 2).
var errLoad = errors.New("migration files")

// app is what every command shares: the environment, output streams, logger and settings.
type app struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	redactor       *redact.Redactor
	log            *slog.Logger
	summary        string // one line for the termination log on success

	databaseURL      string
	databaseURLGiven bool // --database-url was on the command line (else DATABASE_URL set it, or nothing)
	connectTimeout   time.Duration
	lockTimeout      time.Duration
	statementTimeout time.Duration
	writable         bool // the command writes (up, down): a read-only standby is not the target yet
	logFormat        string
	logLevel         string
	dir              string
	awsSettings      awsSettings
	jsonLogs         bool       // the logs are JSON (the Job's format): the run ends with a metrics line
	metrics          runMetrics // what that line reports
}

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, a *app, args []string) error
}

var commands = []command{
	{"up", "[flags]", "apply pending migrations, then seed, verify and clean up", cmdUp},
	{"status", "[flags]", "list applied and pending migrations with their checksums", cmdStatus},
	{"plan", "[flags]", "print the SQL that up would run, without running it", cmdPlan},
	{"verify", "[flags]", "compare the live schema with the expected schema", cmdVerify},
	{"down", "--to VERSION --yes [flags]", "revert migrations above VERSION using their down parts", cmdDown},
	{"lint", "[flags]", "prove migrations online-safe by running them on a scratch database with data", cmdLint},
	{"capture-queries", "[--out FILE] [flags]", "merge the statements production runs (pg_stat_statements) into lint's queries.sql", cmdCaptureQueries},
	{"shape", "[--out FILE] [flags]", "write the shape of a live database's tables from its statistics (never a row) for lint --shape", cmdShape},
	{"create", "NAME [--dir DIR]", "write a new migration file with the next version number", cmdCreate},
	{"version", "", "print the migrator's version and its embedded migrations", cmdVersion},
}

func (a *app) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			return a.dispatch(ctx, []string{args[1], "--help"})
		}
		a.usage(a.stdout)
		if len(args) == 0 {
			return usagef("no command given")
		}
		return errHelp
	}
	for _, c := range commands {
		if c.name == args[0] {
			if c.name == "up" || c.name == "down" || c.name == "verify" {
				a.metrics = runMetrics{command: c.name, started: time.Now()}
			}
			return c.run(ctx, a, args[1:])
		}
	}
	return usagef("unknown command %q: run `migrator --help` for the list", args[0])
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintf(w, "migrator applies the Carthub schema migrations to PostgreSQL.\n\nUsage: migrator COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun `migrator COMMAND --help` for a command's flags. Exit codes: 0 done, 1 migration failed, "+
		"2 usage or configuration, 3 cannot connect, connection lost or a read-only standby (transient: retry), 4 lock not acquired, 5 drift or verification failure, "+
		"7 pending (status --exit-code), 8 lint found an unsafe migration, 130/143 interrupted.\n")
}

// flags builds a command's flag set with the flags every command shares; the help shows each
// flag's environment variable.
func (a *app) flags(name, args, summary string, withDB bool) *flagSet {
	f := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), a: a}
	f.SetOutput(io.Discard)
	f.Usage = func() {
		fmt.Fprintf(a.stdout, "Usage: migrator %s %s\n\n%s\n\nFlags (environment variable in brackets):\n", name, args, summary)
		f.SetOutput(a.stdout)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
	f.stringVar(&a.logFormat, "log-format", "MIGRATOR_LOG_FORMAT", "auto", "log format: auto (text on a terminal, else json), json or text")
	f.stringVar(&a.logLevel, "log-level", "MIGRATOR_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	f.stringVar(&a.dir, "dir", "MIGRATOR_DIR", "", "read migrations and schema snapshots from this directory instead of the embedded ones")
	if withDB {
		f.stringVar(&a.databaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL; else DB_HOST, DB_PORT, DB_NAME, DB_USERNAME, DB_PASSWORD, DB_SSLMODE, DB_SSLROOTCERT")
		f.durationVar(&a.connectTimeout, "connect-timeout", "MIGRATOR_CONNECT_TIMEOUT", time.Minute, "keep retrying the connection this long")
		f.durationVar(&a.lockTimeout, "lock-timeout", "MIGRATOR_LOCK_TIMEOUT", 5*time.Second, "lock_timeout of every migration statement")
		f.durationVar(&a.statementTimeout, "statement-timeout", "MIGRATOR_STATEMENT_TIMEOUT", 30*time.Minute, "statement_timeout of every migration statement")
		a.awsSettings.add(f)
	}
	return f
}

// flagSet is a command's flags, each bound to the environment variable that sets it when the
// command line does not: a Job is configured by its environment alone, and a flag wins.
type flagSet struct {
	*flag.FlagSet
	a        *app
	bindings []binding // in the order the flags were defined
}

// binding ties a flag to its environment variable.
type binding struct{ flag, env string }

func (f *flagSet) bind(name, env string) { f.bindings = append(f.bindings, binding{name, env}) }

func (f *flagSet) stringVar(p *string, name, env, def, usage string) {
	f.StringVar(p, name, def, usage+" ["+env+"]")
	f.bind(name, env)
}

func (f *flagSet) durationVar(p *time.Duration, name, env string, def time.Duration, usage string) {
	f.DurationVar(p, name, def, usage+" ["+env+"]")
	f.bind(name, env)
}

func (f *flagSet) boolVar(p *bool, name, env string, def bool, usage string) {
	f.BoolVar(p, name, def, usage+" ["+env+"]")
	f.bind(name, env)
}

func (f *flagSet) float64Var(p *float64, name, env string, def float64, usage string) {
	f.Float64Var(p, name, def, usage+" ["+env+"]")
	f.bind(name, env)
}

func (f *flagSet) int64Var(p *int64, name, env string, def int64, usage string) {
	f.Int64Var(p, name, def, usage+" ["+env+"]")
	f.bind(name, env)
}

func (f *flagSet) intVar(p *int, name, env string, def int, usage string) {
	f.IntVar(p, name, def, usage+" ["+env+"]")
	f.bind(name, env)
}

// parse parses args (flags and positional arguments in any order), then applies the
// environment to the flags the command line left unset, validates every value once, naming
// where each bad one came from, and sets up logging. Nothing connects before this returns.
func (f *flagSet) parse(args []string) ([]string, error) {
	var positional []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp // the flag package has printed the usage
			}
			return nil, usagef("%s: %v (run `migrator %s --help`)", f.Name(), err, f.Name())
		}
		if f.NArg() == 0 {
			break
		}
		positional = append(positional, f.Arg(0))
		args = f.Args()[1:]
	}
	sources, err := f.applyEnv()
	if err != nil {
		return nil, err
	}
	f.a.databaseURLGiven = strings.HasPrefix(sources["database-url"], "--")
	if err := f.validate(sources); err != nil {
		return nil, err
	}
	if err := f.a.awsSettings.validate(); err != nil {
		return nil, err
	}
	return positional, f.a.setupLog()
}

// applyEnv sets each flag the command line did not give from its environment variable, and
// returns where every set flag's value came from ("--name" or "VARIABLE=value").
func (f *flagSet) applyEnv() (map[string]string, error) {
	sources := map[string]string{}
	f.Visit(func(fl *flag.Flag) { sources[fl.Name] = "--" + fl.Name + " " + fl.Value.String() })
	var bad []string
	for _, b := range f.bindings {
		v := f.a.getenv(b.env)
		if _, given := sources[b.flag]; given || v == "" {
			continue
		}
		if err := f.Set(b.flag, v); err != nil {
			bad = append(bad, fmt.Sprintf("%s=%q is not %s", b.env, v, expected(f.Lookup(b.flag))))
			continue
		}
		sources[b.flag] = fmt.Sprintf("%s=%s", b.env, v)
	}
	if len(bad) > 0 {
		return nil, &config.Error{Msg: strings.Join(bad, "; ")}
	}
	return sources, nil
}

// validate is the one check of values every command shares: no negative duration or count,
// whether it came from a flag or from the environment.
func (f *flagSet) validate(sources map[string]string) error {
	var negative []string
	f.VisitAll(func(fl *flag.Flag) {
		source, set := sources[fl.Name]
		if !set {
			return
		}
		switch v := fl.Value.(flag.Getter).Get().(type) {
		case time.Duration:
			if v < 0 {
				negative = append(negative, source)
			}
		case int:
			if v < 0 {
				negative = append(negative, source)
			}
		}
	})
	if len(negative) > 0 {
		return usagef("%s: must not be negative", strings.Join(negative, ", "))
	}
	// PostgreSQL reads 0 as "no limit": a migration statement would wait, or run, for ever.
	for _, name := range []string{"lock-timeout", "statement-timeout"} {
		if source, set := sources[name]; set {
			if fl := f.Lookup(name); fl != nil && fl.Value.(flag.Getter).Get() == time.Duration(0) {
				return usagef("%s: 0 would mean no limit at all; give a duration (the default is %s)", source, fl.DefValue)
			}
		}
	}
	return nil
}

// expected says what kind of value a flag takes, for an environment variable that is not one.
func expected(fl *flag.Flag) string {
	switch fl.Value.(flag.Getter).Get().(type) {
	case time.Duration:
		return "a duration (e.g. 30s, 5m)"
	case bool:
		return "true or false"
	case int:
		return "a non-negative whole number"
	}
	return "valid"
}

// parseFlags is parse for commands that take no positional arguments.
func (flags *flagSet) parseFlags(args []string) error {
	rest, err := flags.parse(args)
	if err == nil && len(rest) > 0 {
		err = usagef("%s takes no argument %q (flags start with --; run `migrator %s --help`)", flags.Name(), rest[0], flags.Name())
	}
	return err
}

func (a *app) setupLog() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return usagef("--log-level %q: use debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: a.redactor.ReplaceAttr}
	format := a.logFormat
	if format == "auto" {
		format = "json"
		if f, ok := a.stderr.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	switch format {
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
		a.jsonLogs = true
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
	default:
		return usagef("--log-format %q: use auto, json or text", a.logFormat)
	}
	return nil
}

// step logs the end of one step of the process with its duration.
func (a *app) step(ctx context.Context, name string, start time.Time, attrs ...any) {
	ms := msSince(start)
	if a.metrics.stepMs == nil {
		a.metrics.stepMs = map[string]float64{}
	}
	a.metrics.stepMs[name] += ms
	a.log.InfoContext(ctx, "step done", append([]any{"step", name, "duration_ms", ms}, attrs...)...)
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// source returns the migration files and the two schema snapshots: embedded, or from --dir.
func (a *app) source() (fs.FS, string, string, error) {
	if a.dir == "" {
		return migrations.FS, migrations.ExpectedSchema, migrations.BaselineSchema, nil
	}
	if st, err := os.Stat(a.dir); err != nil || !st.IsDir() {
		why := "is not a directory"
		if err != nil {
			why = "cannot be read: " + errors.Unwrap(err).Error()
		}
		return nil, "", "", fmt.Errorf("%w: --dir %s %s (give the directory that holds the NNNN_name.sql files)", errLoad, a.dir, why)
	}
	fsys := os.DirFS(a.dir)
	expected, err := readCompanion(a.dir, "schema.sql")
	if err != nil {
		return nil, "", "", err
	}
	baseline, err := readCompanion(a.dir, "baseline-schema.sql")
	if err != nil {
		return nil, "", "", err
	}
	return fsys, expected, baseline, nil
}

// readCompanion reads a snapshot beside the migrations ("" when there is none); like a migration,
// it must be a regular file.
func readCompanion(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err == nil && !st.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s is not a regular file: the schema snapshots must be plain files inside --dir", errLoad, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errLoad, err)
	}
	return string(b), nil
}

// project is everything known before touching the database.
type project struct {
	migrations []migrate.Migration
	expected   schema.Snapshot
	baseline   schema.Snapshot
}

func (a *app) load() (*project, error) {
	fsys, expected, baseline, err := a.source()
	if err != nil {
		return nil, err
	}
	p := &project{}
	if p.migrations, err = migrate.Load(fsys); err != nil {
		return nil, fmt.Errorf("%w: %v", errLoad, err)
	}
	if p.expected, err = schema.Parse(expected); err != nil {
		return nil, fmt.Errorf("%w: schema.sql: %v", errLoad, err)
	}
	if p.baseline, err = schema.Parse(baseline); err != nil {
		return nil, fmt.Errorf("%w: baseline-schema.sql: %v", errLoad, err)
	}
	return p, nil
}

// connect resolves the target and opens the one connection the command uses.
func (a *app) connect(ctx context.Context) (*pgx.Conn, *config.Target, error) {
	start := time.Now()
	flagURL := a.databaseURL
	if !a.databaseURLGiven {
		flagURL = "" // DATABASE_URL filled the flag: Resolve reads it again and names it as the source
	}
	t, err := config.Resolve(flagURL, a.getenv)
	if err != nil {
		return nil, nil, err
	}
	if t.SecretARN != "" {
		if t, err = a.fromSecret(ctx, t.SecretARN); err != nil {
			return nil, nil, err
		}
	}
	a.redactor.Add(t.Secrets...)
	var password func(context.Context) (string, error)
	if a.awsSettings.iamAuth {
		password = a.iamPassword(t)
	}
	conn, err := dbconn.Connect(ctx, t, dbconn.Options{
		Timeout:  a.connectTimeout,
		Logger:   a.log,
		Password: password,
		Writable: a.writable,
		Settings: map[string]string{
			"application_name":  names.Application,
			"timezone":          "UTC", // 0002 relies on it to convert timestamps without a rewrite
			"lock_timeout":      strconv.FormatInt(a.lockTimeout.Milliseconds(), 10),
			"statement_timeout": strconv.FormatInt(a.statementTimeout.Milliseconds(), 10),
		},
	})
	if err != nil {
		return nil, nil, err
	}
	a.step(ctx, "connect", start, "target", t.Display, "server_version", conn.PgConn().ParameterStatus("server_version"))
	return conn, t, nil
}

// session is what a command that talks to the database works with.
type session struct {
	conn    *pgx.Conn
	target  *config.Target
	project *project
	m       *migrate.Migrator
}

// open loads the migrations and opens a session: the start of the read-only commands.
func (a *app) open(ctx context.Context) (*session, error) {
	p, err := a.load()
	if err != nil {
		return nil, err
	}
	return a.session(ctx, p, lockFlags{})
}

// session connects and builds the engine for an already loaded project (commands that check
// their flags against the migrations before connecting load first). The caller closes s.conn.
func (a *app) session(ctx context.Context, p *project, lock lockFlags) (*session, error) {
	conn, t, err := a.connect(ctx)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	m, err := migrate.New(conn, migrate.Options{
		Migrations:   p.migrations,
		Baseline:     p.baseline,
		Tables:       p.expected.Tables(),
		LockWait:     lock.wait,
		LockRetries:  lock.retries,
		RetryBackoff: lock.backoff,
		WaitReport:   lock.report,
		AppliedBy:    fmt.Sprintf("%s %s on %s", names.Application, version, host),
		Logger:       a.log,
	})
	if err != nil {
		closeConn(conn)
		return nil, err
	}
	return &session{conn: conn, target: t, project: p, m: m}, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}
