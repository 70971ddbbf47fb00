// Package pgtest gives each test its own database on a real PostgreSQL: the server named by
// TEST_DATABASE_URL, or else a throwaway server that Main starts from the machine's binaries.
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

// adminURL reaches the server with a role that may create databases.
var adminURL string

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
		adminURL = u
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "carthub-pgtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err := pgserver.Start(context.Background(), pgserver.Options{Dir: dir, TLS: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: start PostgreSQL:", err)
		return 1
	}
	defer srv.Stop()
	adminURL = srv.URL("postgres")
	caFile = srv.CAFile
	return m.Run()
}

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
	Exec(t, adminURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
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
	return WithDatabase(adminURL, name)
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
