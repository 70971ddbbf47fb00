// Package pgtest gives each test its own database on a real PostgreSQL: the server named by
// TEST_DATABASE_URL, or else a throwaway server that Main starts (PG_BINDIR picks the major
// version; `make test` runs the production one, 17).
//
// Like RDS, whose master user is not a superuser, each test database is owned by, and each test
// connects as, a role with CREATEDB and CREATEROLE and the rights rds_superuser lends
// (pg_monitor, pg_signal_backend), not a superuser. PGTEST_ROLE=superuser runs the tests as the
// superuser instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgserver"
)

// adminURL reaches the server with a role that may create databases; ownerURL with the role the
// tests run as (the RDS-like owner, or the superuser with PGTEST_ROLE=superuser).
var adminURL, ownerURL string

// srv is the server Main started (nil with TEST_DATABASE_URL).
var srv *pgserver.Server

// RestartServer stops the test server with a fast shutdown (every session is cut, as in a
// failover or a pg_ctl restart -m fast) and starts it again on the same port.
func RestartServer(t testing.TB) {
	t.Helper()
	if srv == nil {
		t.Skip("TEST_DATABASE_URL is set: this harness did not start the server")
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("pgtest: stop the server: %v", err)
	}
	next, err := pgserver.Start(context.Background(), pgserver.Options{Dir: srv.Dir, Port: srv.Port, TLS: true})
	if err != nil {
		t.Fatalf("pgtest: start the server again: %v", err)
	}
	srv = next
}

// OwnerRole is the RDS-master-like role the tests run as.
const OwnerRole = "carthub_owner"

// caFile is the CA of the server's TLS certificate, when this package started the server.
var caFile string

// CAFile returns the CA that signed the test server's certificate; tests that need it are
// skipped against a TEST_DATABASE_URL server, whose CA is unknown.
func CAFile(t testing.TB) string {
	t.Helper()
	if caFile == "" {
		t.Skip("TEST_DATABASE_URL is set: the server's TLS CA is unknown")
	}
	return caFile
}

// Main starts the server (unless TEST_DATABASE_URL is set), runs the tests and stops it.
// Use it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		adminURL, ownerURL = u, u
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "carthub-pgtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err = pgserver.Start(context.Background(), pgserver.Options{Dir: dir, TLS: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: start PostgreSQL:", err)
		return 1
	}
	defer func() { srv.Stop() }()
	adminURL = srv.URL("postgres")
	caFile = srv.CAFile
	if ownerURL, err = makeOwner(adminURL); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	return m.Run()
}

// makeOwner creates the RDS-master-like role and returns its URL, or the admin URL with
// PGTEST_ROLE=superuser.
func makeOwner(admin string) (string, error) {
	switch role := os.Getenv("PGTEST_ROLE"); role {
	case "superuser":
		return admin, nil
	case "", "owner":
	default:
		return "", fmt.Errorf("PGTEST_ROLE=%q: use owner (default, like the RDS master user) or superuser", role)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	password := hex.EncodeToString(b)
	for _, sql := range []string{
		"CREATE ROLE " + OwnerRole + " LOGIN NOSUPERUSER CREATEDB CREATEROLE PASSWORD '" + password + "'",
		"GRANT pg_monitor, pg_signal_backend TO " + OwnerRole,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return "", fmt.Errorf("create the test role: %w", err)
		}
	}
	u, _ := url.Parse(admin)
	u.User = url.UserPassword(OwnerRole, password)
	return u.String(), nil
}

// AdminURL is a superuser's URL for database db, for what a test must do that the RDS master
// user cannot (it never hands this to the code under test).
func AdminURL(t testing.TB, db string) string {
	t.Helper()
	return WithDatabase(adminURL, db)
}

// Superuser reports whether the tests run as a superuser (PGTEST_ROLE=superuser or a
// TEST_DATABASE_URL server).
func Superuser() bool { return ownerURL == adminURL }

var unsafe = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDB creates an empty database for this test and returns its URL. The database is dropped
// when the test passes and kept, with its name logged, when it fails.
func NewDB(t testing.TB) string {
	t.Helper()
	if adminURL == "" {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := unsafe.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = "t_" + name + "_" + hex.EncodeToString(b)
	ctx := context.Background()
	owner := ""
	if ownerURL != adminURL {
		owner = " OWNER " + OwnerRole
	}
	Exec(t, adminURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+owner)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: kept database %s for inspection", name)
			return
		}
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return WithDatabase(ownerURL, name)
}

// WithDatabase returns connURL pointing at another database on the same server.
func WithDatabase(connURL, db string) string {
	u, err := url.Parse(connURL)
	if err != nil {
		panic(fmt.Sprintf("pgtest: bad URL: %v", err))
	}
	u.Path = "/" + db
	return u.String()
}

// Connect opens a connection for the test and closes it at the end.
func Connect(t testing.TB, connURL string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Exec runs SQL on its own short-lived connection and fails the test on error.
func Exec(t testing.TB, connURL, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", firstLine(sql), err)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
