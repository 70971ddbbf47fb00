package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// state is what must not change when the pre-flight refuses: the catalog of the schema (every
// relation, column, constraint and index, as the server renders them), every row, the history.
func state(t *testing.T, url string) string {
	t.Helper()
	return query[string](t, url, `SELECT concat_ws(E'\n',
  (SELECT string_agg(format('%s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod)) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, E'\n' ORDER BY 1)
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), E'\n' ORDER BY 1) FROM pg_constraint WHERE connamespace = current_schema()::regnamespace),
  (SELECT string_agg(pg_get_indexdef(indexrelid), E'\n' ORDER BY 1) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = current_schema()::regnamespace),
  (SELECT string_agg(t::text, E'\n' ORDER BY t::text) FROM customers t),
  (SELECT string_agg(t::text, E'\n' ORDER BY t::text) FROM orders t),
  (SELECT string_agg(version::text, ',' ORDER BY version) FROM carthub_schema_history))`)
}

var preflightFiles = map[string]string{
	"0001_base.sql": "CREATE TABLE customers (id int PRIMARY KEY, email text, code varchar(40));\n" +
		"CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric(12,2), status text);\n",
	"0002_unique_email.sql":    "CREATE UNIQUE INDEX customers_email_key ON customers (email);\n",
	"0003_status_not_null.sql": "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n",
	"0004_total_check.sql":     "ALTER TABLE orders ADD CONSTRAINT orders_total_nonnegative CHECK (total >= 0);\n",
	"0005_orders_customer.sql": "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);\n",
	"0006_short_code.sql":      "ALTER TABLE customers ALTER COLUMN code TYPE varchar(8);\n",
}

// Each kind of rule a pending file adds is refused before any lock when live rows break it
// (exit 9), with counts and example keys, and nothing changes; the same files pass on clean rows.
func TestPreflightRefusesRowsThatBreakTheNewRules(t *testing.T) {
	url := pgtest.NewDB(t)
	env := dbEnv(url)
	env["MIGRATOR_DIR"] = writeMigrations(t, preflightFiles)
	mustCode(t, cli(t, env, "up", "--to", "1"), 0)
	pgtest.Exec(t, url, `INSERT INTO customers VALUES (1, 'a@x', 'A1'), (2, 'a@x', 'LONGER-THAN-8'), (3, NULL, NULL), (4, NULL, NULL);
INSERT INTO orders VALUES (10, 1, 5, 'new'), (11, 99, -1, NULL), (12, NULL, 2, 'paid')`)
	before := state(t, url)
	// A scratch database a killed pre-flight left an hour ago goes with the next pre-flight.
	pgtest.Exec(t, url, "CREATE DATABASE carthub_preflight_1000000000_dead")
	r := cli(t, env, "up")
	mustCode(t, r, exitRefused)
	for _, want := range []string{"pre-flight: nothing was changed and no lock taken",
		"0002_unique_email.sql: customers unique customers_email_key ((email)): 2 rows break it, e.g. (a@x) (2 rows)",
		"0003_status_not_null.sql: orders not-null status (status SET NOT NULL): 1 rows break it, e.g. 11",
		"0004_total_check.sql: orders check orders_total_nonnegative (CHECK ((total >= (0)::numeric))): 1 rows break it, e.g. 11",
		"0005_orders_customer.sql: orders foreign-key orders_customer_fk (FOREIGN KEY (customer_id) REFERENCES customers(id)): 1 rows break it, e.g. 11",
		"0006_short_code.sql: customers narrowed-type code (character varying(40) -> character varying(8)): 1 rows break it, e.g. 2"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if after := state(t, url); after != before {
		t.Errorf("the refused run changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if n := query[int](t, url, "SELECT count(*)::int FROM pg_database WHERE datname LIKE 'carthub_preflight_%'"); n != 0 {
		t.Errorf("%d scratch databases left", n)
	}
	// Counted on a read replica (here the same server by another name) the rows say the same.
	onReplica := cli(t, map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": env["MIGRATOR_DIR"], "MIGRATOR_PREFLIGHT_HOST": "localhost"}, "up")
	mustCode(t, onReplica, exitRefused)
	// plan shows the same, per rule, without refusing.
	p := cli(t, env, "plan")
	mustCode(t, p, 0)
	if !strings.Contains(p.stdout, "--   REFUSED  0003_status_not_null.sql") || !strings.Contains(p.stdout, "-- pre-flight: 5 rule(s)") {
		t.Errorf("plan:\n%s", p.stdout)
	}

	pgtest.Exec(t, url, `DELETE FROM customers WHERE id = 2; INSERT INTO customers VALUES (99, 'z@x', 'Z');
UPDATE orders SET status = 'new', total = 1 WHERE id = 11`)
	mustCode(t, cli(t, env, "up"), 0)
	if v := historyVersions(t, url); len(v) != 6 {
		t.Errorf("history %v after fixing the rows, want 1..6", v)
	}
}

// The databases 0004's hand-written pre-check refuses are refused by the derived pre-flight
// before it (exit 9, before the lock, nothing changed), by rule.
func TestPreflightRefusesWhat0004sPrecheckRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, rows string
		want       []string
	}{
		{"bad legacy rows", `INSERT INTO carts (id, customer_id) VALUES (1, 'c');
INSERT INTO cart_items (cart_id, product_id, product_name, price, quantity) VALUES (1, 'p', 'P', 1, 0), (1, 'q', 'Q', 1, -2);
INSERT INTO orders (customer_id, total_amount, status) VALUES ('c', 1, 'completed')`,
			[]string{"cart_items check cart_items_quantity_positive (CHECK ((quantity > 0))): 2 rows break it", "orders check orders_status_valid"}},
		{"nulls written after the backfill", `INSERT INTO carts (id, customer_id, created_at) VALUES (1, 'c', NULL);
INSERT INTO orders (customer_id, total_amount, status, updated_at) VALUES ('c', 1, NULL, NULL)`,
			[]string{"carts not-null created_at (created_at SET NOT NULL): 1 rows break it", "orders not-null status (status SET NOT NULL): 1 rows break it", "orders not-null updated_at"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := pgtest.NewDB(t)
			env := dbEnv(url)
			mustCode(t, cli(t, env, "up", "--to", "3"), 0)
			pgtest.Exec(t, url, tt.rows)
			checks := "SELECT count(*)::int FROM pg_constraint WHERE contype = 'c' AND connamespace = current_schema()::regnamespace"
			before := query[int](t, url, checks)
			r := cli(t, env, "up")
			mustCode(t, r, exitRefused)
			for _, w := range append(tt.want, "0004_check_constraints.sql: ") {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, `"step":"lock"`) {
				t.Error("the run took the migration lock before refusing")
			}
			if after := query[int](t, url, checks); after != before {
				t.Errorf("%d CHECK constraints after the refusal, %d before", after, before)
			}
		})
	}
}

// A session idle in a transaction with a lock on orders is named in the log (pid, application,
// state, lock, the first line of its query, the terminate command) and counted in the run's
// metrics line; with --blocking-sessions wait it refuses after --blocking-wait (exit 10), with
// proceed it goes ahead through lock_timeout retries. The migrator never ends the session.
func TestPreflightNamesTheSessionInTheWay(t *testing.T) {
	url := pgtest.NewDB(t)
	env := dbEnv(url)
	mustCode(t, cli(t, env, "up", "--to", "4"), 0)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "cart-service"
	other, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	if _, err := other.Exec(ctx, "BEGIN; INSERT INTO orders (customer_id, total_amount) VALUES ('someone', 1)"); err != nil {
		t.Fatal(err)
	}
	pid := other.PgConn().PID()

	r := cli(t, env, "up", "--blocking-wait", "1500ms")
	mustCode(t, r, exitBlocked)
	for _, w := range []string{fmt.Sprintf("pid %d (cart-service", pid), "idle in transaction", "RowExclusiveLock on orders",
		fmt.Sprintf("SELECT pg_terminate_backend(%d);", pid), "nothing was changed"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	var logged, metrics bool
	for _, l := range r.logs() {
		if l["msg"] == "pre-flight: a session is in the way of a pending file's lock" && l["pid"] == float64(pid) && l["application_name"] == "cart-service" &&
			l["table"] == "orders" && strings.Contains(fmt.Sprint(l["query"]), "INSERT INTO orders (customer_id, total_amount) VALUES ('…', 1)") {
			logged = true
		}
		if l["msg"] == "run metrics" && l["BlockingSessions"] == float64(1) && l["OldestBlockingTransaction"].(float64) >= 1 {
			metrics = true
		}
	}
	if !logged || !metrics {
		t.Errorf("logged %v, metrics %v:\n%s", logged, metrics, r.stderr)
	}
	if v := historyVersions(t, url); len(v) != 4 {
		t.Errorf("history %v, want 1..4", v)
	}

	// proceed: 0005 builds its indexes CONCURRENTLY, which waits for the open transaction; the
	// session ends once the build is seen waiting (after the pre-flight), and the run completes.
	go func() {
		watch := pgtest.Connect(t, url)
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var waiting bool
			_ = watch.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
 WHERE query ILIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock')`).Scan(&waiting)
			if waiting {
				break
			}
		}
		_, _ = other.Exec(context.Background(), "COMMIT")
	}()
	r = cli(t, env, "up", "--blocking-sessions", "proceed")
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "going ahead with sessions in the way") {
		t.Errorf("no warning that it went ahead:\n%s", r.stderr)
	}
	if alive := query[bool](t, url, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid); !alive {
		t.Error("the migrator ended the application's session")
	}
}

// Nothing pending: no pre-flight (no scratch database, no step), and the no-op run stays one
// query after connecting, counted on the wire by a proxy between the migrator and the server
// (the server's own counters also see autovacuum's sessions).
func TestPreflightStaysOffTheNoOpPath(t *testing.T) {
	db := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(db), "up"), 0)
	proxied, counted := countingProxy(t, db)
	r := cli(t, dbEnv(proxied), "up", "--log-level", "debug")
	mustCode(t, r, 0)
	if strings.Contains(r.stderr, "pre-flight") || strings.Contains(r.stderr, `"step":"preflight"`) {
		t.Errorf("the no-op run ran the pre-flight:\n%s", r.stderr)
	}
	if q := counted(); len(q) != 1 {
		t.Errorf("the no-op run sent %d queries, want 1 (the history check): %q", len(q), q)
	}
}

// countingProxy forwards TCP connections to url's server and records the statements clients
// send (simple Query and Parse messages of the PostgreSQL protocol), for a URL without TLS.
func countingProxy(t *testing.T, target string) (string, func() []string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	serverAddr := u.Host
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var (
		mu   sync.Mutex
		seen []string
	)
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", serverAddr)
			if err != nil {
				client.Close()
				continue
			}
			go func() { _, _ = io.Copy(client, server); client.Close() }()
			go func() {
				defer server.Close()
				r := bufio.NewReader(client)
				var n int32
				for { // startup packets (length, then body) until the StartupMessage itself
					if binary.Read(r, binary.BigEndian, &n) != nil {
						return
					}
					body := make([]byte, n-4)
					if _, err := io.ReadFull(r, body); err != nil {
						return
					}
					_ = binary.Write(server, binary.BigEndian, n)
					_, _ = server.Write(body)
					if code := binary.BigEndian.Uint32(body); code != 80877103 && code != 80877104 { // not an SSL or GSS request
						break
					}
				}
				for {
					typ, err := r.ReadByte()
					if err != nil {
						return
					}
					if binary.Read(r, binary.BigEndian, &n) != nil {
						return
					}
					msg := make([]byte, n-4)
					if _, err := io.ReadFull(r, msg); err != nil {
						return
					}
					if typ == 'Q' || typ == 'P' {
						mu.Lock()
						seen = append(seen, strings.TrimRight(string(msg), "\x00"))
						mu.Unlock()
					}
					if _, err := server.Write(append([]byte{typ}, append(binary.BigEndian.AppendUint32(nil, uint32(n)), msg...)...)); err != nil {
						return
					}
				}
			}()
		}
	}()
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	u.Host = l.Addr().String()
	return u.String(), func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(seen) }
}
