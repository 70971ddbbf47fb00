package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/carthub/carthub-db/migrator/internal/pgtest"
)

// A Multi-AZ failover drops every connection; a network blip cuts one. Each trial puts a fault
// proxy (toxiproxy, as a library) between the migrator and PostgreSQL and closes the
// connection after a random number of bytes in a random direction, so cuts land anywhere: in the
// handshake, in the pre-flight, under the advisory lock, inside a transactional file, between the
// statements of a no-transaction file, while recording, during verify. After each cut the
// migrator must succeed or exit 3 (transient: the Job's podFailurePolicy retries it, while exit 1
// would be final and need a person); the next plain run, as the Job's next pod, must converge;
// verify must pass; no row may be lost; no INVALID index and no migration lock may be left.
// FAULT_SEED replays a run; FAULT_TRIALS changes its size.
func TestConnectionCutsAtRandomPoints(t *testing.T) {
	trials := envInt(t, "FAULT_TRIALS", 50)
	seed := uint64(envInt(t, "FAULT_SEED", int(rand.Uint32())))
	t.Logf("fault trials: %d, seed %d (replay with FAULT_SEED=%d)", trials, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	proxy := newFaultProxy(t)

	documented := map[int]bool{0: true, 3: true}
	exits := map[int]int{}
	lost, failed := 0, 0
	for n := range trials {
		// Bytes before the cut: log-uniform from 300 B (the handshake) to 200 kB (past a whole run).
		limit := int64(math.Exp(math.Log(300) + rng.Float64()*(math.Log(200_000)-math.Log(300))))
		stream := []string{"downstream", "upstream"}[rng.IntN(2)]
		// A subtest per trial: its database and connections go when it ends.
		passed := t.Run(fmt.Sprintf("trial_%02d_cut_after_%d_bytes_%s", n, limit, stream), func(t *testing.T) {
			direct := pgtest.NewDB(t)
			pgtest.Exec(t, direct, legacyFixture(t))
			pgtest.Exec(t, direct, legacyRows)
			before := tableFingerprint(t, direct)

			proxy.cutAfter(t, limit, stream)
			r := cli(t, dbEnv(proxy.url(t, direct)), "up", "--connect-timeout", "2s", "--retry-backoff", "20ms")
			exits[r.code]++
			if !documented[r.code] {
				t.Errorf("exit %d after a lost connection, want 0 or 3 (transient: the Job retries)\n%s", r.code, r.stderr)
			}
			proxy.heal(t)

			// The rerun goes through the healed proxy, as the Job's next pod would after a failover:
			// a plain run, nothing done by hand in between.
			again := cli(t, dbEnv(proxy.url(t, direct)), "up")
			if again.code != 0 {
				t.Fatalf("first exit %d; rerun exit %d\n%s", r.code, again.code, again.stderr)
			}
			if v := cli(t, dbEnv(direct), "verify"); v.code != 0 {
				t.Errorf("verify after the rerun: exit %d\n%s", v.code, v.stderr)
			}
			if after := tableFingerprint(t, direct); after != before {
				lost++
				t.Errorf("rows changed\nbefore %s\nafter  %s", before, after)
			}
			if k := query[int](t, direct, "SELECT count(*)::int FROM pg_index WHERE NOT indisvalid"); k != 0 {
				t.Errorf("%d INVALID indexes left", k)
			}
			waitFor(t, direct, "SELECT count(*) = 0 FROM pg_locks WHERE locktype = 'advisory'")
		})
		if !passed {
			failed++
		}
	}
	var codes []string
	for code, k := range exits {
		codes = append(codes, fmt.Sprintf("exit %d: %d", code, k))
	}
	sort.Strings(codes)
	t.Logf("fault trials: %d with seed %d; first runs ended %s; trials whose rerun did not converge, verify or keep every row: %d; trials with lost or changed rows: %d",
		trials, seed, strings.Join(codes, ", "), failed, lost)
}

// legacyRows fills every legacy table, NULLs included, for the migrations to carry over.
const legacyRows = `
INSERT INTO carts (customer_id) SELECT 'cust-' || n FROM generate_series(1, 200) n;
INSERT INTO carts (customer_id, created_at, updated_at) VALUES ('cust-null-times', NULL, NULL);
INSERT INTO cart_items (cart_id, product_id, product_name, price, quantity)
  SELECT c.id, 'sku-' || k, 'Product ' || k, k * 1.5, k FROM carts c, generate_series(1, 3) k;
INSERT INTO orders (customer_id, total_amount, status) SELECT 'cust-' || n, n, 'delivered' FROM generate_series(1, 150) n;
INSERT INTO orders (customer_id, total_amount, status, created_at) VALUES ('cust-null', 10, NULL, NULL);
INSERT INTO order_items (order_id, product_id, product_name, price, quantity)
  SELECT o.id, 'sku-1', 'Product 1', 1.5, 1 FROM orders o;`

// tableFingerprint is each table's row count and a hash of the columns no migration rewrites.
func tableFingerprint(t *testing.T, url string) string {
	t.Helper()
	return query[string](t, url, `SELECT
  (SELECT count(*) || ':' || md5(string_agg(id || customer_id, ',' ORDER BY id)) FROM carts) || ' ' ||
  (SELECT count(*) || ':' || md5(string_agg(id || '/' || cart_id || product_id || price || '/' || quantity, ',' ORDER BY id)) FROM cart_items) || ' ' ||
  (SELECT count(*) || ':' || md5(string_agg(id || customer_id || total_amount, ',' ORDER BY id)) FROM orders) || ' ' ||
  (SELECT count(*) || ':' || md5(string_agg(id || '/' || order_id || product_id || price, ',' ORDER BY id)) FROM order_items)`)
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

// faultProxy is one toxiproxy proxy in front of the test server.
type faultProxy struct {
	proxy *toxiproxy.Proxy
}

func newFaultProxy(t *testing.T) *faultProxy {
	t.Helper()
	u, err := url.Parse(pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(server, "postgres", "127.0.0.1:0", u.Host)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &faultProxy{proxy: p}
}

// url points a database URL of the test server at the proxy.
func (f *faultProxy) url(t *testing.T, direct string) string {
	t.Helper()
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(f.proxy.Listen)
	u.Host = net.JoinHostPort("127.0.0.1", port)
	return u.String()
}

// cutAfter closes every connection once limit bytes have passed in stream's direction.
func (f *faultProxy) cutAfter(t *testing.T, limit int64, stream string) {
	t.Helper()
	body := fmt.Sprintf(`{"name":"cut","type":"limit_data","stream":%q,"toxicity":1,"attributes":{"bytes":%d}}`, stream, limit)
	if _, err := f.proxy.Toxics.AddToxicJson(strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
}

func (f *faultProxy) heal(t *testing.T) {
	t.Helper()
	f.proxy.Toxics.ResetToxics(t.Context())
}

// The server restarts (a fast shutdown, as in a failover) while a migration runs: the migrator
// exits with a documented code, and a rerun converges.
func TestServerRestartMidMigration(t *testing.T) {
	dir := writeMigrations(t, map[string]string{
		"0001_first.sql": "CREATE TABLE first (id int);\nINSERT INTO first SELECT generate_series(1, 1000);\n",
		"0002_slow.sql":  "CREATE TABLE slow (id int);\nSELECT pg_sleep(coalesce(nullif(current_setting('carthub.test_sleep', true), ''), '0')::float8);\n",
		"0003_third.sql": "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS first_id ON first (id);\n",
	})
	url := pgtest.NewDB(t)
	env := map[string]string{"DATABASE_URL": url + "&options=" + "-c%20carthub.test_sleep%3D30", "MIGRATOR_DIR": dir}
	p := start(t, env, "up", "--connect-timeout", "2s")
	waitFor(t, url, "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()")
	pgtest.RestartServer(t)
	r := p.wait(t)
	if r.code != 3 {
		t.Fatalf("exit %d after the restart, want 3 (connection lost: transient, the Job retries)\n%s", r.code, r.stderr)
	}
	r = cli(t, map[string]string{"DATABASE_URL": url, "MIGRATOR_DIR": dir}, "up")
	mustCode(t, r, 0)
	if got := historyVersions(t, url); len(got) != 3 {
		t.Errorf("history after the rerun = %v, want 1..3", got)
	}
	if n := query[int](t, url, "SELECT count(*)::int FROM first"); n != 1000 {
		t.Errorf("first has %d rows, want 1000", n)
	}
}

// statement_timeout fires inside 0003's batched backfill: the batches committed before it stay,
// the run fails with the statement named, and a rerun finishes the backfill.
func TestStatementTimeoutInTheBackfill(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, legacyFixture(t))
	mustCode(t, cli(t, dbEnv(url), "up", "--to", "2"), 0)
	pgtest.Exec(t, url, `INSERT INTO orders (customer_id, total_amount, status, created_at)
  SELECT CASE WHEN n > 5000 THEN 'slow-' ELSE 'fast-' END || n, n, 'pending', NULL FROM generate_series(1, 6000) n;
CREATE FUNCTION slow_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.customer_id LIKE 'slow-%' THEN PERFORM pg_sleep(0.01); END IF; RETURN NEW; END $$;
CREATE TRIGGER slow_update BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION slow_update();`)
	r := cli(t, dbEnv(url), "up", "--statement-timeout", "1500ms")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "0003_backfill_nulls") || !strings.Contains(r.stderr, "statement timeout") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if n := query[int](t, url, "SELECT count(*)::int FROM orders WHERE created_at IS NULL AND customer_id LIKE 'fast-%'"); n != 0 {
		t.Errorf("%d rows of the committed first batch lost their backfill", n)
	}
	pgtest.Exec(t, url, "DROP TRIGGER slow_update ON orders; DROP FUNCTION slow_update()")
	mustCode(t, cli(t, dbEnv(url), "up"), 0)
	if n := query[int](t, url, "SELECT count(*)::int FROM orders"); n != 6000 {
		t.Errorf("orders has %d rows, want 6000", n)
	}
	mustCode(t, cli(t, dbEnv(url), "verify"), 0)
}

// Every command that reads the live database, not only up and down, reports a connection lost
// mid-way as transient (exit 3, with what to do), wherever the cut falls: during the handshake
// (a connection that could not be made, with its own advice), the history query or the catalog
// reads.
func TestReadingCommandsReportALostConnectionAsTransient(t *testing.T) {
	direct := pgtest.NewDB(t)
	mustCode(t, cli(t, dbEnv(direct), "up"), 0)
	f := newFaultProxy(t)
	proxied := f.url(t, direct)
	for _, cmd := range []string{"status", "verify", "plan"} {
		for _, limit := range []int64{200, 800, 1600, 3200, 6400, 12800, 25600} {
			f.cutAfter(t, limit, "downstream")
			r := cli(t, dbEnv(proxied), cmd, "--connect-timeout", "2s")
			f.heal(t)
			switch {
			case r.code == 0: // the command had read all it needed before the cut
			case r.code != 3:
				t.Errorf("%s, connection cut after %d bytes: exit %d, want 3 (transient)\n%s", cmd, limit, r.code, r.stderr)
			case strings.Contains(r.stderr, "cannot connect") && strings.Contains(r.stderr, "was lost"):
				t.Errorf("%s, connection cut after %d bytes, before it was made: the message says a connection was lost:\n%s", cmd, limit, r.stderr)
			case !strings.Contains(r.stderr, "run the command again") && !strings.Contains(r.stderr, "raise --connect-timeout"):
				t.Errorf("%s, connection cut after %d bytes: the message does not say what to do:\n%s", cmd, limit, r.stderr)
			}
		}
	}
}
