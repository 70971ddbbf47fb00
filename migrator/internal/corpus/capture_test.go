package corpus

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// Capture reads what ran from pg_stat_statements on a server that preloads it, as RDS does:
// normalized texts with call counts, the catalog's queries and DDL left out, and a role without
// pg_read_all_stats told how many texts it could not see.
func TestCaptureFromPgStatStatements(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.StatementsServer(t)
	admin := pgtest.Connect(t, srv.URL("postgres"))
	// Before the extension exists: the error says how to create it.
	if _, err := Capture(ctx, admin, "schema_migrations", 10); !errors.Is(err, ErrNoExtension) || !strings.Contains(err.Error(), "CREATE EXTENSION IF NOT EXISTS pg_stat_statements") {
		t.Fatalf("without the extension: %v", err)
	}
	for _, sql := range []string{
		"CREATE EXTENSION pg_stat_statements",
		"CREATE TABLE carts (id serial PRIMARY KEY, customer_id text)",
		"CREATE TABLE schema_migrations (version int)",
		"CREATE ROLE other LOGIN PASSWORD 'other-pw'",
		"GRANT ALL ON carts TO other",
		"SELECT pg_stat_statements_reset()",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for i := range 3 {
		if _, err := admin.Exec(ctx, "INSERT INTO carts (customer_id) VALUES ('c-"+string(rune('a'+i))+"')", pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "SELECT id FROM carts WHERE customer_id = $1", "c-a"); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = admin.Exec(ctx, "SELECT count(*) FROM pg_catalog.pg_class")
	_, _ = admin.Exec(ctx, "SELECT * FROM schema_migrations")
	other := pgtest.Connect(t, strings.Replace(srv.URL("postgres"), "postgres:"+srv.Password, "other:other-pw", 1))
	if _, err := other.Exec(ctx, "SELECT customer_id FROM carts WHERE id = $1", 1); err != nil {
		t.Fatal(err)
	}

	got, err := Capture(ctx, admin, "schema_migrations", 10)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]int64{}
	for _, q := range got.Queries {
		texts[q.SQL] = q.Calls
	}
	want := map[string]int64{
		"INSERT INTO carts (customer_id) VALUES ($1)": 3, // the literal became a parameter
		"SELECT id FROM carts WHERE customer_id = $1": 3,
		"SELECT customer_id FROM carts WHERE id = $1": 1, // another role's, seen by the superuser
	}
	for sql, calls := range want {
		if texts[sql] != calls {
			t.Errorf("captured %q %d times, want %d; all: %v", sql, texts[sql], calls, texts)
		}
	}
	for sql := range texts {
		if strings.Contains(sql, "pg_catalog") || strings.Contains(sql, "schema_migrations") || strings.HasPrefix(sql, "CREATE") || strings.Contains(sql, "pg_stat_statements") {
			t.Errorf("captured %q, which is not the application's", sql)
		}
	}
	// A role without pg_read_all_stats sees its own texts and is told of the others.
	mine, err := Capture(ctx, other, "schema_migrations", 10)
	if err != nil {
		t.Fatal(err)
	}
	if mine.Hidden == 0 || len(mine.Queries) == 0 {
		t.Errorf("as a role without pg_read_all_stats: %d hidden, %d seen; want both above zero", mine.Hidden, len(mine.Queries))
	}
}

// Nothing but normalized text leaves the database: statements run with secrets in string and
// number literals and in comments, through the simple and the extended protocol, one prepared
// before pg_stat_statements was reset (its entry then keeps the raw text), and utility statements
// that pg_stat_statements stores as sent (a password, a SET). The captured corpus, as it is
// written to a file, holds none of the secrets, and still holds the statements in normalized form.
func TestCaptureLeavesNoSecretBehind(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.StatementsServer(t)
	conn := pgtest.Connect(t, srv.URL("postgres"))
	run := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	run("CREATE EXTENSION pg_stat_statements")
	run("CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id text, card text, total numeric)")
	run("CREATE ROLE app LOGIN PASSWORD 'app-pw'")
	// Prepared before the reset, executed after: the entry is made at execution, from the raw text.
	if _, err := conn.Prepare(ctx, "raw", "SELECT id FROM orders WHERE card = 'SECRET-raw-card' AND total > 31337.5 AND customer_id = $1"); err != nil {
		t.Fatal(err)
	}
	run("SELECT pg_stat_statements_reset()")
	run("raw", "c-1")
	simple := pgx.QueryExecModeSimpleProtocol
	run("INSERT INTO orders (customer_id, card, total) VALUES ('SECRET-customer', '4111111111111111', 987654.32)", simple)
	run("/* session token=SECRET-token-in-comment */ SELECT id FROM orders WHERE customer_id = 'SECRET-in-where' -- api_key=SECRET-line-comment", simple)
	run("SELECT id /* nested /* SECRET-nested */ comment */ FROM orders WHERE customer_id = $1 LIMIT 31337", "SECRET-bound-parameter")
	run("UPDATE orders SET card = E'SECRET-escaped\\'card' WHERE id = 27182818", simple)
	run("SELECT id FROM orders WHERE card = $body$SECRET-dollar-quoted$body$", simple)
	run("ALTER ROLE app PASSWORD 'SECRET-password'", simple)
	run("SET application_name = 'SECRET-setting'", simple)
	run("DO $$ BEGIN PERFORM 'SECRET-in-do'; END $$", simple)

	got, err := Capture(ctx, conn, "schema_migrations", 100)
	if err != nil {
		t.Fatal(err)
	}
	stored := Format("captured", got.Queries)
	for _, secret := range []string{"SECRET", "4111111111111111", "987654", "31337", "27182818", "app-pw"} {
		if strings.Contains(stored, secret) {
			t.Errorf("the captured corpus holds %q:\n%s", secret, stored)
		}
	}
	for _, want := range []string{
		"INSERT INTO orders (customer_id, card, total) VALUES ($1, $2, $3)",
		"SELECT id FROM orders WHERE customer_id = $1",
		"SELECT id FROM orders WHERE customer_id = $1 LIMIT $2",
		"UPDATE orders SET card = $1 WHERE id = $2",
		"SELECT id FROM orders WHERE card = $1",
	} {
		if !strings.Contains(stored, want+";") {
			t.Errorf("the captured corpus lacks %q:\n%s", want, stored)
		}
	}
	if got.LeftOut != 1 {
		t.Errorf("left out %d statements whose text kept a constant, want 1 (the one prepared before the reset):\n%s", got.LeftOut, stored)
	}
}
