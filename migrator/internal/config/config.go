// Package config turns flags and environment variables into one database target. Precedence:
// the --database-url flag, then DATABASE_URL, then DB_SECRET_ARN, then the DB_* variables.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/redact"
)

// Error is a configuration mistake the user must fix; the CLI exits with code 2.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Target is a resolved database to connect to.
type Target struct {
	ConnString string   // never print it: it may hold the password
	Display    string   // user@host:port/dbname, safe to log
	Source     string   // where it came from, e.g. "DATABASE_URL"
	Secrets    []string // values to scrub from all output
	Config     *pgx.ConnConfig
	// SecretARN is set, and the fields above are empty, when the credentials are still to be
	// read from Secrets Manager (DB_SECRET_ARN).
	SecretARN string
}

// SSLModes are the values PostgreSQL accepts for sslmode.
var SSLModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// Resolve picks the target from the flag value or the environment (getenv is os.Getenv in the CLI).
func Resolve(flagURL string, getenv func(string) string) (*Target, error) {
	if flagURL != "" {
		return fromURL(flagURL, "--database-url")
	}
	if u := getenv("DATABASE_URL"); u != "" {
		return fromURL(u, "DATABASE_URL")
	}
	if arn := getenv("DB_SECRET_ARN"); arn != "" {
		return &Target{SecretARN: arn, Source: "DB_SECRET_ARN"}, nil
	}
	for _, k := range []string{"DB_HOST", "DB_PORT", "DB_NAME", "DB_USERNAME", "DB_PASSWORD"} {
		if getenv(k) != "" {
			return fromParts(getenv)
		}
	}
	return nil, errorf("DATABASE_URL or DB_SECRET_ARN must be set (or DB_HOST, DB_USERNAME and DB_PASSWORD): " +
		"the migrator has no database to connect to; for a local try, run `make run`")
}

func fromURL(raw, source string) (*Target, error) {
	secrets := passwordsIn(raw)
	if !strings.Contains(raw, "://") && !strings.Contains(raw, "=") {
		return nil, errorf("%s is neither a postgres:// URL nor a keyword=value connection string: "+
			"expected postgres://USER:PASSWORD@HOST:5432/DBNAME?sslmode=verify-full", source)
	}
	if strings.Contains(raw, "://") {
		if unescapedInPassword(raw) {
			// postgres://u:abc@SECRET/x@host/db parses, with a piece of the password as the host:
			// refused without echoing any of it.
			return nil, errorf("%s: the password (or user name) holds an unescaped '@', '/', '?' or '#': percent-encode them "+
				"(%%40, %%2F, %%3F, %%23), e.g. with python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=\"\"))' PASSWORD", source)
		}
		u, err := url.Parse(raw)
		if err != nil {
			reason := err.Error()
			if ue, ok := err.(*url.Error); ok {
				reason = ue.Err.Error() // the url.Error itself repeats the URL, password and all
			}
			return nil, errorf("%s is not a valid PostgreSQL URL (%s): expected postgres://USER:PASSWORD@HOST:5432/DBNAME?sslmode=verify-full; "+
				"special characters in the password must be percent-encoded", source, reason)
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return nil, errorf("%s must start with postgres:// or postgresql://, not %s://", source, u.Scheme)
		}
		if u.Host == "" {
			return nil, errorf("%s has no host: expected postgres://USER:PASSWORD@HOST:5432/DBNAME", source)
		}
		if !u.Query().Has("sslmode") {
			q := u.Query()
			q.Set("sslmode", defaultSSLMode(u.Hostname()))
			u.RawQuery = q.Encode()
			raw = u.String()
		}
	}
	if m := sslModeIn(raw); m != "" && !validSSLMode(m) {
		return nil, errorf("%s has sslmode=%q: use one of %s", source, m, strings.Join(SSLModes, ", "))
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, errorf("%s is not a valid connection string: %s", source, scrub(err.Error(), secrets))
	}
	return newTarget(cfg, raw, source, secrets), nil
}

// Parts are the pieces of a connection when there is no URL: from the DB_* variables or from a
// Secrets Manager secret.
type Parts struct {
	Host, Port, Name, User, Password string
	SSLMode, SSLRootCert             string
}

// PartsFromEnv reads the DB_* variables.
func PartsFromEnv(getenv func(string) string) Parts {
	return Parts{Host: getenv("DB_HOST"), Port: getenv("DB_PORT"), Name: getenv("DB_NAME"), User: getenv("DB_USERNAME"),
		Password: getenv("DB_PASSWORD"), SSLMode: getenv("DB_SSLMODE"), SSLRootCert: getenv("DB_SSLROOTCERT")}
}

func fromParts(getenv func(string) string) (*Target, error) {
	p := PartsFromEnv(getenv)
	if p.Host == "" {
		return nil, errorf("DB_HOST must be set when DB_* variables are used (or set DATABASE_URL instead)")
	}
	if p.User == "" {
		return nil, errorf("DB_USERNAME must be set when DB_HOST is")
	}
	return FromParts(p, "DB_HOST/DB_USERNAME/DB_PASSWORD")
}

// RDSCABundle is where the image keeps the RDS certificate authorities; it is used for
// verify-ca and verify-full when DB_SSLROOTCERT names no other file.
const RDSCABundle = "/etc/ssl/certs/rds-global-bundle.pem"

// FromParts validates parts and builds a target; source names them in messages.
func FromParts(p Parts, source string) (*Target, error) {
	if p.Port == "" {
		p.Port = "5432"
	}
	if n, err := strconv.Atoi(p.Port); err != nil || n < 1 || n > 65535 {
		return nil, errorf("DB_PORT=%q is not a port number (1-65535)", p.Port)
	}
	if p.Name == "" {
		p.Name = "carthub"
	}
	if p.SSLMode == "" {
		p.SSLMode = defaultSSLMode(p.Host)
	}
	if !validSSLMode(p.SSLMode) {
		return nil, errorf("DB_SSLMODE=%q is not valid: use one of %s", p.SSLMode, strings.Join(SSLModes, ", "))
	}
	q := url.Values{"sslmode": {p.SSLMode}}
	if p.SSLRootCert == "" && strings.HasPrefix(p.SSLMode, "verify-") {
		if _, err := os.Stat(RDSCABundle); err == nil {
			p.SSLRootCert = RDSCABundle
		}
	}
	if p.SSLRootCert != "" {
		if _, err := os.Stat(p.SSLRootCert); err != nil {
			return nil, errorf("DB_SSLROOTCERT=%q cannot be read: %v", p.SSLRootCert, err)
		}
		q.Set("sslrootcert", p.SSLRootCert)
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(p.User, p.Password), Host: net.JoinHostPort(p.Host, p.Port),
		Path: "/" + p.Name, RawQuery: q.Encode()}
	if p.Password == "" {
		u.User = url.User(p.User)
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, errorf("%s do not make a valid connection: %s", source, scrub(err.Error(), []string{p.Password}))
	}
	return newTarget(cfg, u.String(), source, []string{p.Password}), nil
}

func newTarget(cfg *pgx.ConnConfig, conn, source string, secrets []string) *Target {
	if cfg.Password != "" {
		secrets = append(secrets, cfg.Password)
	}
	return &Target{ConnString: conn, Config: cfg, Source: source, Secrets: secrets,
		Display: fmt.Sprintf("%s@%s/%s", cfg.User, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.Database)}
}

// defaultSSLMode encrypts and verifies everything that leaves the machine; a local server
// (tests, `make run`) may go without TLS.
func defaultSSLMode(host string) string {
	if IsLocal(host) {
		return "prefer"
	}
	return "verify-full"
}

// IsLocal reports a loopback address, localhost or a Unix socket directory.
func IsLocal(host string) bool {
	if host == "" || host == "localhost" || strings.HasPrefix(host, "/") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func validSSLMode(m string) bool {
	for _, v := range SSLModes {
		if m == v {
			return true
		}
	}
	return false
}

// sslModeIn finds sslmode in a URL query or a keyword=value string.
func sslModeIn(raw string) string {
	if strings.Contains(raw, "://") {
		if u, err := url.Parse(raw); err == nil {
			return u.Query().Get("sslmode")
		}
		return ""
	}
	for _, f := range strings.Fields(raw) {
		if v, ok := strings.CutPrefix(f, "sslmode="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

// unescapedInPassword reports a URL whose user information (everything before its last '@',
// outside the query) holds a character that ends it early: the URL would parse with a piece of
// the password as its host or path.
func unescapedInPassword(raw string) bool {
	rest := raw[strings.Index(raw, "://")+3:]
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q]
	}
	at := strings.LastIndex(rest, "@")
	return at >= 0 && strings.ContainsAny(rest[:at], "@/?#")
}

// passwordsIn pulls a password out of a connection string, even a malformed one, so that it can
// be scrubbed from any message about that string.
func passwordsIn(raw string) []string {
	var out []string
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok && pw != "" {
				out = append(out, pw)
				if dec, err := url.PathUnescape(pw); err == nil && dec != pw {
					out = append(out, dec)
				}
			}
		}
	}
	for _, f := range strings.Fields(raw) {
		if v, ok := strings.CutPrefix(f, "password="); ok && v != "" {
			out = append(out, strings.Trim(v, "'"))
		}
	}
	return out
}

func scrub(s string, secrets []string) string {
	var r redact.Redactor
	r.Add(secrets...)
	return r.String(s)
}
