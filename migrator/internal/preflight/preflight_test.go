package preflight_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carthub/carthub-db/migrator/internal/migrate"
	"github.com/carthub/carthub-db/migrator/internal/pgtest"
	"github.com/carthub/carthub-db/migrator/internal/preflight"
	"github.com/carthub/carthub-db/migrator/internal/schema"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const base = `CREATE TABLE customers (id int PRIMARY KEY, email text, code varchar(40), age int);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric(12,2), status text);
`

// pending are files each adding one kind of rule; clean rows pass them all.
var pending = map[string]string{
	"0002_unique_email.sql":    "CREATE UNIQUE INDEX customers_email_key ON customers (lower(email));\n",
	"0003_status_not_null.sql": "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n",
	"0004_total_check.sql":     "ALTER TABLE orders ADD CONSTRAINT orders_total_nonnegative CHECK (total >= 0);\n",
	"0005_orders_customer.sql": "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);\n",
	"0006_short_code.sql":      "ALTER TABLE customers ALTER COLUMN code TYPE varchar(8);\n",
}

func load(t *testing.T, extra map[string]string) []migrate.Migration {
	t.Helper()
	fs := fstest.MapFS{"0001_base.sql": {Data: []byte(base)}}
	for name, sql := range extra {
		fs[name] = &fstest.MapFile{Data: []byte(sql)}
	}
	migs, err := migrate.Load(fs)
	if err != nil {
		t.Fatal(err)
	}
	return migs
}

// live is a database at 0001 with rows; scratch an empty database on the same server.
func live(t *testing.T, migs []migrate.Migration, rows string) (*pgx.Conn, preflight.Scratch) {
	t.Helper()
	ctx := context.Background()
	conn := pgtest.Connect(t, pgtest.NewDB(t))
	opts := migrate.Options{Migrations: migs, Baseline: schema.Snapshot{}, Tables: []string{}}
	m, err := migrate.New(conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx, migrate.UpPlan{Target: 1, Verify: migrate.VerifyNever}, migrate.Hooks{}); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, rows); err != nil {
		t.Fatal(err)
	}
	scratchURL := pgtest.NewDB(t)
	return conn, preflight.Scratch{
		Connect: func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, scratchURL) },
		Engine:  opts, Applied: 1, Pending: migs[1:],
	}
}

const cleanRows = `INSERT INTO customers VALUES (1, 'a@x', 'A1', 30), (2, 'b@x', 'B2', 40), (3, NULL, NULL, NULL), (4, NULL, NULL, NULL);
INSERT INTO orders VALUES (10, 1, 5, 'new'), (11, 2, 0, 'paid'), (12, NULL, 1, 'new');`

// Each kind of rule a file adds is derived from the catalog, counted on the live rows, and
// shown with example keys; the rows that only look alike (NULL emails, NULL customer ids) are
// not counted, as PostgreSQL would not refuse them.
func TestDerivedRulesCountTheLiveRowsThatBreakThem(t *testing.T) {
	ctx := context.Background()
	migs := load(t, pending)
	conn, scratch := live(t, migs, cleanRows+`
INSERT INTO customers VALUES (5, 'A@x', 'TOO-LONG-CODE', 1), (6, 'a@X', 'ok', 2);
INSERT INTO orders VALUES (13, 99, -1, NULL), (14, 98, -2, 'new'), (15, 1, 3, NULL);`)
	d, err := preflight.Derive(ctx, scratch)
	if err != nil {
		t.Fatal(err)
	}
	c, err := preflight.CheckRows(ctx, conn, d.Rules, 10*time.Second)
	broken := c.Broken
	if err != nil || len(c.TimedOut) > 0 {
		t.Fatalf("CheckRows: %v, timed out %v", err, c.TimedOut)
	}
	got := map[string]string{}
	for _, v := range broken {
		got[v.Rule.Kind+" "+v.Rule.Name] = v.String()
	}
	for key, want := range map[string][]string{
		"unique customers_email_key":     {"0002_unique_email.sql", "3 rows break it", "(a@x) (3 rows)"},
		"not-null status":                {"0003_status_not_null.sql", "2 rows break it", "13, 15"},
		"check orders_total_nonnegative": {"0004_total_check.sql", "CHECK ((total >= (0)::numeric))", "2 rows break it", "13, 14"},
		"foreign-key orders_customer_fk": {"0005_orders_customer.sql", "2 rows break it", "13, 14"},
		"narrowed-type code":             {"0006_short_code.sql", "character varying(40) -> character varying(8)", "1 rows break it", "e.g. 5"},
	} {
		line, ok := got[key]
		if !ok {
			t.Errorf("no violation of %s; got %v", key, got)
			continue
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: %q lacks %q", key, line, w)
			}
		}
	}
	if len(broken) != 5 {
		t.Errorf("%d violations, want 5: %v", len(broken), got)
	}
	// The locks the files take on the live tables, from the scratch session's pg_locks.
	tables := d.Tables()
	if tables["orders"].Mode != "AccessExclusiveLock" || tables["customers"].Mode != "AccessExclusiveLock" {
		t.Errorf("tables = %+v", tables)
	}
}

func TestCleanRowsPass(t *testing.T) {
	ctx := context.Background()
	migs := load(t, pending)
	conn, scratch := live(t, migs, cleanRows)
	d, err := preflight.Derive(ctx, scratch)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rules) != 5 {
		t.Errorf("%d rules, want 5: %+v", len(d.Rules), d.Rules)
	}
	c, err := preflight.CheckRows(ctx, conn, d.Rules, 10*time.Second)
	if err != nil || len(c.Broken) > 0 || len(c.TimedOut) > 0 || len(c.Unanswerable) > 0 {
		t.Errorf("clean rows: %+v %v", c, err)
	}
}

// A counting query that runs longer than statement_timeout is reported by rule and table.
func TestCountingQueryTimeout(t *testing.T) {
	ctx := context.Background()
	migs := load(t, map[string]string{"0002_slow.sql": "ALTER TABLE orders ADD CONSTRAINT slow CHECK (total >= 0 AND pg_sleep(0.2) IS NOT NULL);\n"})
	conn, scratch := live(t, migs, cleanRows)
	d, err := preflight.Derive(ctx, scratch)
	if err != nil {
		t.Fatal(err)
	}
	c, err := preflight.CheckRows(ctx, conn, d.Rules, 100*time.Millisecond)
	if err != nil || len(c.Broken) > 0 || len(c.TimedOut) != 1 || c.TimedOut[0].Rule.Table != "orders" || c.TimedOut[0].Rule.Name != "slow" {
		t.Fatalf("counted %+v, err %v", c, err)
	}
	msg := (&preflight.RefusedError{Timeouts: c.TimedOut}).Error()
	if !strings.Contains(msg, "0002_slow.sql: counting the rows of orders that break check slow took longer than 100ms") {
		t.Errorf("message: %s", msg)
	}
}

// A file that does not apply to the live schema fails in the scratch database, with its line.
func TestScratchRefusesAFileThatCannotApply(t *testing.T) {
	migs := load(t, map[string]string{"0002_typo.sql": "ALTER TABLE orders\n  ADD COLUMN note text,\n  ALTER COLUMN nope SET NOT NULL;\n"})
	_, scratch := live(t, migs, cleanRows)
	_, err := preflight.Derive(context.Background(), scratch)
	var se *preflight.ScratchError
	if !errors.As(err, &se) || se.File != "0002_typo.sql" || !strings.Contains(err.Error(), `0002_typo.sql:1:1: ERROR`) || !strings.Contains(err.Error(), `column "nope"`) {
		t.Fatalf("err = %v", err)
	}
}

// A session idle in a transaction that wrote to orders is in the way of an ALTER TABLE orders,
// named with what it holds, and its read of customers in the way of a CREATE INDEX CONCURRENTLY
// there (such a build waits for every transaction on the table); its query's literals are not
// shown. Once it ends, nothing is in the way.
func TestSessionsInTheWay(t *testing.T) {
	ctx := context.Background()
	migs := load(t, map[string]string{
		"0002_orders_check.sql": "ALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0);\n",
		"0003_customers_ix.sql": "-- migrator:no-transaction\nCREATE INDEX CONCURRENTLY customers_age ON customers (age);\n",
	})
	conn, scratch := live(t, migs, cleanRows)
	d, err := preflight.Derive(ctx, scratch)
	if err != nil {
		t.Fatal(err)
	}
	tables := d.Tables()
	if l := tables["customers"]; l.Mode != "ShareUpdateExclusiveLock" || !l.Waits {
		t.Errorf("customers lock = %+v, want a waiting SHARE UPDATE EXCLUSIVE", l)
	}
	cfg, _ := pgx.ParseConfig(conn.Config().ConnString())
	cfg.RuntimeParams["application_name"] = "cart-service"
	other, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	if _, err := other.Exec(ctx, "BEGIN; UPDATE orders SET status = 'x' WHERE id = 10; SELECT * FROM customers WHERE email = 'secret-token'"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	sessions, err := preflight.InTheWay(ctx, conn, tables)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range sessions {
		if !s.IdleInTransaction() || s.Application != "cart-service" || s.PID != int32(other.PgConn().PID()) {
			t.Errorf("session %+v", s)
		}
		lines = append(lines, s.String())
	}
	all := strings.Join(lines, "\n")
	for _, w := range []string{"RowExclusiveLock on orders, in the way of 0002_orders_check.sql's AccessExclusiveLock", "on customers, in the way of 0003_customers_ix.sql's ShareUpdateExclusiveLock",
		"idle in transaction", "email = '…'"} {
		if !strings.Contains(all, w) {
			t.Errorf("sessions lack %q:\n%s", w, all)
		}
	}
	if strings.Contains(all, "secret-token") {
		t.Error("a literal of another session's query was shown")
	}
	if msg := (&preflight.BlockedError{Sessions: sessions, Waited: "1s"}).Error(); !strings.Contains(msg, "SELECT pg_terminate_backend(") {
		t.Errorf("no terminate command: %s", msg)
	}
	if _, err := other.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	left, err := preflight.WaitOut(ctx, conn, tables, time.Second, 20*time.Millisecond)
	if err != nil || len(left) != 0 {
		t.Errorf("after the session ended: %v %v", left, err)
	}
}

// A pending file that rewrites rows before a later file's rule (a backfill) makes the live rows
// say nothing of what the rule will meet: that rule is listed as not counted, with the file that
// writes, instead of refusing rows the backfill fixes. A batched backfill in a DO block that
// commits is seen too, though its loops run zero times on the scratch database's empty tables
// (they run again over a few generated rows, rolled back); a DO block that only reads does not
// hide the rules after it.
func TestBackfillsBeforeARuleLeaveItUncounted(t *testing.T) {
	for _, tt := range []struct {
		name, backfill string
		counted        bool
	}{
		{"plain update", "UPDATE orders SET status = 'new' WHERE status IS NULL;\n", false},
		{"batched do block", `-- migrator:no-transaction
DO $$
DECLARE lo int; hi int;
BEGIN
  SELECT min(id), max(id) INTO lo, hi FROM orders;
  WHILE lo <= hi LOOP
    UPDATE orders SET status = 'new' WHERE id >= lo AND id < lo + 100 AND status IS NULL;
    COMMIT;
    lo := lo + 100;
  END LOOP;
END $$;
`, false},
		{"read-only do block", `DO $$ BEGIN IF (SELECT count(*) FROM customers) < 0 THEN RAISE EXCEPTION 'never'; END IF; END $$;
`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, c := preflightOf(t, map[string]string{"0002_backfill.sql": tt.backfill, "0003_status_not_null.sql": "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n"},
				"INSERT INTO orders VALUES (20, 1, 1, NULL);")
			broken := c.Broken
			if tt.counted {
				if len(broken) != 1 || broken[0].Rule.Name != "status" {
					t.Errorf("broken = %v, want the NOT NULL counted", broken)
				}
				return
			}
			if len(broken) != 0 || len(d.Unchecked) != 1 || !strings.Contains(d.Unchecked[0], "0003_status_not_null.sql: orders not-null status (not counted: 0002_backfill.sql writes rows of orders before it") {
				t.Errorf("broken %v, unchecked %q", broken, d.Unchecked)
			}
		})
	}
}

// What the live rows cannot judge is never refused: a NOT NULL identity column (it fills every
// row), a CHECK on a column a pending file adds, a foreign key to a table a pending file makes or
// to rows it inserts, a rule on a table a pending file renames. Each is listed as not counted.
// A narrowed numeric counts what rounding makes too large.
func TestRulesTheLiveRowsCannotJudge(t *testing.T) {
	for _, tt := range []struct {
		name    string
		files   map[string]string
		rows    string
		broken  int
		counted bool // the rule was counted (else listed as not counted, or, with none, no rule)
	}{
		{"identity column", map[string]string{"0002_seq.sql": "ALTER TABLE orders ADD COLUMN seq int GENERATED ALWAYS AS IDENTITY;\n"}, "", 0, false},
		{"check on a new column", map[string]string{"0002_d.sql": "ALTER TABLE orders ADD COLUMN d numeric DEFAULT 0 CONSTRAINT d_ok CHECK (d >= 0);\n"}, "", 0, false},
		{"foreign key to a new table", map[string]string{"0002_ref.sql": "CREATE TABLE buyers (id int PRIMARY KEY);\nINSERT INTO buyers VALUES (1), (2), (99);\n" +
			"ALTER TABLE orders ADD CONSTRAINT orders_buyer FOREIGN KEY (customer_id) REFERENCES buyers (id);\n"}, "INSERT INTO orders VALUES (30, 99, 1, 'new');", 0, false},
		{"foreign key to rows a pending file inserts", map[string]string{"0002_parent.sql": "INSERT INTO customers VALUES (99, 'z@x', 'Z', 1);\n",
			"0003_fk.sql": "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);\n"}, "INSERT INTO orders VALUES (30, 99, 1, 'new');", 0, false},
		{"renamed table", map[string]string{"0002_rename.sql": "ALTER TABLE orders RENAME TO purchases;\n",
			"0003_nn.sql": "ALTER TABLE purchases ALTER COLUMN status SET NOT NULL;\n"}, "INSERT INTO orders VALUES (30, 1, 1, NULL);", 0, false},
		{"numeric that rounds past the bound", map[string]string{"0002_total.sql": "ALTER TABLE orders ALTER COLUMN total TYPE numeric(4,2);\n"},
			"INSERT INTO orders VALUES (30, 1, 99.996, 'new'), (31, 1, 99.99, 'new');", 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, c := preflightOf(t, tt.files, tt.rows)
			unchecked := append(d.Unchecked, c.Unanswerable...)
			identity := tt.name == "identity column" // no rule at all: the column fills every row
			if len(c.Broken) != tt.broken || (tt.counted && len(d.Rules) == 0) || (!tt.counted && !identity && len(unchecked) == 0) || (identity && len(d.Rules) > 0) {
				t.Errorf("broken %v, rules %d, not counted %q", c.Broken, len(d.Rules), unchecked)
			}
		})
	}
}

// preflightOf derives the rules of the pending files on a live database at 0001 holding
// cleanRows and rows, and counts them there.
func preflightOf(t *testing.T, files map[string]string, rows string) (preflight.Derived, preflight.Counted) {
	t.Helper()
	ctx := context.Background()
	conn, scratch := live(t, load(t, files), cleanRows+"\n"+rows)
	d, err := preflight.Derive(ctx, scratch)
	if err != nil {
		t.Fatal(err)
	}
	c, err := preflight.CheckRows(ctx, conn, d.Rules, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

// queryLog records the SQL a connection sends.
type queryLog struct{ sql []string }

func (l *queryLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.sql = append(l.sql, d.SQL)
	return ctx
}

func (l *queryLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// The rules a row condition judges are counted in one pass over their table, and only the
// broken ones read examples. A rule that names what only a pending file makes does not cost
// the others their count: the pass is counted again rule by rule.
func TestOnePassPerTable(t *testing.T) {
	for _, tt := range []struct {
		name, file             string
		passes                 int // passes over a table (queries of count(*) FILTER)
		broken, examples, none int // broken rules, example queries, rules not counted
	}{
		{"three rules on orders, two on customers", "ALTER TABLE orders ALTER COLUMN status SET NOT NULL, ADD CONSTRAINT total_ok CHECK (total >= 0), ALTER COLUMN total TYPE numeric(6,2);\n" +
			"ALTER TABLE customers ADD CONSTRAINT age_ok CHECK (age >= 0), ALTER COLUMN code TYPE varchar(8);\n", 2, 2, 2, 0},
		{"a rule on a new column beside two", "ALTER TABLE orders ALTER COLUMN status SET NOT NULL, ADD CONSTRAINT total_ok CHECK (total >= 0), ADD COLUMN d numeric DEFAULT 0 CONSTRAINT d_ok CHECK (d >= 0);\n",
			1 + 3, 2, 2, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			conn, scratch := live(t, load(t, map[string]string{"0002_rules.sql": tt.file}), cleanRows+"\nINSERT INTO orders VALUES (13, 1, -1, NULL);")
			d, err := preflight.Derive(ctx, scratch)
			if err != nil {
				t.Fatal(err)
			}
			cfg := conn.Config().Copy()
			log := &queryLog{}
			cfg.Tracer = log
			traced, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer traced.Close(ctx)
			c, err := preflight.CheckRows(ctx, traced, d.Rules, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			examples := 0
			for _, q := range log.sql {
				if strings.Contains(q, " ORDER BY 1 LIMIT") {
					examples++
				}
			}
			if got := strings.Count(strings.Join(log.sql, "\n"), "SELECT count(*) FILTER"); got != tt.passes {
				t.Errorf("%d passes, want %d:\n%s", got, tt.passes, strings.Join(log.sql, "\n"))
			}
			if len(c.Broken) != tt.broken || examples != tt.examples || len(c.Unanswerable) != tt.none || len(c.TimedOut) != 0 {
				t.Errorf("broken %v, %d example queries, not counted %q", c.Broken, examples, c.Unanswerable)
			}
			for _, v := range c.Broken {
				if !strings.HasSuffix(v.String(), "1 rows break it, e.g. 13") {
					t.Errorf("violation %s", v)
				}
			}
		})
	}
}

// The counting queries run without JIT, which compiles each pass anew in every parallel worker
// (on by default, RDS included): a rule that reads the setting sees it off.
func TestCountingRunsWithoutJIT(t *testing.T) {
	ctx := context.Background()
	migs := load(t, map[string]string{
		"0002_jit.sql": "ALTER TABLE orders ADD CONSTRAINT counted_without_jit CHECK (current_setting('jit') = 'off');\n" +
			"ALTER TABLE customers ADD CONSTRAINT counted_without_jit_too CHECK (current_setting('jit') = 'off');\n",
	})
	conn, scratch := live(t, migs, cleanRows)
	if _, err := conn.Exec(ctx, "SET jit = on"); err != nil {
		t.Fatal(err)
	}
	d, err := preflight.Derive(ctx, scratch)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rules) != 2 {
		t.Fatalf("rules %+v", d.Rules)
	}
	c, err := preflight.CheckRows(ctx, conn, d.Rules, 10*time.Second)
	if err != nil || len(c.Broken) > 0 || len(c.TimedOut) > 0 {
		t.Errorf("counted with JIT on: %+v, %v", c, err)
	}
}
