package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carthub/carthub-db/migrator/internal/pgserver"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// Against RDS the migrator uses sslmode=verify-full with the RDS CA bundle. Here the test server
// has a certificate from a throwaway CA, which plays the part of the bundle.
func TestVerifiedTLS(t *testing.T) {
	ca := pgtest.CAFile(t)
	u, _ := url.Parse(pgtest.NewDB(t))
	pw, _ := u.User.Password()
	env := map[string]string{"DB_HOST": "localhost", "DB_PORT": u.Port(), "DB_NAME": strings.TrimPrefix(u.Path, "/"),
		"DB_USERNAME": u.User.Username(), "DB_PASSWORD": pw, "DB_SSLMODE": "verify-full", "DB_SSLROOTCERT": ca,
		"MIGRATOR_CONNECT_TIMEOUT": "1s"}
	mustCode(t, cli(t, env, "up"), 0)

	// Another CA: the certificate cannot be verified, and waiting will not fix that.
	other, err := pgserver.WriteTLS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := cli(t, withEnv(env, "DB_SSLROOTCERT", other), "status")
	mustCode(t, r, 3)
	if !strings.Contains(r.stderr, "TLS certificate could not be verified") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	mustCode(t, cli(t, withEnv(env, "DB_SSLROOTCERT", filepath.Join(t.TempDir(), "missing.pem")), "status"), 2)
}
