package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

func TestBadConfiguration(t *testing.T) {
	good := pgtest.NewDB(t)
	u, _ := url.Parse(good)
	wrongPassword := *u
	wrongPassword.User = url.UserPassword(u.User.Username(), "not-the-password-4711")
	tests := []struct {
		name string
		env  map[string]string
		code int
		want string
	}{
		{"nothing_set", map[string]string{}, 2, "DATABASE_URL or DB_SECRET_ARN must be set"},
		{"malformed_url", map[string]string{"DATABASE_URL": "postgres://app:hunter2-secret@db.example:notaport/carthub"}, 2, "DATABASE_URL is not a valid PostgreSQL URL"},
		{"not_a_url", map[string]string{"DATABASE_URL": "db.example/carthub"}, 2, "DATABASE_URL is neither a postgres:// URL nor"},
		{"wrong_scheme", map[string]string{"DATABASE_URL": "mysql://app:hunter2-secret@db/carthub"}, 2, "DATABASE_URL must start with postgres://"},
		{"bad_sslmode_in_url", map[string]string{"DATABASE_URL": "postgres://app:hunter2-secret@db/carthub?sslmode=sometimes"}, 2, `sslmode="sometimes"`},
		{"bad_db_sslmode", map[string]string{"DB_HOST": "127.0.0.1", "DB_USERNAME": "app", "DB_PASSWORD": "hunter2-secret", "DB_SSLMODE": "sometimes"}, 2, "DB_SSLMODE=\"sometimes\" is not valid"},
		{"bad_db_port", map[string]string{"DB_HOST": "127.0.0.1", "DB_USERNAME": "app", "DB_PASSWORD": "hunter2-secret", "DB_PORT": "five"}, 2, "DB_PORT=\"five\""},
		{"db_host_without_user", map[string]string{"DB_HOST": "127.0.0.1"}, 2, "DB_USERNAME must be set"},
		{"bad_duration", map[string]string{"DATABASE_URL": good, "MIGRATOR_LOCK_WAIT": "forever"}, 2, "MIGRATOR_LOCK_WAIT=\"forever\""},
		{"unknown_host", map[string]string{"DATABASE_URL": "postgres://app:hunter2-secret@no-such-host.invalid:5432/carthub?sslmode=disable"}, 3, "not found in DNS"},
		{"nothing_listening", map[string]string{"DATABASE_URL": "postgres://app:hunter2-secret@127.0.0.1:1/carthub"}, 3, "connection refused"},
		{"wrong_password", map[string]string{"DATABASE_URL": wrongPassword.String()}, 3, "rejected the credentials"},
		{"wrong_password_db_vars", map[string]string{"DB_HOST": u.Hostname(), "DB_PORT": u.Port(), "DB_NAME": strings.TrimPrefix(u.Path, "/"),
			"DB_USERNAME": u.User.Username(), "DB_PASSWORD": "not-the-password-4711"}, 3, "rejected the credentials"},
		{"missing_database", map[string]string{"DATABASE_URL": pgtest.WithDatabase(good, "no_such_db")}, 3, "create the database or fix the database name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"MIGRATOR_CONNECT_TIMEOUT": "1s"}
			for k, v := range tt.env {
				env[k] = v
			}
			r := cli(t, env, "up")
			mustCode(t, r, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stack trace on a user error:\n%s", r.stderr)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	r := cli(t, nil, "--help")
	mustCode(t, r, 0)
	for _, c := range commands {
		if !strings.Contains(r.stdout, c.name) {
			t.Errorf("--help does not list %s", c.name)
		}
		h := cli(t, nil, c.name, "--help")
		mustCode(t, h, 0)
		if strings.Count(h.stdout, "Usage: migrator "+c.name) != 1 {
			t.Errorf("%s --help must print its usage once:\n%s", c.name, h.stdout)
		}
	}
	mustCode(t, cli(t, nil, "frobnicate"), 2)
	mustCode(t, cli(t, nil, "up", "--no-such-flag"), 2)
	v := cli(t, nil, "version")
	mustCode(t, v, 0)
	if !strings.Contains(v.stdout, "latest 0005_query_indexes.sql") {
		t.Errorf("version: %s", v.stdout)
	}
}

// Settings come from the environment unless the command line gives them; a bad value is a
// usage error before anything connects, naming where it came from (the flag or the variable);
// and zero means zero (no retry), not "use the default".
func TestSettingsNameTheirSource(t *testing.T) {
	unreachable := "postgres://u:secretpw@127.0.0.1:1/db?sslmode=disable"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"negative_flag", nil, []string{"--lock-wait=-1s"}, 2, "--lock-wait -1s: must not be negative"},
		{"negative_count_flag", nil, []string{"--lock-retries", "-1"}, 2, "--lock-retries -1: must not be negative"},
		{"negative_env", map[string]string{"MIGRATOR_CONNECT_TIMEOUT": "-5s"}, nil, 2, "MIGRATOR_CONNECT_TIMEOUT=-5s: must not be negative"},
		{"both_named", map[string]string{"MIGRATOR_LOCK_RETRIES": "-2"}, []string{"--lock-wait=-1s"}, 2,
			"MIGRATOR_LOCK_RETRIES=-2, --lock-wait -1s: must not be negative"},
		{"not_a_duration_env", map[string]string{"MIGRATOR_LOCK_WAIT": "forever"}, nil, 2, `MIGRATOR_LOCK_WAIT="forever" is not a duration`},
		{"flag_wins_over_env", map[string]string{"MIGRATOR_LOCK_WAIT": "-1s"}, []string{"--lock-wait=1s"}, 3, "connection refused"},
		{"url_from_env", map[string]string{"DATABASE_URL": "notaurl"}, nil, 2, "DATABASE_URL is neither a postgres:// URL"},
		{"url_from_flag", map[string]string{"DATABASE_URL": "notaurl"}, []string{"--database-url", "alsonot"}, 2, "--database-url is neither a postgres:// URL"},
		{"flag_wins_over_bad_env", map[string]string{"MIGRATOR_LOCK_WAIT": "forever"}, []string{"--lock-wait", "1s"}, 3, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": unreachable, "MIGRATOR_CONNECT_TIMEOUT": "1s"}
			for k, v := range tt.env {
				env[k] = v
			}
			r := cli(t, env, append([]string{"up"}, tt.args...)...)
			mustCode(t, r, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if tt.code == 2 && strings.Contains(r.stderr, "connection refused") {
				t.Errorf("connected before refusing the settings:\n%s", r.stderr)
			}
		})
	}
}
