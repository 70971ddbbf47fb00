package migrate_test

import (
	"context"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrations"
	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

var update = flag.Bool("update", false, "rewrite the schema snapshots in migrations/ from the migrations")

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(pgtest.Main(m))
}

// connect opens a connection with the session settings the CLI uses.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["lock_timeout"] = "2000"
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func load(t *testing.T) ([]migrate.Migration, schema.Snapshot, schema.Snapshot) {
	t.Helper()
	migs, err := migrate.Load(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	expected, err := schema.Parse(migrations.ExpectedSchema)
	if err != nil {
		t.Fatal(err)
	}
	baseline, err := schema.Parse(migrations.BaselineSchema)
	if err != nil {
		t.Fatal(err)
	}
	return migs, expected, baseline
}

func newMigrator(t *testing.T, conn *pgx.Conn, opts migrate.Options) *migrate.Migrator {
	t.Helper()
	migs, expected, baseline := load(t)
	if opts.Migrations == nil {
		opts.Migrations = migs
	}
	if opts.Baseline == nil {
		opts.Baseline = baseline
	}
	if opts.Tables == nil {
		opts.Tables = expected.Tables()
	}
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 50 * time.Millisecond
	}
	m, err := migrate.New(conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// apply runs `migrator up` to version to without verify, and returns what it applied.
func apply(t *testing.T, m *migrate.Migrator, to int) ([]migrate.AppliedMigration, error) {
	t.Helper()
	res, err := m.Up(context.Background(), migrate.UpPlan{Target: to, Verify: migrate.VerifyNever}, migrate.Hooks{})
	return res.Applied, err
}

// up is apply for tests that expect every migration to succeed.
func up(t *testing.T, m *migrate.Migrator, to int) []migrate.AppliedMigration {
	t.Helper()
	done, err := apply(t, m, to)
	if err != nil {
		t.Fatal(err)
	}
	return done
}
