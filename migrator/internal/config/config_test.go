package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolve(t *testing.T) {
	tests := []struct {
		name        string
		flag        string
		env         map[string]string
		wantDisplay string
		wantSSL     string
	}{
		{"flag_beats_env", "postgres://a:pw@flag-host/db1", map[string]string{"DATABASE_URL": "postgres://b:pw@env-host/db2"}, "a@flag-host:5432/db1", "verify-full"},
		{"database_url_beats_db_vars", "", map[string]string{"DATABASE_URL": "postgres://b:pw@env-host/db2", "DB_HOST": "other"}, "b@env-host:5432/db2", "verify-full"},
		{"db_vars", "", map[string]string{"DB_HOST": "db.internal", "DB_USERNAME": "app", "DB_PASSWORD": "p@ss:w/rd"}, "app@db.internal:5432/carthub", "verify-full"},
		{"local_host_prefers_tls", "", map[string]string{"DB_HOST": "127.0.0.1", "DB_PORT": "6543", "DB_NAME": "x", "DB_USERNAME": "app"}, "app@127.0.0.1:6543/x", "prefer"},
		{"explicit_sslmode_kept", "", map[string]string{"DATABASE_URL": "postgres://a:pw@remote/db?sslmode=disable"}, "a@remote:5432/db", "disable"},
		{"keyword_value", "", map[string]string{"DATABASE_URL": "host=localhost user=k dbname=kv password=secret1"}, "k@localhost:5432/kv", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := Resolve(tt.flag, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if tg.Display != tt.wantDisplay {
				t.Errorf("Display = %q, want %q", tg.Display, tt.wantDisplay)
			}
			if tt.wantSSL != "" && sslModeIn(tg.ConnString) != tt.wantSSL {
				t.Errorf("sslmode = %q, want %q", sslModeIn(tg.ConnString), tt.wantSSL)
			}
			if tg.Config.Password != "" && !slices.Contains(tg.Secrets, tg.Config.Password) {
				t.Errorf("password not registered as a secret")
			}
		})
	}
}

func TestResolveErrorsAreConfigErrorsWithoutPasswords(t *testing.T) {
	for _, raw := range []string{"postgres://u:Sup3rSecret@h:port/db", "postgres://u:Sup3rSecret@/db", "host=h password=Sup3rSecret sslmode=maybe"} {
		_, err := Resolve("", env(map[string]string{"DATABASE_URL": raw}))
		var cfgErr *Error
		if !errors.As(err, &cfgErr) {
			t.Errorf("%q: error %v is not a config error", raw, err)
			continue
		}
		if strings.Contains(err.Error(), "Sup3rSecret") {
			t.Errorf("password in error: %v", err)
		}
	}
}
