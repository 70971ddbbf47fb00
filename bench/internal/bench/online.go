package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// OnlineResult is what the cart workload saw while the migrations ran.
type OnlineResult struct {
	FailedTransactions int     `json:"failed_transactions"`
	MaxLockWaitMs      float64 `json:"max_lock_wait_ms"`
	P50Before          float64 `json:"p50_ms_before"`
	P99Before          float64 `json:"p99_ms_before"`
	MaxBefore          float64 `json:"max_ms_before"`
	P50During          float64 `json:"p50_ms_during"`
	P99During          float64 `json:"p99_ms_during"`
	MaxDuring          float64 `json:"max_ms_during"`
	MigrationS         float64 `json:"migration_s"`
	Transactions       int     `json:"transactions"`
	MigrationExitCode  int     `json:"migration_exit_code"`
	// PlanRetries counts transactions that failed with "cached plan must not change result type"
	// (the timestamp columns change type) and were retried once: they are counted in
	// FailedTransactions too, since a service without that retry fails them (lint's
	// breaks-running-app says the same of 0002).
	PlanRetries int            `json:"plan_retries"`
	Errors      map[string]int `json:"errors,omitempty"`
}

// Online runs the workload for warm (baseline) and then during migrate, and reports both phases.
func Online(ctx context.Context, url string, rate, carts int, warm time.Duration, migrate *exec.Cmd) (OnlineResult, error) {
	w, err := NewWorkload(ctx, url, rate, carts)
	if err != nil {
		return OnlineResult{}, err
	}
	defer w.Pool.Close()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	start := time.Now()
	time.Sleep(warm)
	t1 := time.Now()
	lctx, stopWatch := context.WithCancel(ctx)
	waited := make(chan time.Duration, 1)
	go func() { waited <- WatchLockWaits(lctx, url) }()
	var out strings.Builder
	migrate.Stdout, migrate.Stderr = &out, &out
	runErr := migrate.Run()
	t2 := time.Now()
	stopWatch()
	time.Sleep(time.Second) // let transactions scheduled during the migration finish
	stop()
	<-done
	res := OnlineResult{MigrationS: Round(t2.Sub(t1).Seconds()), MaxLockWaitMs: Round(float64((<-waited).Microseconds()) / 1000)}
	if runErr != nil {
		res.MigrationExitCode = migrate.ProcessState.ExitCode()
		fmt.Fprintf(os.Stderr, "bench: migration exited %d:\n%s\n", res.MigrationExitCode, tail(out.String(), 20))
	}
	before, _ := w.Between(start.Add(warm/5), t1) // the first fifth warms the pool and caches
	during, failed := w.Between(t1, t2)
	b, d := Summarise(before), Summarise(during)
	res.P50Before, res.P99Before, res.MaxBefore = b.Median, b.P99, b.Max
	res.P50During, res.P99During, res.MaxDuring = d.Median, d.P99, d.Max
	res.PlanRetries = w.Replans()
	res.FailedTransactions, res.Transactions = failed+res.PlanRetries, len(during)
	res.Errors = w.Errors()
	return res, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// naiveMigrations reach the same schema the way a hurried engineer would: one transaction per
// file, constraints validated at once, NOT NULL set directly, plain CREATE INDEX, a single
// UPDATE for the backfill, and no lock_timeout.
var naiveMigrations = map[string]string{
	"0002_timestamptz.sql": `SET LOCAL timezone TO 'UTC';
ALTER TABLE carts ALTER COLUMN created_at TYPE timestamptz, ALTER COLUMN created_at SET DEFAULT now(), ALTER COLUMN updated_at TYPE timestamptz, ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE cart_items ALTER COLUMN created_at TYPE timestamptz, ALTER COLUMN created_at SET DEFAULT now(), ALTER COLUMN updated_at TYPE timestamptz, ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE orders ALTER COLUMN created_at TYPE timestamptz, ALTER COLUMN created_at SET DEFAULT now(), ALTER COLUMN updated_at TYPE timestamptz, ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE order_items ALTER COLUMN created_at TYPE timestamptz, ALTER COLUMN created_at SET DEFAULT now();
`,
	"0003_backfill_nulls.sql": `UPDATE carts SET created_at = coalesce(created_at, updated_at, now()), updated_at = coalesce(updated_at, created_at, now()) WHERE created_at IS NULL OR updated_at IS NULL;
UPDATE cart_items SET created_at = coalesce(created_at, updated_at, now()), updated_at = coalesce(updated_at, created_at, now()) WHERE created_at IS NULL OR updated_at IS NULL;
UPDATE orders SET created_at = coalesce(created_at, updated_at, now()), updated_at = coalesce(updated_at, created_at, now()), status = coalesce(status, 'pending') WHERE created_at IS NULL OR updated_at IS NULL OR status IS NULL;
UPDATE order_items SET created_at = now() WHERE created_at IS NULL;
`,
	"0004_check_constraints.sql": `ALTER TABLE cart_items ADD CONSTRAINT cart_items_price_nonnegative CHECK (price >= 0), ADD CONSTRAINT cart_items_quantity_positive CHECK (quantity > 0),
  ALTER COLUMN cart_id SET NOT NULL, ALTER COLUMN created_at SET NOT NULL, ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE carts ALTER COLUMN created_at SET NOT NULL, ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_total_amount_nonnegative CHECK (total_amount >= 0),
  ADD CONSTRAINT orders_status_valid CHECK (status IN ('pending', 'processing', 'shipped', 'delivered', 'cancelled')),
  ALTER COLUMN status SET NOT NULL, ALTER COLUMN created_at SET NOT NULL, ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE order_items ADD CONSTRAINT order_items_price_nonnegative CHECK (price >= 0), ADD CONSTRAINT order_items_quantity_positive CHECK (quantity > 0),
  ALTER COLUMN order_id SET NOT NULL, ALTER COLUMN created_at SET NOT NULL;
`,
	"0005_query_indexes.sql": `CREATE INDEX idx_orders_customer_id_created_at ON orders (customer_id, created_at DESC);
CREATE INDEX idx_orders_open_status ON orders (status, created_at) WHERE status IN ('pending', 'processing');
DROP INDEX idx_orders_customer_id;
DROP INDEX idx_orders_status;
DROP INDEX idx_carts_customer_id;
DROP INDEX idx_cart_items_cart_id;
`,
}

// WriteNaive writes the naive migrations into dir, with our baseline and its snapshot so that
// the legacy database is adopted exactly as in the careful run.
func WriteNaive(dir string, baseline, baselineSchema []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{"0001_baseline.sql": baseline, "baseline-schema.sql": baselineSchema}
	for k, v := range naiveMigrations {
		files[k] = []byte(v)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// QueryResult says whether a workload query uses an index at full size, and how fast it is.
type QueryResult struct {
	PlanUsesIndex bool    `json:"plan_uses_index"`
	MedianMs      float64 `json:"median_ms"`
	Plan          string  `json:"plan"`
}

// ExplainQueries checks the plan of every workload query at full size and times it. Writes run
// in a transaction that is rolled back, so timing them changes nothing.
func ExplainQueries(ctx context.Context, conn *pgx.Conn, carts int) (map[string]QueryResult, error) {
	var someOrder int64
	if err := conn.QueryRow(ctx, "SELECT max(id) / 2 FROM orders").Scan(&someOrder); err != nil {
		return nil, err
	}
	c := carts / 2
	args := map[string][]any{
		"cart_by_customer":    {customer(c)},
		"customer_orders":     {customer(carts / 3)},
		"order_items":         {someOrder},
		"open_orders":         nil,
		"upsert_cart_item":    {c, "sku-00001"},
		"update_quantity":     {2, c, "sku-00001"},
		"checkout_order":      {customer(c), c},
		"checkout_items":      {someOrder, c},
		"checkout_empty_cart": {c},
	}
	out := map[string]QueryResult{}
	for name, a := range args {
		var plan []map[string]any
		if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+Queries[name], a...).Scan(&plan); err != nil {
			return nil, fmt.Errorf("explain %s: %w", name, err)
		}
		nodes := planNodes(plan[0]["Plan"].(map[string]any))
		scans, seq := 0, false
		for _, n := range nodes {
			if strings.Contains(n, "Scan") {
				scans++
			}
			if strings.HasPrefix(n, "Seq Scan") {
				seq = true
			}
		}
		var lat []time.Duration
		for i := 0; i < 50; i++ {
			tx, err := conn.Begin(ctx)
			if err != nil {
				return nil, err
			}
			t := time.Now()
			rows, err := tx.Query(ctx, Queries[name], a...)
			if err == nil {
				rows.Close()
				err = rows.Err()
			}
			lat = append(lat, time.Since(t))
			_ = tx.Rollback(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		b, _ := json.Marshal(nodes)
		// An index path, or no scan at all (a plain INSERT); never a sequential scan.
		out[name] = QueryResult{PlanUsesIndex: !seq && (scans == 0 || strings.Contains(string(b), "Index")), MedianMs: Summarise(lat).Median, Plan: string(b)}
	}
	return out, nil
}

func planNodes(p map[string]any) []string {
	n := fmt.Sprint(p["Node Type"])
	if rel, ok := p["Relation Name"]; ok {
		n += " on " + fmt.Sprint(rel)
	}
	if idx, ok := p["Index Name"]; ok {
		n += " using " + fmt.Sprint(idx)
	}
	out := []string{n}
	if kids, ok := p["Plans"].([]any); ok {
		for _, k := range kids {
			out = append(out, planNodes(k.(map[string]any))...)
		}
	}
	return out
}
