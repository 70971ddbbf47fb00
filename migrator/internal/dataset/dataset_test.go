package dataset_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/dataset"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

// features is a schema with what real schemas hold: an enum, domains with CHECKs, arrays, jsonb
// and json, uuid, inet and cidr, ranges, bytea, numeric precision, identity and generated columns,
// a composite UNIQUE key, a partial unique index on an expression, a two-column FOREIGN KEY,
// CHECKs with IN lists, ranges and length() bounds, an exclusion constraint, a nullable
// composite-type column and, in another table, a NOT NULL one; and tables the generator cannot
// fill, or not in full (a CHECK across columns, a trigger that refuses every row).
const features = `
CREATE TYPE order_priority AS ENUM ('low', 'normal', 'high');
CREATE TYPE money_pair AS (amount numeric, currency text);
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN short_code AS text NOT NULL CHECK (length(VALUE) >= 3 AND length(VALUE) <= 5);
CREATE DOMAIN email_address AS text CHECK (VALUE ~ '^[a-z]+@[a-z]+\.[a-z]+$');

CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code short_code,
    email text NOT NULL,
    contact email_address,
    tenant int NOT NULL CHECK (tenant > 0),
    external_id uuid NOT NULL UNIQUE,
    ip inet NOT NULL,
    net cidr,
    tags text[] NOT NULL,
    priorities order_priority[],
    prefs jsonb NOT NULL,
    raw json,
    avatar bytea,
    rating numeric(3,1) NOT NULL CHECK (rating >= 0 AND rating <= 5),
    score positive_int NOT NULL,
    priority order_priority NOT NULL,
    band int NOT NULL CHECK (band > 0 AND band < 100),
    nickname varchar(20) CHECK (length(nickname) >= 2 AND length(nickname) <= 8),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    balance money_pair,
    label text GENERATED ALWAYS AS (code || ':' || email) STORED,
    UNIQUE (tenant, email)
);
CREATE UNIQUE INDEX customers_active_email ON customers (lower(email)) WHERE status = 'active';
COMMENT ON INDEX customers_active_email IS 'one active account per address';

CREATE TABLE accounts (
    id serial PRIMARY KEY,
    tenant int NOT NULL,
    email text NOT NULL,
    opened daterange NOT NULL,
    during tstzrange,
    seats int4range,
    amount numeric(5,2) NOT NULL,
    kind int NOT NULL CHECK (kind IN (1, 2, 3)),
    CONSTRAINT accounts_customer FOREIGN KEY (tenant, email) REFERENCES customers (tenant, email),
    EXCLUDE USING gist (opened WITH &&)
);
COMMENT ON CONSTRAINT accounts_customer ON accounts IS 'whole (tenant, email) pairs';
CREATE INDEX accounts_kind ON accounts (kind);
ALTER TABLE accounts CLUSTER ON accounts_kind;

CREATE TABLE ledger (
    id serial PRIMARY KEY,
    entry money_pair NOT NULL,
    account_id int REFERENCES accounts
);

CREATE TABLE ledger_lines (
    id serial PRIMARY KEY,
    ledger_id int REFERENCES ledger,
    memo text
);
COMMENT ON CONSTRAINT ledger_lines_pkey ON ledger_lines IS 'one line per id';
ALTER TABLE ledger_lines CLUSTER ON ledger_lines_pkey;

CREATE TABLE slots (
    slot int NOT NULL UNIQUE CHECK (slot BETWEEN 1 AND 50),
    label text
);

CREATE TABLE pairs (
    lo int NOT NULL,
    hi int NOT NULL,
    CONSTRAINT pairs_ordered CHECK (lo < hi)
);

CREATE TABLE closed (id serial PRIMARY KEY, note text);
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'closed for writes'; END $$;
CREATE TRIGGER closed_refuses BEFORE INSERT ON closed FOR EACH ROW EXECUTE FUNCTION refuse();
`

// A table's expected rows, and the notes it should get: column, and a word of the reason.
type want struct {
	rows  func(n int64) int64
	notes [][2]string
}

var all = func(n int64) int64 { return n }

var expected = map[string]want{
	"customers":    {all, [][2]string{{"contact", "left NULL"}, {"balance", "composite"}}},
	"accounts":     {all, nil},
	"ledger":       {func(int64) int64 { return 0 }, [][2]string{{"entry", "composite"}}},
	"ledger_lines": {all, [][2]string{{"ledger_id", "references ledger"}}},
	"slots":        {func(int64) int64 { return 50 }, [][2]string{{"", "repeat a key of slots_slot_key"}}},
	"pairs":        {func(n int64) int64 { return n - (n+1)/9 }, [][2]string{{"", "break CHECK pairs_ordered"}}}, // lo = hi + 8 in every ninth row
	"closed":       {func(int64) int64 { return 0 }, [][2]string{{"", "closed for writes"}}},
}

// Load fills every table it can of a schema with each feature, never fails on one it cannot,
// and says what it left short and why. The rows are in the tables, so the server accepted them
// under every constraint; some are checked again here. 300 rows go in with every constraint in
// place, 12,000 with foreign keys and indexes made again after the load (the catalog must not
// change).
func TestLoadFillsWhatRealSchemasHold(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int64{300, 12000} {
		t.Run(fmt.Sprintf("rows_%d", n), func(t *testing.T) {
			conn := pgtest.Connect(t, pgtest.NewDB(t))
			if _, err := conn.Exec(ctx, features); err != nil {
				t.Fatal(err)
			}
			before := catalog(t, conn)
			pkey := func() (oid [2]uint32) {
				if err := conn.QueryRow(ctx, "SELECT 'ledger_lines_pkey'::regclass::oid, 'customers_tenant_email_key'::regclass::oid").Scan(&oid[0], &oid[1]); err != nil {
					t.Fatal(err)
				}
				return oid
			}
			pkeyBefore := pkey()
			res, err := dataset.Load(ctx, conn, "none", dataset.Plan{Rows: int(n)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			for _, note := range res.Notes {
				t.Logf("note: %s", note)
			}
			for table, w := range expected {
				if got := res.Loaded[table]; got != w.rows(n) {
					t.Errorf("%s: loaded %d rows, want %d", table, got, w.rows(n))
				}
				var inTable int64
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&inTable); err != nil || inTable != res.Loaded[table] {
					t.Errorf("%s holds %d rows (%v), Load says %d", table, inTable, err, res.Loaded[table])
				}
				for _, wn := range w.notes {
					if !slices.ContainsFunc(res.Notes, func(x dataset.Note) bool {
						return x.Table == table && x.Column == wn[0] && strings.Contains(x.Reason, wn[1]) && x.Asked == n
					}) {
						t.Errorf("no note on %s.%s saying %q", table, wn[0], wn[1])
					}
				}
			}
			if len(res.Notes) != 7 {
				t.Errorf("%d notes, want 7 (one per expected note)", len(res.Notes))
			}
			checks := []struct{ name, sql string }{
				{"identity keys from 1", "SELECT min(id) = 1 AND max(id) = count(*) FROM customers"},
				{"serial keys from 1", "SELECT min(id) = 1 AND max(id) = count(*) FROM accounts"},
				{"every enum label", "SELECT count(DISTINCT priority) = 3 FROM customers"},
				{"enum arrays", "SELECT bool_and(cardinality(priorities) = 1) FROM customers"},
				{"every listed status", "SELECT count(DISTINCT status) = 3 FROM customers"},
				{"listed kinds", "SELECT count(DISTINCT kind) = 3 FROM accounts"},
				{"domain codes", "SELECT bool_and(length(code) BETWEEN 3 AND 5) FROM customers"},
				{"ratings in range", "SELECT bool_and(rating BETWEEN 0 AND 5) AND count(DISTINCT rating) > 1 FROM customers"},
				{"nicknames by length", "SELECT bool_and(length(nickname) BETWEEN 2 AND 8) FROM customers"},
				{"generated column", "SELECT bool_and(label = code || ':' || email) FROM customers"},
				{"whole referenced tuples", "SELECT count(*) = (SELECT count(*) FROM accounts) FROM accounts a JOIN customers c USING (tenant, email)"},
				{"distinct customers referenced", "SELECT count(DISTINCT (tenant, email)) = count(*) FROM accounts"},
				{"composite left NULL", "SELECT bool_and(balance IS NULL) FROM customers"},
				{"no overlapping ranges", "SELECT NOT EXISTS (SELECT FROM accounts a JOIN accounts b ON a.id < b.id AND a.opened && b.opened)"},
				{"analyzed", "SELECT reltuples > 0 FROM pg_class WHERE relname = 'accounts'"},
			}
			for _, c := range checks {
				var ok bool
				if err := conn.QueryRow(ctx, c.sql).Scan(&ok); err != nil || !ok {
					t.Errorf("%s: %v (%v)", c.name, ok, err)
				}
			}
			// A large load builds the primary key after the rows are in (one sorted build), and
			// a key another table's foreign key references while that table is empty (accounts'
			// accounts_customer, made again with its comment); a small one inserts into them.
			after := pkey()
			for i, name := range []string{"ledger_lines_pkey", "customers_tenant_email_key"} {
				if rebuilt := after[i] != pkeyBefore[i]; rebuilt != (n >= 10000) {
					t.Errorf("%s made again: %v, want %v", name, rebuilt, n >= 10000)
				}
			}
			if after := catalog(t, conn); after != before {
				t.Errorf("the catalog changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// catalog is what lint and verify read of the schema, with the comments and CLUSTER marks of
// constraints and indexes.
func catalog(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	ctx := context.Background()
	s, err := schema.Read(ctx, conn, schema.Filter{Exclude: "none"})
	if err != nil {
		t.Fatal(err)
	}
	var extra string
	if err := conn.QueryRow(ctx, `SELECT string_agg(x, E'\n' ORDER BY x) FROM (
SELECT conname || ' ' || coalesce(obj_description(oid, 'pg_constraint'), '') FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
UNION ALL
SELECT indexrelid::regclass || ' ' || indisclustered || ' ' || coalesce(obj_description(indexrelid, 'pg_class'), '') FROM pg_index
 WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace)) s(x)`).Scan(&extra); err != nil {
		t.Fatal(err)
	}
	return s.Format("") + extra
}

// The same plan on the same schema makes the same rows: lint's templates stay valid.
func TestLoadIsDeterministic(t *testing.T) {
	ctx := context.Background()
	var sums []string
	for range 2 {
		conn := pgtest.Connect(t, pgtest.NewDB(t))
		if _, err := conn.Exec(ctx, features); err != nil {
			t.Fatal(err)
		}
		if _, err := dataset.Load(ctx, conn, "none", dataset.Plan{Rows: 500}); err != nil {
			t.Fatal(err)
		}
		var sum string
		if err := conn.QueryRow(ctx, `SELECT string_agg(t || ' ' || h, ', ' ORDER BY t) FROM (
SELECT 'customers', md5(string_agg(x::text, '|' ORDER BY x.id)) FROM customers x UNION ALL
SELECT 'accounts', md5(string_agg(x::text, '|' ORDER BY x.id)) FROM accounts x UNION ALL
SELECT 'ledger_lines', md5(string_agg(x::text, '|' ORDER BY x.id)) FROM ledger_lines x UNION ALL
SELECT 'slots', md5(string_agg(x::text, '|' ORDER BY x.slot)) FROM slots x) s(t, h)`).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sum)
	}
	if sums[0] != sums[1] {
		t.Errorf("two loads differ:\n%s\n%s", sums[0], sums[1])
	}
}

// Inside the caller's transaction (the pre-flight's), Load works in savepoints: a table it cannot
// fill leaves the transaction usable, and the caller's rollback takes every row away.
func TestLoadInsideATransaction(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Connect(t, pgtest.NewDB(t))
	if _, err := conn.Exec(ctx, features); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	loaded, err := dataset.Fill(ctx, conn, "none", 3)
	if err != nil {
		t.Fatal(err)
	}
	if loaded["customers"] != 3 || loaded["accounts"] != 3 || loaded["ledger"] != 0 {
		t.Errorf("loaded %v, want 3 customers and accounts, no ledger", loaded)
	}
	var ids string
	if err := conn.QueryRow(ctx, "SELECT string_agg(id::text, ',' ORDER BY id) FROM accounts").Scan(&ids); err != nil || ids != "1,2,3" {
		t.Errorf("account ids %q (%v), want 1,2,3", ids, err)
	}
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM customers").Scan(&n); err != nil || n != 0 {
		t.Errorf("after the rollback customers has %d rows (%v)", n, err)
	}
}
